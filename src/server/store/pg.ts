// The PostgreSQL store (`serve --db postgres://…`): several serve instances behind a load
// balancer share it. Every guard is one SQL statement (or one transaction holding the
// row lock): the replay check is `... WHERE last_sequence < $seq`, so of two instances
// accepting the same report exactly one wins.
import pg from 'pg';
import type { ActionOutcome, SignedAction } from '../../protocol/index.js';
import { verdictOf } from './enroll-file.js';
import { SCHEMA_SQL } from './pg-schema.js';
import { summarizeHost } from './summary.js';
import type * as T from './types.js';

/** A database that cannot be reached: the API answers 503 STORE_UNAVAILABLE, never a 500. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

function wrap(err: unknown): never {
  const e = err as { code?: string; message?: string };
  if ((e.code && UNAVAILABLE.has(e.code)) || /Connection terminated|connect ECONN|the database system is/.test(e.message ?? '')) {
    throw new StoreUnavailable(`PostgreSQL unavailable: ${e.message ?? e.code}`);
  }
  throw err;
}

type Row = Record<string, unknown>;

function recordOf(r: Row): T.HostRecord {
  return {
    host_uuid: r.host_uuid as string,
    certificate: r.certificate as string,
    fingerprint: r.fingerprint as string,
    registered_at: r.registered_at as string,
    last_seen: r.last_seen as string,
    last_sequence: Number(r.last_sequence),
    hostname: r.hostname as string,
    inventory: (r.inventory as T.HostRecord['inventory']) ?? null,
    inventory_at: (r.inventory_at as string | null) ?? null,
    status: (r.status as T.HostRecord['status']) ?? null,
    status_at: (r.status_at as string | null) ?? null,
  };
}

const summaryOf = (r: Row): T.HostSummary => ({ ...(r.summary as T.HostSummary), last_seen: r.last_seen as string, last_sequence: Number(r.last_sequence) });

export class PgStore implements T.FleetStore {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // an idle client lost with the server: the next query reconnects
    const s = new PgStore(pool);
    // instances starting together would race on CREATE TABLE IF NOT EXISTS: one at a time
    await s.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(72610010)');
      await c.query(SCHEMA_SQL);
    });
    return s;
  }

  private async q(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      return await this.pool.query<Row>(text, values);
    } catch (err) {
      return wrap(err);
    }
  }

  private async tx<V>(fn: (c: pg.PoolClient) => Promise<V>): Promise<V> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      return wrap(err);
    }
    try {
      await c.query('BEGIN');
      const v = await fn(c);
      await c.query('COMMIT');
      return v;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      return wrap(err);
    } finally {
      c.release();
    }
  }

  async getHost(key: string): Promise<T.HostRecord | undefined> {
    const r = await this.q('SELECT * FROM wg_hosts WHERE key = $1', [key]);
    return r.rows[0] ? recordOf(r.rows[0]) : undefined;
  }

  async getTombstone(key: string): Promise<T.Tombstone | undefined> {
    const r = await this.q('SELECT host_uuid, fingerprint, last_sequence, forgotten_at FROM wg_tombstones WHERE key = $1', [key]);
    const t = r.rows[0];
    return t
      ? {
          host_uuid: t.host_uuid as string,
          fingerprint: t.fingerprint as string,
          last_sequence: Number(t.last_sequence),
          forgotten_at: t.forgotten_at as string,
        }
      : undefined;
  }

  private static async writePackages(c: pg.PoolClient, key: string, s: T.HostSummary): Promise<void> {
    await c.query('DELETE FROM wg_host_packages WHERE key = $1', [key]);
    if (!s.packages.length) return;
    await c.query(
      'INSERT INTO wg_host_packages (key, package, version, state) SELECT $1, p, v, st FROM unnest($2::text[], $3::text[], $4::text[]) AS x(p, v, st) ON CONFLICT DO NOTHING',
      [key, s.packages.map((p) => p.package), s.packages.map((p) => p.version), s.packages.map((p) => p.state)],
    );
  }

  register(i: T.RegisterInput): Promise<T.AcceptResult> {
    return this.tx(async (c) => {
      const old = (await c.query<Row>('SELECT * FROM wg_hosts WHERE key = $1', [i.key])).rows[0];
      const rec: T.HostRecord = {
        host_uuid: i.uuid,
        certificate: i.certificate,
        fingerprint: i.fingerprint,
        registered_at: (old?.registered_at as string) ?? i.at,
        last_seen: i.at,
        last_sequence: i.sequence,
        hostname: i.hostname || ((old?.hostname as string) ?? ''),
        inventory: i.claim,
        inventory_at: i.at,
        status: (old?.status as T.HostRecord['status']) ?? null,
        status_at: (old?.status_at as string) ?? null,
      };
      const s = summarizeHost(rec);
      await c.query('SAVEPOINT reg');
      let res;
      try {
        // one statement: insert, or update only the same certificate with a higher sequence; never below a tombstone
        res = await c.query<Row>(
          `INSERT INTO wg_hosts (key, host_uuid, certificate, fingerprint, registered_at, last_seen, last_sequence, hostname, inventory, inventory_at, status, status_at, summary, state, search)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10, $11::json, $12, $13::jsonb, $14, $15
            WHERE $7 > COALESCE((SELECT last_sequence FROM wg_tombstones WHERE key = $1), 0)
           ON CONFLICT (key) DO UPDATE SET host_uuid = EXCLUDED.host_uuid, last_seen = EXCLUDED.last_seen, last_sequence = EXCLUDED.last_sequence,
             hostname = EXCLUDED.hostname, inventory = EXCLUDED.inventory, inventory_at = EXCLUDED.inventory_at, summary = EXCLUDED.summary,
             state = EXCLUDED.state, search = EXCLUDED.search
            WHERE wg_hosts.fingerprint = EXCLUDED.fingerprint AND wg_hosts.last_sequence < EXCLUDED.last_sequence
           RETURNING (xmax = 0) AS created`,
          [
            i.key,
            i.uuid,
            i.certificate,
            i.fingerprint,
            rec.registered_at,
            i.at,
            i.sequence,
            rec.hostname,
            JSON.stringify(i.claim),
            i.at,
            rec.status ? JSON.stringify(rec.status) : null,
            rec.status_at,
            JSON.stringify(s),
            s.state,
            `${rec.hostname} ${i.uuid}`.toLowerCase(),
          ],
        );
      } catch (err) {
        if ((err as { code?: string; constraint?: string }).code === '23505' && /fingerprint/.test((err as { constraint?: string }).constraint ?? '')) {
          await c.query('ROLLBACK TO SAVEPOINT reg');
          return { ok: false, reason: 'CERT_IN_USE' } as const;
        }
        throw err;
      }
      if (!res.rows[0]) {
        const now = (await c.query<Row>('SELECT fingerprint, last_sequence FROM wg_hosts WHERE key = $1', [i.key])).rows[0];
        if (now && now.fingerprint !== i.fingerprint) return { ok: false, reason: 'CERT_CONFLICT' } as const;
        const t = await c.query<Row>('SELECT last_sequence FROM wg_tombstones WHERE key = $1', [i.key]);
        return { ok: false, reason: 'REPLAY', last: Number(now?.last_sequence ?? t.rows[0]?.last_sequence ?? 0) } as const;
      }
      await PgStore.writePackages(c, i.key, s);
      await c.query('INSERT INTO wg_reports (key, host_uuid, sequence, report_type, received_at, claim) VALUES ($1, $2, $3, $4, $5, $6::json)', [
        i.key,
        i.uuid,
        i.sequence,
        'inventory',
        i.at,
        JSON.stringify(i.claim),
      ]);
      return { ok: true, created: res.rows[0].created === true } as const;
    });
  }

  async recordAudit(line: { at: string; event: string; host_uuid?: string } & Record<string, unknown>): Promise<void> {
    await this.pool
      .query('INSERT INTO wg_audit (at, event, host_uuid, entry) VALUES ($1, $2, $3, $4::json)', [
        line.at,
        line.event,
        line.host_uuid ?? null,
        JSON.stringify(line),
      ])
      .catch(wrap);
  }

  acceptStatus(i: T.StatusInput): Promise<T.AcceptResult> {
    return this.tx(async (c) => {
      const oldRow = (await c.query<Row>('SELECT * FROM wg_hosts WHERE key = $1', [i.key])).rows[0];
      if (!oldRow) return { ok: false, reason: 'UNKNOWN_HOST' } as const;
      if (oldRow.fingerprint !== i.fingerprint) return { ok: false, reason: 'SIGNER_MISMATCH' } as const;
      const old = recordOf(oldRow);
      const newState = i.claim !== null && !i.keepState;
      const rec: T.HostRecord = {
        ...old,
        last_seen: i.at,
        last_sequence: i.sequence,
        hostname: i.hostname || old.hostname,
        ...(newState ? { status: i.claim, status_at: i.at } : {}),
      };
      const s = summarizeHost(rec);
      // the atomic replay check: of two instances with the same sequence, one updates a row
      const res = await c.query<Row>(
        `UPDATE wg_hosts SET last_seen = $3, last_sequence = $4, hostname = $5, status = COALESCE($6::json, status), status_at = COALESCE($7, status_at),
           summary = $8::jsonb, state = $9, search = $10
          WHERE key = $1 AND fingerprint = $2 AND last_sequence < $4 RETURNING key`,
        [
          i.key,
          i.fingerprint,
          i.at,
          i.sequence,
          rec.hostname,
          newState ? JSON.stringify(i.claim) : null,
          newState ? i.at : null,
          JSON.stringify(s),
          s.state,
          `${rec.hostname} ${rec.host_uuid}`.toLowerCase(),
        ],
      );
      if (!res.rows[0]) {
        const now = (await c.query<Row>('SELECT last_sequence FROM wg_hosts WHERE key = $1', [i.key])).rows[0];
        return { ok: false, reason: 'REPLAY', last: Number(now?.last_sequence ?? 0) } as const;
      }
      if (i.claim) {
        if (newState) await PgStore.writePackages(c, i.key, s);
        await c.query('INSERT INTO wg_reports (key, host_uuid, sequence, report_type, received_at, claim) VALUES ($1, $2, $3, $4, $5, $6::json)', [
          i.key,
          old.host_uuid,
          i.sequence,
          'status',
          i.at,
          JSON.stringify(i.claim),
        ]);
      }
      return { ok: true, created: false } as const;
    });
  }

  forget(key: string, at: string): Promise<boolean> {
    return this.tx(async (c) => {
      const r = (await c.query<Row>('DELETE FROM wg_hosts WHERE key = $1 RETURNING host_uuid, fingerprint, last_sequence', [key])).rows[0];
      if (!r) return false;
      await c.query(
        `INSERT INTO wg_tombstones (key, host_uuid, fingerprint, last_sequence, forgotten_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET host_uuid = EXCLUDED.host_uuid, fingerprint = EXCLUDED.fingerprint, last_sequence = EXCLUDED.last_sequence, forgotten_at = EXCLUDED.forgotten_at`,
        [key, r.host_uuid, r.fingerprint, r.last_sequence, at],
      );
      await c.query('DELETE FROM wg_reports WHERE key = $1', [key]);
      return true;
    });
  }

  async listHosts(q: T.HostQuery): Promise<T.HostPage> {
    const r = await this.q(
      `SELECT key, summary, last_seen, last_sequence FROM wg_hosts h
        WHERE ($1::text IS NULL OR key > $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR strpos(search, lower($3)) > 0)
          AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM wg_host_packages p WHERE p.key = h.key AND p.package = $4))
        ORDER BY key LIMIT $5`,
      [q.after ?? null, q.state ?? null, q.q ?? null, q.package ?? null, q.limit + 1],
    );
    const rows = r.rows.slice(0, q.limit);
    return { hosts: rows.map(summaryOf), next: r.rows.length > q.limit ? (rows[rows.length - 1]!.key as string) : null };
  }

  async countHosts(): Promise<number> {
    return Number((await this.q('SELECT count(*) AS n FROM wg_hosts')).rows[0]!.n);
  }

  async packageStats(): Promise<T.PackageStat[]> {
    const r = await this.q('SELECT package, version, state, count(*) AS n FROM wg_host_packages GROUP BY 1, 2, 3 ORDER BY 1, 2');
    const m = new Map<string, T.PackageStat>();
    for (const row of r.rows) {
      const k = `${row.package}\0${row.version}`;
      let s = m.get(k);
      if (!s) m.set(k, (s = { package: row.package as string, version: row.version as string, OK: 0, ERROR: 0, 'NEED-UPGRADE': 0, pending: 0 }));
      s[row.state as T.PackageState] += Number(row.n);
    }
    return [...m.values()].sort((a, b) => (a.package === b.package ? (a.version < b.version ? -1 : 1) : a.package < b.package ? -1 : 1));
  }

  async packageHosts(name: string, state: T.PackageState | undefined, limit: number, after?: string): Promise<T.HostPage> {
    const r = await this.q(
      `SELECT h.key, h.summary, h.last_seen, h.last_sequence FROM wg_hosts h JOIN wg_host_packages p ON p.key = h.key
        WHERE p.package = $1 AND ($2::text IS NULL OR p.state = $2) AND ($3::text IS NULL OR h.key > $3) ORDER BY h.key LIMIT $4`,
      [name, state ?? null, after ?? null, limit + 1],
    );
    const rows = r.rows.slice(0, limit);
    return { hosts: rows.map(summaryOf), next: r.rows.length > limit ? (rows[rows.length - 1]!.key as string) : null };
  }

  async *exportHosts(): AsyncIterable<T.HostSummary> {
    let after: string | null = null;
    for (;;) {
      const r: pg.QueryResult<Row> = await this.q(
        'SELECT key, summary, last_seen, last_sequence FROM wg_hosts WHERE ($1::text IS NULL OR key > $1) ORDER BY key LIMIT 1000',
        [after],
      );
      for (const row of r.rows) yield summaryOf(row);
      if (r.rows.length < 1000) return;
      after = r.rows[r.rows.length - 1]!.key as string;
    }
  }

  async reportHistory(key: string, limit: number): Promise<T.StoredReport[]> {
    const r = await this.q('SELECT host_uuid, sequence, report_type, received_at, claim FROM wg_reports WHERE key = $1 ORDER BY sequence DESC LIMIT $2', [
      key,
      limit,
    ]);
    return r.rows.map((x) => ({
      host_uuid: x.host_uuid as string,
      sequence: Number(x.sequence),
      report_type: x.report_type as T.StoredReport['report_type'],
      received_at: x.received_at as string,
      claim: x.claim as T.StoredReport['claim'],
    }));
  }

  async addEnrollToken(t: T.EnrollToken): Promise<void> {
    await this.q(
      'INSERT INTO wg_enroll_tokens (id, hash, label, uses_left, uses_total, expires_at, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [t.id, t.hash, t.label, t.uses_left, t.uses_total, t.expires_at, t.created_at, t.revoked_at],
    );
  }

  async listEnrollTokens(): Promise<T.EnrollToken[]> {
    return (await this.q('SELECT * FROM wg_enroll_tokens ORDER BY created_at, id')).rows.map((r) => ({
      id: r.id as string,
      hash: r.hash as string,
      label: r.label as string,
      uses_left: Number(r.uses_left),
      uses_total: Number(r.uses_total),
      expires_at: r.expires_at as string,
      created_at: r.created_at as string,
      revoked_at: (r.revoked_at as string | null) ?? null,
    }));
  }

  async revokeEnrollToken(id: string, at: string): Promise<boolean> {
    return (await this.q('UPDATE wg_enroll_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, at])).rows.length === 1;
  }

  async useEnrollToken(hash: string, now: Date): Promise<T.TokenVerdict> {
    const taken = await this.q(
      'UPDATE wg_enroll_tokens SET uses_left = uses_left - 1 WHERE hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses_left > 0 RETURNING id',
      [hash, now.toISOString()],
    );
    if (taken.rows.length) return 'OK';
    const t = (await this.listEnrollTokens()).find((x) => x.hash === hash);
    const v = verdictOf(t, now);
    return v === 'OK' ? 'USED_UP' : v; // taken by a concurrent registration in between
  }

  async queueAction(a: T.QueuedAction): Promise<void> {
    await this.q(
      'INSERT INTO wg_actions (id, host_key, action, queued_by, queued_at, not_after, outcome) VALUES ($1, $2, $3::json, $4, $5, $6, NULL) ON CONFLICT (id) DO NOTHING',
      [a.id, a.host_key, JSON.stringify(a.action), a.queued_by, a.queued_at, a.not_after],
    );
  }

  async pendingActions(key: string, now: Date): Promise<SignedAction[]> {
    const r = await this.q('SELECT action FROM wg_actions WHERE host_key = $1 AND outcome IS NULL AND not_after >= $2 ORDER BY queued_at, id', [
      key,
      now.toISOString(),
    ]);
    return r.rows.map((x) => x.action as SignedAction);
  }

  async recordOutcomes(key: string, outcomes: readonly ActionOutcome[]): Promise<void> {
    for (const o of outcomes)
      await this.q('UPDATE wg_actions SET outcome = $3::json WHERE id = $1 AND host_key = $2 AND outcome IS NULL', [o.id, key, JSON.stringify(o)]);
  }

  async listActions(limit: number, key?: string): Promise<T.QueuedAction[]> {
    const r = await this.q('SELECT * FROM wg_actions WHERE ($1::text IS NULL OR host_key = $1) ORDER BY queued_at DESC, id LIMIT $2', [key ?? null, limit]);
    return r.rows.map((x) => ({
      id: x.id as string,
      host_key: x.host_key as string,
      action: x.action as SignedAction,
      queued_by: x.queued_by as string,
      queued_at: x.queued_at as string,
      not_after: x.not_after as string,
      outcome: (x.outcome as ActionOutcome | null) ?? null,
    }));
  }

  async prune(now: Date, keepReportsMs: number | null, expireHostsMs: number | null): Promise<T.PruneResult> {
    let hosts = 0;
    let reports = 0;
    if (expireHostsMs !== null) {
      const old = await this.q('SELECT key FROM wg_hosts WHERE last_seen < $1', [new Date(now.getTime() - expireHostsMs).toISOString()]);
      for (const r of old.rows) if (await this.forget(r.key as string, now.toISOString())) hosts++;
    }
    if (keepReportsMs !== null) {
      reports = (await this.q('DELETE FROM wg_reports WHERE received_at < $1', [new Date(now.getTime() - keepReportsMs).toISOString()])).rowCount ?? 0;
    }
    return { reports, hosts };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
