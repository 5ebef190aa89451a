// F3A: the agent's acceptance rules for a signed action, each refusal by name, against
// real RSA keys and a real trust store (action_signers_dir).
import { createCaCertificate, generateRsaKeyPair, issueCertificate, TrustStore } from '../../src/crypto/index.js';
import { signAction, verifyAction, type SignedAction } from '../../src/protocol/index.js';

const HOST = 'A0000000-0000-4000-8000-00000000000a';
let trust: TrustStore;
let signer: { key: any; chain: any[] };
let stranger: { key: any; chain: any[] };

beforeAll(async () => {
  const caKey = await generateRsaKeyPair(2048);
  const ca = await createCaCertificate({ commonName: 'Actions CA', key: caKey, days: 30 });
  const k = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({
    commonName: 'admin',
    publicKey: k.publicKey,
    issuer: { cert: ca, privateKey: caKey.privateKey },
    codeSigning: false,
    days: 30,
  });
  signer = { key: k.privateKey, chain: [cert, ca] };
  const s = await generateRsaKeyPair(2048);
  const sc = await issueCertificate({ commonName: 'mallory', publicKey: s.publicKey, privateKey: s.privateKey, codeSigning: false, days: 30 });
  stranger = { key: s.privateKey, chain: [sc] };
  trust = TrustStore.fromCertificates([ca]);
});

const now = new Date();
const opts = (o: Partial<{ at: Date; host: string; ran: string[] }> = {}) => ({
  trust,
  hostUuid: o.host ?? HOST,
  now: o.at ?? now,
  alreadyRun: (id: string) => (o.ran ?? []).includes(id),
});
const sign = (o: Partial<{ host: string; window: number; at: Date }> = {}) =>
  signAction({ hostUuid: o.host ?? HOST, action: 'install', args: ['tis-a'], windowSecs: o.window }, signer, o.at ?? now);

test('a well-signed action for this host, now, never run, is accepted', () => {
  const a = sign();
  expect(verifyAction(a, opts())).toMatchObject({ action: 'install', args: ['tis-a'], host_uuid: HOST });
  expect(Date.parse(a.not_after) - Date.parse(a.signed_at)).toBe(60_000); // F3A default window
});

test('action with bad signature → ACTION_BAD_SIGNATURE (args changed after signing)', () => {
  const a = { ...sign(), args: ['tis-evil'] } as SignedAction;
  expect(() => verifyAction(a, opts())).toThrow(expect.objectContaining({ code: 'ACTION_BAD_SIGNATURE' }));
});

test('action with untrusted signer → ACTION_SIGNER_UNTRUSTED', () => {
  const a = signAction({ hostUuid: HOST, action: 'upgrade', args: [] }, stranger, now);
  expect(() => verifyAction(a, opts())).toThrow(expect.objectContaining({ code: 'ACTION_SIGNER_UNTRUSTED' }));
});

test('action for other UUID → ACTION_WRONG_HOST', () => {
  expect(() => verifyAction(sign({ host: 'B0000000-0000-4000-8000-00000000000b' }), opts())).toThrow(expect.objectContaining({ code: 'ACTION_WRONG_HOST' }));
});

test('action before signed_at (more than 60 s ahead) → ACTION_NOT_YET_VALID; within 60 s is fine', () => {
  const a = sign({ window: 600 });
  expect(() => verifyAction(a, opts({ at: new Date(now.getTime() - 120_000) }))).toThrow(expect.objectContaining({ code: 'ACTION_NOT_YET_VALID' }));
  expect(verifyAction(a, opts({ at: new Date(now.getTime() - 30_000) })).id).toBe(a.id);
});

test('action after not_after → ACTION_EXPIRED; an admin may sign a longer window', () => {
  expect(() => verifyAction(sign(), opts({ at: new Date(now.getTime() + 61_000) }))).toThrow(expect.objectContaining({ code: 'ACTION_EXPIRED' }));
  expect(verifyAction(sign({ window: 3600 }), opts({ at: new Date(now.getTime() + 61_000) }))).toBeTruthy();
});

test('replayed action id → ACTION_REPLAYED', () => {
  const a = sign();
  expect(() => verifyAction(a, opts({ ran: [a.id] }))).toThrow(expect.objectContaining({ code: 'ACTION_REPLAYED' }));
});

test('an unsigned extra attribute or an unknown action is refused (ACTION_INVALID)', () => {
  expect(() => verifyAction({ ...sign(), extra: 1 }, opts())).toThrow(expect.objectContaining({ code: 'ACTION_INVALID' }));
  expect(() => signAction({ hostUuid: HOST, action: 'rm-rf' as never, args: [] }, signer)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID' }));
  expect(() => signAction({ hostUuid: HOST, action: 'install', args: ['/etc/passwd'] }, signer)).toThrow(expect.objectContaining({ code: 'ACTION_INVALID' }));
});
