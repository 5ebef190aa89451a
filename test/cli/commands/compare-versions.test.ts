import { PassThrough } from 'node:stream';
import { command, COMPARISON_OPERATORS, evaluateComparison } from '../../../src/cli/commands/compare-versions.js';
import { Output } from '../../../src/cli/output.js';

describe('evaluateComparison (W-B4, dpkg-style operators)', () => {
  test.each([
    ['1.2.3-4', 'lt', '1.10.0-1', true],
    ['1.2.3-4', '<<', '1.10.0-1', true],
    ['1.2.3-4', 'gt', '1.10.0-1', false],
    ['1.2.3-4', '>>', '1.10.0-1', false],
    ['7', 'eq', '7.0.0.0', true],
    ['7', '=', '7.0.0.0', true],
    ['7', '==', '7.0.0.0', true],
    ['7', 'ne', '7.0.0.0', false],
    ['7', '!=', '7.0-1', true],
    ['1.0', 'lt', '1.0-0', true],
    ['1.0', 'le', '1.0', true],
    ['1.0', '<=', '1.0-0', true],
    ['1.0-0', 'le', '1.0', false],
    ['1.0-0', 'ge', '1.0', true],
    ['1.0-0', '>=', '1.0-0', true],
    ['1.2rc1', 'lt', '1.2rc10', true],
  ])('%s %s %s → %s', (a, op, b, expected) => {
    expect(evaluateComparison(a, op, b)).toBe(expected);
  });
  test('every listed operator is accepted', () => {
    expect(COMPARISON_OPERATORS).toEqual(expect.arrayContaining(['lt', 'le', 'eq', 'ne', 'ge', 'gt', '<<', '<=', '=', '==', '!=', '>=', '>>']));
    for (const op of COMPARISON_OPERATORS) expect(typeof evaluateComparison('1', op, '2')).toBe('boolean');
  });
  test.each(['<', '>', 'lt-nl', '=>', ''])('bad input: operator %j is a USAGE error', (op) => {
    expect(() => evaluateComparison('1', op, '2')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
  test('bad input: a malformed version is VERSION_INVALID (exit 2)', () => {
    let err: any;
    try {
      evaluateComparison('1.0-rc', 'lt', '2');
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('VERSION_INVALID');
    expect(err.exitCode).toBe(2);
  });
});

describe('compare-versions command', () => {
  function ctx(json: boolean) {
    const stdout = new PassThrough();
    const chunks: string[] = [];
    stdout.on('data', (c) => chunks.push(String(c)));
    const out = new Output({ json, quiet: false, verbose: false, color: false, stdout, stderr: new PassThrough() });
    return { ctx: { out, configPath: undefined, env: {}, cwd: process.cwd() }, text: () => chunks.join('') };
  }
  test('exit 0 when true, 1 when false, nothing printed', async () => {
    const c = ctx(false);
    expect(await command.run(c.ctx, ['1.0', 'lt', '1.0-1'], {})).toBe(0);
    expect(await command.run(c.ctx, ['1.0-1', 'lt', '1.0'], {})).toBe(1);
    expect(c.text()).toBe('');
  });
  test('--json prints the verdict', async () => {
    const c = ctx(true);
    expect(await command.run(c.ctx, ['2', 'gt', '10'], {})).toBe(1);
    expect(JSON.parse(c.text())).toEqual({ a: '2', op: 'gt', b: '10', result: false });
  });
  test('declares three positional arguments', () => {
    expect(command.name).toBe('compare-versions');
    expect(command.args).toEqual(['<a>', '<op>', '<b>']);
  });
});
