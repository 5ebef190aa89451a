// Input discipline: every body and query string is checked against a JSON schema (ajv)
// before any handler looks at it; a failure is a 400 SCHEMA_INVALID naming the field.
// The signature checks (verify-claim.ts, the agent's verifyAction) come after.
import { Ajv, type ValidateFunction } from 'ajv';
import { ApiError } from './http.js';

const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false });

const uuid = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } as const;
const shortText = (max: number) => ({ type: 'string', maxLength: max }) as const;

const claim = {
  type: 'object',
  required: ['signed_attributes', 'signer', 'signature_date', 'signer_certificate', 'signature'],
  properties: {
    signed_attributes: { type: 'array', maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 100 } },
    signer: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    signature_date: shortText(40),
    signer_certificate: shortText(32768),
    signature: shortText(4096),
    host_uuid: uuid,
    sequence: { type: 'integer', minimum: 1 },
    report_type: { enum: ['inventory', 'status', 'poll', 'unregister'] },
    hostname: shortText(255),
    state_sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    packages: {
      type: 'array',
      maxItems: 5000,
      items: { type: 'object', required: ['package'], properties: { package: shortText(200), version: shortText(100), install_status: shortText(40) } },
    },
    events: {
      type: 'array',
      maxItems: 2000,
      items: { type: 'object', required: ['op', 'result', 'at'], properties: { op: shortText(40), result: shortText(40), at: shortText(40) } },
    },
    action_results: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', required: ['id', 'result'], properties: { id: shortText(64), result: { enum: ['OK', 'ERROR', 'REFUSED'] } } },
    },
  },
} as const;

const action = {
  type: 'object',
  required: ['id', 'host_uuid', 'action', 'args', 'signed_at', 'not_after', 'signed_attributes', 'signer', 'signature_date', 'signer_certificate', 'signature'],
  properties: {
    ...claim.properties,
    id: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' },
    host_uuid: uuid,
    action: { enum: ['update', 'upgrade', 'install', 'remove', 'forget', 'update-status', 'audit'] },
    args: { type: 'array', maxItems: 100, items: shortText(200) },
    signed_at: shortText(40),
    not_after: shortText(40),
  },
  additionalProperties: false,
} as const;

export const SCHEMAS = {
  register: {
    type: 'object',
    required: ['host_uuid', 'certificate', 'claim'],
    properties: { host_uuid: uuid, certificate: shortText(32768), token: shortText(512), claim },
    additionalProperties: false,
  },
  status: { type: 'object', required: ['claim'], properties: { claim }, additionalProperties: false },
  unregister: { type: 'object', required: ['claim'], properties: { claim }, additionalProperties: false },
  poll: { type: 'object', required: ['claim'], properties: { claim, wait_secs: { type: 'integer', minimum: 0, maximum: 60 } }, additionalProperties: false },
  action,
  hostsQuery: {
    type: 'object',
    properties: {
      limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
      after: uuid,
      status: { enum: ['OK', 'ERROR', 'NEED-UPGRADE', 'UNKNOWN'] },
      package: shortText(200),
      q: shortText(200),
    },
    additionalProperties: false,
  },
  packageHostsQuery: {
    type: 'object',
    properties: { limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' }, after: uuid, status: { enum: ['OK', 'ERROR', 'NEED-UPGRADE', 'pending'] } },
    additionalProperties: false,
  },
} as const;

export type SchemaName = keyof typeof SCHEMAS;
const compiled = new Map<SchemaName, ValidateFunction>();

/** Throws 400 SCHEMA_INVALID with the first failing field. */
export function validate(name: SchemaName, value: unknown): void {
  let fn = compiled.get(name);
  if (!fn) compiled.set(name, (fn = ajv.compile(SCHEMAS[name])));
  if (fn(value)) return;
  const e = fn.errors?.[0];
  const where = e
    ? `${e.instancePath || '(body)'}${e.keyword === 'additionalProperties' ? ` ${String(e.params.additionalProperty).slice(0, 60)}` : ''}`
    : '(body)';
  throw new ApiError(400, 'SCHEMA_INVALID', `${where}: ${e?.message ?? 'invalid'}`.replace(/[^\x20-\x7e]/g, '?'));
}

/** A query string as a plain object: repeated keys are refused (400). */
export function queryObject(search: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(search);
  } catch {
    throw new ApiError(400, 'SCHEMA_INVALID', 'bad query string');
  }
  for (const [k, v] of params) {
    if (k in out) throw new ApiError(400, 'SCHEMA_INVALID', `query parameter ${k.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')} given twice`);
    out[k] = v;
  }
  return { ...out };
}
