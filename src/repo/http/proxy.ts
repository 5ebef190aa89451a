// Proxy selection. The caller reads http_proxy/https_proxy/no_proxy (env, or
// http_proxy in wapt-get.ini) and passes `proxy` and `noProxy` to HttpClient;
// proxyFromEnv() does the env part. Like curl and Python requests, loopback is
// NOT bypassed implicitly: list it (no_proxy=127.0.0.1,localhost) to reach a
// local `wapt-get serve` directly.
// no_proxy entries: `*`, `host`, `.domain` / `domain` (suffix match), optional
// `:port`; IPv6 literals without brackets. CIDR ranges are not supported.

export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of (noProxy ?? '').split(/[\s,]+/)) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[([^\]]+)\]/, '$1');
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const name = entry.includes('::') ? entry : m[1].replace(/^\*?\./, '');
    if (!entry.includes('::') && m[2] && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy the environment asks for `url` (https_proxy / http_proxy, either case), or undefined. */
export function proxyFromEnv(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const u = new URL(url);
  const pick = (name: string): string | undefined => env[name] || env[name.toUpperCase()] || undefined;
  const proxy = u.protocol === 'https:' ? pick('https_proxy') : pick('http_proxy');
  if (!proxy || bypassesProxy(u, pick('no_proxy'))) return undefined;
  return proxy;
}
