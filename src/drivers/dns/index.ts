/**
 * dns is the resolver of domain verification: it reads the TXT records of a challenge name
 * from configured name servers (the domain's authoritative servers in production; a local
 * BIND in tests), the way ACME's dns-01 check does. It asks the servers directly, so a
 * cached or forged answer from a recursive resolver cannot verify a domain.
 */
import { Resolver } from 'node:dns/promises';

/** TxtResolver reads TXT records. */
export interface TxtResolver {
  /** txt returns the TXT strings at name ([] when the name or the records do not exist). */
  txt(name: string): Promise<string[]>;
}

/** dnsResolver asks servers (host:port or host) for TXT records, with a time limit per try. */
export function dnsResolver(
  servers: readonly string[],
  opts: { timeoutMs?: number; tries?: number } = {},
): TxtResolver {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  if (servers.length > 0) r.setServers([...servers]);
  return {
    async txt(name) {
      try {
        return (await r.resolveTxt(name)).map((chunks) => chunks.join(''));
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'ESERVFAIL' || code === 'EREFUSED') return [];
        throw e;
      }
    },
  };
}
