// DIR/.wapt-get-mirror.json: the rollback mark only rises, and a state that is not ours is
// refused rather than silently forgotten (forgetting it would re-open rollback).
import { mkdtemp, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MIRROR_STATE_FILE, emptyState, raiseTrust, readMirrorState, writeMirrorState } from '../../src/agent/mirror/state.js';

const dir = () => mkdtemp(path.join(os.tmpdir(), 'wapt-mirror-state-'));

test('written 0600, read back; the mark rises and never falls (equal keeps the first digest)', async () => {
  const d = await dir();
  const s = emptyState();
  raiseTrust(s, { repository: 'prod', version: 5, packagesSha256: 'aa', statementVersion: 5 });
  raiseTrust(s, { repository: 'prod', version: 3, packagesSha256: 'bb', statementVersion: 3 });
  raiseTrust(s, { repository: 'prod', version: 5, packagesSha256: 'cc', statementVersion: 5 });
  expect(s).toMatchObject({ repository: 'prod', trust: { prod: { version: 5, packages_sha256: 'aa' } } });
  // a freshness renewal raises the effective version, the content mark stays
  raiseTrust(s, { repository: 'prod', version: 7, packagesSha256: 'aa', statementVersion: 5 });
  expect(s.trust.prod).toEqual({ version: 7, packages_sha256: 'aa', statement_version: 5, statement_packages_sha256: 'aa' });
  await writeMirrorState(d, s);
  expect((await stat(path.join(d, MIRROR_STATE_FILE))).mode & 0o777).toBe(0o600);
  expect(await readMirrorState(d)).toEqual(s);
});

test('no state file: an empty state (a cold mirror)', async () => {
  expect(await readMirrorState(await dir())).toEqual(emptyState());
});

test.each([
  ['not JSON', '{"format":1,'],
  ['not a mirror state', '{"format":2,"trust":{}}'],
  ['a trust mark that is not one', '{"format":1,"trust":{"prod":{"version":"9"}}}'],
])('a state file that is %s is refused with STATE_UNSAFE (the rollback mark is never forgotten silently)', async (_why, text) => {
  const d = await dir();
  await writeFile(path.join(d, MIRROR_STATE_FILE), text);
  await expect(readMirrorState(d)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
});

test('a symlink planted at the state file is refused, not followed', async () => {
  const d = await dir();
  const other = path.join(d, 'elsewhere.json');
  await writeFile(other, JSON.stringify(emptyState()));
  await symlink(other, path.join(d, MIRROR_STATE_FILE));
  await expect(readMirrorState(d)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
});
