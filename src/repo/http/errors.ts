// Maps Node/undici failures to WaptError codes. Messages always carry the URL
// with any user:password removed, so logs and --json output never leak secrets.
import { WaptError } from '../../errors.js';

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Node's TLS verification codes → a short reason for the message and detail. */
const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown CA (self-signed)',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA (self-signed in chain)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  CERT_SIGNATURE_FAILURE: 'bad signature',
  CERT_REVOKED: 'revoked',
  CERT_UNTRUSTED: 'untrusted',
  INVALID_CA: 'invalid CA',
  INVALID_PURPOSE: 'not valid for server authentication',
};

function codesOf(err: unknown): { code?: string; message: string; chain: unknown[] } {
  const chain: unknown[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    chain.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  const coded = chain.find((e) => typeof (e as { code?: unknown }).code === 'string') as { code: string } | undefined;
  const message = chain
    .map((e) => (e instanceof Error ? e.message : String(e)))
    .filter(Boolean)
    .join(': ');
  return { code: coded?.code, message, chain };
}

export function mapFetchError(err: unknown, url: string): WaptError {
  const safe = redactUrl(url);
  const { code, message, chain } = codesOf(err);
  const wapt = chain.find((e) => e instanceof WaptError);
  if (wapt instanceof WaptError) return wapt;
  if (code && TIMEOUT_CODES.has(code)) {
    // limit: which of the limits fired (watchdog.ts has the other two)
    return new WaptError('TIMEOUT', `timed out fetching ${safe} (${code}: no answer within timeout)`, {
      cause: err,
      detail: { url: safe, errno: code, limit: 'timeout' },
    });
  }
  const tlsReason = code ? TLS_REASONS[code] : undefined;
  if (tlsReason || (code && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')))) {
    const reason = tlsReason ?? code!;
    return new WaptError('TLS_ERROR', `TLS error for ${safe}: ${reason} (${code})`, {
      cause: err,
      detail: { url: safe, reason, errno: code },
    });
  }
  return new WaptError('NETWORK_ERROR', `cannot fetch ${safe}: ${message}`, {
    cause: err,
    detail: { url: safe, errno: code },
  });
}

/** Worth another attempt: the network or the server may recover, 4xx will not. */
export function isRetryable(err: WaptError): boolean {
  if (err.code === 'NETWORK_ERROR' || err.code === 'TIMEOUT') return true;
  return err.code === 'HTTP_STATUS' && typeof err.detail.status === 'number' && err.detail.status >= 500;
}
