// The ONE store test suite, run against every backend (files here, PostgreSQL in
// test/fleet/pg-store.test.ts): same calls, same answers.
import type { FleetStore } from '../../src/server/store/index.js';
import { signReport } from '../../src/protocol/index.js';
import type { Host } from './fleet-helpers.js';

type Maker = () => Promise<FleetStore>;

export function storeSuite(name: string, make: Maker, hosts: () => { a: Host; b: Host }): void {
  describe(`store suite: ${name}`, () => {
    let store: FleetStore;
    beforeAll(async () => {
      store = await make();
    });
    afterAll(async () => {
      await store?.close();
    });
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const reg = (h: Host, seq: number, fp?: string) =>
      store.register({
        key: h.uuid.toLowerCase(),
        uuid: h.uuid,
        fingerprint: fp ?? `fp-${h.uuid}`,
        sequence: seq,
        at: at(seq),
        hostname: `pc-${h.uuid}`,
        certificate: h.pem,
        claim: signReport(
          'inventory',
          h.uuid,
          seq,
          { hostname: `pc-${h.uuid}`, packages: [{ package: 'tis-a', version: '1-1', install_status: 'OK' }] },
          { key: h.key, chain: [h.cert] },
        ),
      });

    test('register, then a replayed or lower sequence is refused (REPLAY)', async () => {
      const { a } = hosts();
      expect(await reg(a, 10)).toEqual({ ok: true, created: true });
      expect(await reg(a, 10)).toMatchObject({ ok: false, reason: 'REPLAY' });
      expect(await reg(a, 11)).toEqual({ ok: true, created: false });
    });

    test('one certificate, one UUID: the same fingerprint for another UUID is refused (CERT_IN_USE)', async () => {
      const { a, b } = hosts();
      expect(await reg(b, 5, `fp-${a.uuid}`)).toMatchObject({ ok: false, reason: 'CERT_IN_USE' });
    });

    test('another certificate for a known UUID is refused (CERT_CONFLICT)', async () => {
      const { a } = hosts();
      expect(await reg(a, 50, 'fp-other')).toMatchObject({ ok: false, reason: 'CERT_CONFLICT' });
    });

    test('status: unknown host, wrong fingerprint, replay; accepted one moves last_sequence', async () => {
      const { a, b } = hosts();
      const s = (h: Host, seq: number, fp = `fp-${h.uuid}`) =>
        store.acceptStatus({ key: h.uuid.toLowerCase(), uuid: h.uuid, fingerprint: fp, sequence: seq, at: at(seq), hostname: '', claim: null });
      expect(await s(b, 1)).toMatchObject({ ok: false, reason: 'UNKNOWN_HOST' });
      expect(await s(a, 20, 'fp-x')).toMatchObject({ ok: false, reason: 'SIGNER_MISMATCH' });
      expect(await s(a, 11)).toMatchObject({ ok: false, reason: 'REPLAY' });
      expect(await s(a, 12)).toEqual({ ok: true, created: false });
      expect((await store.getHost(a.uuid.toLowerCase()))!.last_sequence).toBe(12);
    });

    test('two concurrent reports with the same sequence: exactly one wins', async () => {
      const { a } = hosts();
      const s = () =>
        store.acceptStatus({ key: a.uuid.toLowerCase(), uuid: a.uuid, fingerprint: `fp-${a.uuid}`, sequence: 30, at: at(30), hostname: '', claim: null });
      const r = await Promise.all([s(), s(), s(), s()]);
      expect(r.filter((x) => x.ok)).toHaveLength(1);
    });

    test('list: pagination with after, filters by state, package and q; package stats; export', async () => {
      const { a, b } = hosts();
      await reg(b, 3);
      const p1 = await store.listHosts({ limit: 1 });
      expect(p1.hosts).toHaveLength(1);
      expect(p1.next).not.toBeNull();
      const p2 = await store.listHosts({ limit: 1, after: p1.next! });
      expect(p2.hosts).toHaveLength(1);
      expect(p2.hosts[0]!.host_uuid).not.toBe(p1.hosts[0]!.host_uuid);
      expect(p2.next).toBeNull();
      expect((await store.listHosts({ limit: 10, q: b.uuid.slice(0, 6).toLowerCase() })).hosts.map((h) => h.host_uuid)).toEqual([b.uuid]);
      expect((await store.listHosts({ limit: 10, package: 'tis-a' })).hosts).toHaveLength(2);
      expect((await store.listHosts({ limit: 10, package: 'tis-none' })).hosts).toHaveLength(0);
      expect((await store.listHosts({ limit: 10, state: 'OK' })).hosts).toHaveLength(2);
      expect((await store.listHosts({ limit: 10, state: 'ERROR' })).hosts).toHaveLength(0);
      expect(await store.packageStats()).toEqual([{ package: 'tis-a', version: '1-1', OK: 2, ERROR: 0, 'NEED-UPGRADE': 0, pending: 0 }]);
      expect((await store.packageHosts('tis-a', 'OK', 10)).hosts).toHaveLength(2);
      const all = [];
      for await (const h of store.exportHosts()) all.push(h.host_uuid);
      expect(all.sort()).toEqual([a.uuid, b.uuid].sort());
      expect(await store.countHosts()).toBe(2);
    });

    test('report history keeps the signed claims whole', async () => {
      const { a } = hosts();
      const hist = await store.reportHistory(a.uuid.toLowerCase(), 10);
      expect(hist.map((r) => r.sequence)).toEqual([11, 10]);
      expect(hist[0]!.claim.signature).toEqual(expect.any(String));
    });

    test('enrolment tokens: uses counted atomically, expiry, revocation, unknown', async () => {
      const now = new Date();
      const t = (id: string, uses: number, expiresIn: number) => ({
        id,
        hash: `h-${id}`,
        label: 'site-a',
        uses_left: uses,
        uses_total: uses,
        expires_at: new Date(now.getTime() + expiresIn).toISOString(),
        created_at: now.toISOString(),
        revoked_at: null,
      });
      await store.addEnrollToken(t('t1', 2, 60_000));
      await store.addEnrollToken(t('t2', 5, -1000));
      await store.addEnrollToken(t('t3', 5, 60_000));
      const uses = await Promise.all([1, 2, 3, 4].map(() => store.useEnrollToken('h-t1', now)));
      expect(uses.filter((u) => u === 'OK')).toHaveLength(2);
      expect(uses.filter((u) => u === 'USED_UP')).toHaveLength(2);
      expect(await store.useEnrollToken('h-t2', now)).toBe('EXPIRED');
      expect(await store.revokeEnrollToken('t3', now.toISOString())).toBe(true);
      expect(await store.useEnrollToken('h-t3', now)).toBe('REVOKED');
      expect(await store.useEnrollToken('h-none', now)).toBe('UNKNOWN');
      expect((await store.listEnrollTokens()).find((x) => x.id === 't1')).toMatchObject({ uses_left: 0, label: 'site-a' });
    });

    test('actions: queued, pending until an outcome, expired ones not handed out', async () => {
      const { a } = hosts();
      const key = a.uuid.toLowerCase();
      const action = (id: string, notAfter: string) => ({ id, host_uuid: a.uuid, action: 'update', args: [], signed_at: at(0), not_after: notAfter }) as never;
      const future = new Date(Date.now() + 60_000).toISOString();
      await store.queueAction({
        id: 'act-00001',
        host_key: key,
        action: action('act-00001', future),
        queued_by: 'op',
        queued_at: at(1),
        not_after: future,
        outcome: null,
      });
      await store.queueAction({
        id: 'act-00002',
        host_key: key,
        action: action('act-00002', at(2)),
        queued_by: 'op',
        queued_at: at(2),
        not_after: at(2),
        outcome: null,
      });
      expect((await store.pendingActions(key, new Date())).map((x) => x.id)).toEqual(['act-00001']);
      await store.recordOutcomes(key, [{ id: 'act-00001', result: 'OK', error_code: null, message: null, at: at(3) }]);
      expect(await store.pendingActions(key, new Date())).toEqual([]);
      expect((await store.listActions(10, key)).find((x) => x.id === 'act-00001')!.outcome).toMatchObject({ result: 'OK' });
    });

    test('forget keeps a tombstone: an old sequence cannot register again, a newer one can', async () => {
      const { b } = hosts();
      const key = b.uuid.toLowerCase();
      expect(await store.forget(key, at(40))).toBe(true);
      expect(await store.getHost(key)).toBeUndefined();
      expect(await store.getTombstone(key)).toMatchObject({ last_sequence: 3, fingerprint: `fp-${b.uuid}` });
      expect(await reg(b, 3, 'fp-new')).toMatchObject({ ok: false, reason: 'REPLAY' });
      expect(await reg(b, 4, 'fp-new')).toEqual({ ok: true, created: true });
      expect(await store.forget('no-such-host', at(41))).toBe(false);
    });

    test('retention: old reports deleted, hosts not seen for long forgotten', async () => {
      const r = await store.prune(new Date(Date.UTC(2026, 0, 1, 0, 0, 20)), 5_000, null);
      expect(r.reports).toBeGreaterThan(0);
      const gone = await store.prune(new Date(Date.UTC(2030, 0, 1)), null, 86_400_000);
      expect(gone.hosts).toBe(2);
      expect(await store.countHosts()).toBe(0);
    });
  });
}
