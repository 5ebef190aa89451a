// `wapt-get compare-versions A OP B`: the W-B4 order as a shell test, like
// `dpkg --compare-versions`. Exit 0 when the relation holds, 1 when it does not.
import { WaptError } from '../../errors.js';
import { compareVersions } from '../../package/index.js';
import type { CommandSpec } from '../command.js';

type Relation = (c: -1 | 0 | 1) => boolean;

const RELATIONS: Record<string, Relation> = {
  lt: (c) => c < 0,
  le: (c) => c <= 0,
  eq: (c) => c === 0,
  ne: (c) => c !== 0,
  ge: (c) => c >= 0,
  gt: (c) => c > 0,
  '<<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '=': (c) => c === 0,
  '==': (c) => c === 0,
  '!=': (c) => c !== 0,
  '>=': (c) => c >= 0,
  '>>': (c) => c > 0,
};

export const COMPARISON_OPERATORS: readonly string[] = Object.keys(RELATIONS);

/** True when `a OP b` holds under W-B4. Throws USAGE for an unknown OP, VERSION_INVALID for a bad version. */
export function evaluateComparison(a: string, op: string, b: string): boolean {
  const relation = RELATIONS[op];
  if (!relation) {
    // dpkg reads a lone "<" or ">" as "<=" / ">=": too surprising to copy, so refuse it.
    throw new WaptError('USAGE', `unknown operator ${JSON.stringify(op)}; use one of ${COMPARISON_OPERATORS.join(' ')}`, {
      detail: { operator: op },
    });
  }
  return relation(compareVersions(a, b));
}

export const command: CommandSpec = {
  name: 'compare-versions',
  summary: 'compare two package versions (exit 0 if the relation holds, 1 if not)',
  args: ['<a>', '<op>', '<b>'],
  help: [
    'Operators: lt le eq ne ge gt, or << <= = == != >= >>.',
    'Order (W-B4): software part member by member (natural order, 4 members), then',
    'the packaging integer; no packaging sorts below any: 1.0 < 1.0-0, 7 = 7.0.0.0.',
    '',
    'Examples:',
    '  wapt-get compare-versions 1.2.3-4 lt 1.10.0-1 && echo older',
    '',
    'Exit codes: 0 true, 1 false, 2 malformed version or unknown operator.',
  ].join('\n'),
  async run(ctx, args) {
    const [a, op, b] = args as [string, string, string];
    const result = evaluateComparison(a, op, b);
    // Like dpkg: the answer is the exit code; only --json prints it.
    ctx.out.result({ a, op, b, result }, () => []);
    return result ? 0 : 1;
  },
};
