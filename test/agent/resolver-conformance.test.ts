// The resolver on the index genuine WAPT wrote (fixtures/conformance/wapt-made/repo/Packages):
// tis-group-demo depends on tis-hello(>=1.2) and tis-extra (x64, DEV, fr), conflicts with tis-old.
import { fileURLToPath } from 'node:url';
import { explain, resolve, type Candidate } from '../../src/agent/resolver/index.js';
import { field, parseControl } from '../../src/package/control.js';
import { readZipMemberOnce } from '../../src/package/zip-reader.js';
import { env, inst, names, thrown } from './resolver-builders.js';

const INDEX = fileURLToPath(new URL('../../fixtures/conformance/wapt-made/repo/Packages', import.meta.url));
let repo: Candidate[] = [];
// tis-hello declares target_os linux
const linux = (over: Parameters<typeof env>[0] = {}) => env({ os: 'linux', osVersion: '6.8', ...over });

beforeAll(async () => {
  const text = (await readZipMemberOnce(INDEX, 'Packages', 1 << 20)).toString('utf8');
  repo = text
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block, i) => {
      const control = parseControl(block, { source: `Packages entry ${i + 1}` });
      return { control, repo: 'wapt-made', repoPriority: 0, filename: field(control, 'filename'), md5sum: field(control, 'md5sum') };
    });
});

test('the index holds the four entries WAPT made', () => {
  expect(repo.map((c) => `${field(c.control, 'package')} ${field(c.control, 'version')}`).sort()).toEqual([
    'tis-extra 0.9-2',
    'tis-group-demo 3-1',
    'tis-hello 1.10.0-1',
    'tis-hello 1.2.3-4',
  ]);
});

test('a PROD-only host cannot take tis-extra (DEV): UNSATISFIABLE with the chain and the reason', () => {
  const e = thrown(() => resolve({ kind: 'install', names: ['tis-group-demo'] }, repo, [], linux()));
  expect(e.code).toBe('UNSATISFIABLE');
  expect(e.message).toBe(
    'tis-extra ← required by tis-group-demo ← requested\n' + '  available: tis-extra 0.9-2 (DEV: maturity DEV not accepted (accepted: PROD, (unset)))',
  );
});

test('a DEV-accepting x64 fr host: group installed, tis-hello 1.10.0-1 (W-B4) and tis-extra additional, tis-old removed', () => {
  const plan = resolve({ kind: 'install', names: ['tis-group-demo'] }, repo, [inst('tis-old 1-1')], linux({ maturities: ['PROD', 'DEV'] }));
  expect(names(plan.install)).toEqual(['tis-group-demo 3-1']);
  expect(names(plan.additional).sort()).toEqual(['tis-extra 0.9-2', 'tis-hello 1.10.0-1']);
  expect(plan.remove.map((s) => [s.package, s.reason])).toEqual([['tis-old', 'conflicts with tis-group-demo']]);
  expect(names(plan.order)).toEqual(['tis-old', 'tis-extra 0.9-2', 'tis-hello 1.10.0-1', 'tis-group-demo 3-1']);
  expect(plan.additional.find((s) => s.package === 'tis-extra')?.candidate?.filename).toBe('tis-extra_0.9-2_x64_DEV_fr.wapt');
});

test('an x86 host with DEV accepted is refused tis-extra for its architecture', () => {
  const r = explain('tis-extra', repo, linux({ architecture: 'x86', maturities: ['PROD', 'DEV'] }));
  expect(r.chosen).toBeNull();
  expect(r.candidates[0]?.reason).toBe('architecture x64 does not match this host (x86)');
});
