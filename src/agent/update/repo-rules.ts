// Which URL serves a repository to this host (issue 12 §5, `repo_rules`): the site
// mirrors whose network holds one of the host's addresses, in ini order, then the
// repository's own repo_url. Whoever serves the bytes, the index is judged as the
// origin's (same local name, so the same pins and the same rollback state keyed by the
// repository identity): a mirror chooses nothing, it only carries what the origin signed.
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import type { RepoConfig } from '../config.js';

/** This host's addresses (every interface, loopback included: a rule may name it). */
export function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined)
    .map((a) => a.address.replace(/%.*$/, ''));
}

function inNetwork(network: string, addresses: readonly string[]): boolean {
  const [base, prefix] = network.split('/') as [string, string];
  const family = isIP(base) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addSubnet(base, Number(prefix), family);
  return addresses.some((a) => isIP(a) === (family === 'ipv6' ? 6 : 4) && list.check(a, family));
}

/** URLs to try for `repo`, best first; the last is always its repo_url. */
export function candidateUrls(repo: Pick<RepoConfig, 'url' | 'rules'>, addresses: readonly string[]): string[] {
  const urls = (repo.rules ?? []).filter((r) => inNetwork(r.network, addresses)).map((r) => r.url);
  return [...new Set([...urls, repo.url])];
}

/** Every URL that may serve `repo` to some host (a stored index from any of them stays usable). */
export function servingUrls(repo: Pick<RepoConfig, 'url' | 'rules'>): string[] {
  return [...(repo.rules ?? []).map((r) => r.url), repo.url];
}
