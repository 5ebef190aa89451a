// One JSON POST (agent → wapt_server: register, update-status) with the same TLS
// trust, pinning, proxy and mTLS as repository downloads (dispatcher.ts). No retries
// and no redirects: a report is not idempotent (the server refuses a replayed
// sequence), and a redirected POST is more likely a misconfiguration than a move.
import { WaptError } from '../../errors.js';
import { makeDispatchers } from './dispatcher.js';
import { mapFetchError, redactUrl } from './errors.js';
import { checkUrl, header } from './request.js';
import type { HttpOptions } from './client.js';

export interface JsonResponse {
  status: number;
  /** The parsed body, or null when it was empty or not JSON. */
  body: unknown;
}

/** Answers larger than this are refused (a report answer is a few hundred bytes). */
export const MAX_JSON_RESPONSE = 1024 * 1024;

/** POSTs `payload` as JSON and returns any HTTP answer (the caller decides what a 4xx means). */
export function postJson(url: string, payload: unknown, opts: HttpOptions): Promise<JsonResponse> {
  return sendForJson('POST', url, JSON.stringify(payload), { 'content-type': 'application/json' }, opts);
}

/**
 * Sends one body (a string, or a file stream for upload-package) and reads a JSON answer.
 * `extraHeaders` may carry an Authorization header; it is never logged.
 */
export async function sendForJson(
  method: 'POST' | 'PUT',
  url: string,
  body: string | NodeJS.ReadableStream,
  extraHeaders: Record<string, string>,
  opts: HttpOptions,
): Promise<JsonResponse> {
  const u = checkUrl(url, opts.allowInsecureHttp);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': opts.userAgent,
    'accept-encoding': 'identity',
    ...extraHeaders,
  };
  if ((u.username || u.password) && !headers.authorization) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  }
  if (opts.verifyCert.kind === 'off') {
    opts.onWarning?.('TLS certificate verification is OFF (verify_cert=0): anyone on the network path can impersonate the server');
  }
  const dispatchers = makeDispatchers(opts);
  try {
    let res;
    try {
      res = await dispatchers.forUrl(u).request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method,
        headers,
        body: body as string,
      });
    } catch (err) {
      throw mapFetchError(err, u.href);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_JSON_RESPONSE) {
          res.body.destroy();
          throw new WaptError('HTTP_TOO_LARGE', `the answer of ${redactUrl(u.href)} is larger than ${MAX_JSON_RESPONSE} bytes`, {
            detail: { url: redactUrl(u.href), max: MAX_JSON_RESPONSE },
          });
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw err instanceof WaptError ? err : mapFetchError(err, u.href);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let answer: unknown = null;
    if (/json/i.test(header(res, 'content-type') ?? '') && text !== '') {
      try {
        answer = JSON.parse(text);
      } catch {
        answer = null;
      }
    }
    return { status: res.statusCode, body: answer };
  } finally {
    await dispatchers.close().catch(() => undefined);
  }
}
