// One HTTP exchange with manual redirect handling: undici 7 no longer follows
// redirects on `request`, and doing it here lets us cap the count, refuse an
// https→http downgrade and drop credentials when the origin changes.
import type { Dispatcher } from 'undici';
import { WaptError } from '../../errors.js';
import type { Dispatchers } from './dispatcher.js';
import { mapFetchError, redactUrl } from './errors.js';

export interface SendContext {
  dispatchers: Dispatchers;
  maxRedirects: number;
  allowInsecureHttp: boolean;
  userAgent: string;
}

export interface Sent {
  finalUrl: URL;
  res: Dispatcher.ResponseData;
}

/** Parse and police a URL: only https://, or http:// when explicitly allowed. */
export function checkUrl(url: string | URL, allowInsecureHttp: boolean): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new WaptError('USAGE', `not a URL: ${redactUrl(String(url))}`, { cause });
  }
  if (u.protocol === 'http:' && !allowInsecureHttp) {
    throw new WaptError('INSECURE_URL', `refusing plain-HTTP URL ${redactUrl(u.href)}`, { detail: { url: redactUrl(u.href) } });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new WaptError('USAGE', `unsupported URL scheme ${u.protocol} in ${redactUrl(u.href)}`);
  }
  return u;
}

export function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export async function discard(res: Dispatcher.ResponseData): Promise<void> {
  await res.body.dump().catch(() => undefined);
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** `signal` aborts the exchange (and the body read after it): the transfer watchdog's. */
export async function send(ctx: SendContext, url: string, method: 'GET' | 'HEAD', extra: Record<string, string>, signal?: AbortSignal): Promise<Sent> {
  let u = checkUrl(url, ctx.allowInsecureHttp);
  // user:password in the URL becomes Basic auth, never part of the request line or a message
  const auth =
    u.username || u.password ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
  const firstOrigin = u.origin;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': ctx.userAgent, 'accept-encoding': 'identity', ...extra };
    if (auth && u.origin === firstOrigin) headers.authorization = auth;
    let res: Dispatcher.ResponseData;
    try {
      res = await ctx.dispatchers.forUrl(u).request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method,
        headers,
        signal,
      });
    } catch (err) {
      throw mapFetchError(err, u.href);
    }
    const location = header(res, 'location');
    if (!REDIRECTS.has(res.statusCode) || !location) return { finalUrl: u, res };
    await discard(res);
    if (hop >= ctx.maxRedirects) {
      throw new WaptError('HTTP_STATUS', `too many redirects (more than ${ctx.maxRedirects}) from ${redactUrl(url)}`, {
        detail: { url: redactUrl(url), status: res.statusCode, redirects: hop + 1 },
      });
    }
    const next = new URL(location, u);
    if (u.protocol === 'https:' && next.protocol === 'http:') {
      throw new WaptError('INSECURE_URL', `refusing redirect from https to ${redactUrl(next.href)}`, {
        detail: { url: redactUrl(u.href), location: redactUrl(next.href) },
      });
    }
    next.username = '';
    next.password = '';
    u = checkUrl(next, ctx.allowInsecureHttp);
  }
}
