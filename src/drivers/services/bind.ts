/**
 * bind is the DNS service driver: one zone file per account (rendered by core) and the list of
 * zones named.conf includes. Every changed zone is checked with `named-checkzone` and the
 * whole configuration with `named-checkconf` before it is made live; named reloads on SIGHUP.
 * Zone files are shared blobs the generation's list names, so a batch writes only the zones
 * it changed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkValue, renderBind } from '../../core/provisioning/index.js';
import type { DnsSpec } from '../../core/provisioning/index.js';
import type { FieldProblem } from '../../core/errors.js';
import { hostPort, refused, specsOf } from './driver.js';
import type { ApplyOutcome, HeldEntry, ServiceDriver } from './driver.js';
import { Generations } from './generations.js';
import { run, startDaemon } from './process.js';
import type { Daemon } from './process.js';

/** BindOptions configure the DNS driver. */
export interface BindOptions {
  readonly base: string;
  /** listen is the address:port named answers on (UDP and TCP). */
  readonly listen: string;
  /** primary is the SOA primary name server of every zone. */
  readonly primary: string;
  /** hostmaster is the SOA mailbox (as a domain) of every zone. */
  readonly hostmaster: string;
  readonly ttl?: number | undefined;
}

function mainConfig(base: string, zonesConf: string, listen: string): string {
  const { host, port } = hostPort(listen);
  return `// written by hostfleet
options {
    directory "${base}/work";
    pid-file "${base}/named.pid";
    session-keyfile "${base}/work/session.key";
    listen-on port ${port} { ${host}; };
    listen-on-v6 { none; };
    recursion no;
    allow-transfer { none; };
    dnssec-validation no;
};
controls { };
include "${zonesConf}";
`;
}

/** bindDriver returns the DNS service driver. */
export function bindDriver(o: BindOptions): ServiceDriver {
  const problems = [
    checkValue('absPath', 'bind.base', o.base),
    checkValue('listen', 'bind.listen', o.listen),
    checkValue('domain', 'bind.primary', o.primary),
    checkValue('domain', 'bind.hostmaster', o.hostmaster),
  ].filter((p): p is FieldProblem => p !== null);
  if (problems.length > 0)
    throw new Error(`invalid bind driver options: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
  const gens = new Generations(join(o.base, 'zones'));
  const conf = join(o.base, 'named.conf');
  const env = { primary: o.primary, hostmaster: o.hostmaster, ttl: o.ttl ?? 300 };
  // Zone blobs last made live, so unchanged zones are not checked again (a batch touches few).
  let liveBlobs = new Set<string>();
  let daemon: Daemon | undefined;
  return {
    service: 'dns',
    async start() {
      await mkdir(join(o.base, 'work'), { recursive: true });
      await gens.init();
      const empty = renderBind(new Map(), new Map(), { ...env, zonesDir: join(gens.live, 'zones') });
      if (empty.ok) await writeFile(join(gens.live, 'zones.conf'), empty.value.get('zones.conf') ?? '');
      await writeFile(conf, mainConfig(o.base, join(gens.live, 'zones.conf'), o.listen));
      const c = await run('named-checkconf', [conf]);
      if (c.code !== 0) throw new Error(`named-checkconf refused the main configuration: ${c.output}`);
      daemon = await startDaemon('named', ['-c', conf, '-f', '-4'], { settleMs: 300 });
    },
    async apply(entries: ReadonlyMap<string, HeldEntry>): Promise<ApplyOutcome> {
      const { specs, problems } = specsOf('dns', entries);
      if (problems.length) return refused(problems);
      const serials = new Map([...entries].map(([a, e]) => [a, e.version]));
      const r = renderBind(specs as Map<string, DnsSpec>, serials, {
        ...env,
        zonesDir: join(o.base, 'zones', 'shared'),
      });
      if (!r.ok) return refused(r.problems);
      // Each zone is a shared blob, written only when its text changed; the generation holds
      // zones.conf, the list that names them, which is the same text checked and made live.
      const dir = await gens.write(new Map());
      const zoneText = new Map<string, string>();
      for (const s of specs.values()) zoneText.set(s.zone, r.value.get(`zones/${s.zone}.zone`) ?? '');
      const blobs = await gens.share(dir, '.zone', zoneText);
      const fail = async (error: string): Promise<ApplyOutcome> => {
        await gens.discard(dir);
        return { ok: false, stage: 'check', error };
      };
      const entry = (zone: string, file: string) => `zone "${zone}" { type primary; file "${file}"; };`;
      // The changed zones (new blobs) are checked by one named-checkconf -z over a list of just
      // them: one process for the whole batch (as named-checkzone each), however many accounts it holds.
      const changed = [...blobs].filter(([, file]) => !liveBlobs.has(file));
      if (changed.length > 0) {
        await writeFile(
          join(dir, 'zones.changed.conf'),
          `${changed.map(([zone, file]) => entry(zone, file)).join('\n')}\n`,
        );
        await writeFile(
          join(o.base, 'named.zones.conf'),
          mainConfig(o.base, join(dir, 'zones.changed.conf'), o.listen),
        );
        const z = await run('named-checkconf', ['-z', join(o.base, 'named.zones.conf')]);
        if (z.code !== 0)
          return fail(
            `named-checkzone: ${z.output
              .split('\n')
              .filter((l) => !/^zone \S+: loaded serial/.test(l))
              .join('\n')}`,
          );
      }
      const list = [
        '// zones written by hostfleet; edits are replaced.',
        ...[...specs]
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
          .map(([account, s]) => `${entry(s.zone, blobs.get(s.zone) ?? '')} // account ${account}`),
      ];
      await writeFile(join(dir, 'zones.conf'), `${list.join('\n')}\n`);
      await writeFile(join(o.base, 'named.check.conf'), mainConfig(o.base, join(dir, 'zones.conf'), o.listen));
      const c = await run('named-checkconf', [join(o.base, 'named.check.conf')]);
      if (c.code !== 0) return fail(`named-checkconf: ${c.output}`);
      await gens.promote(dir);
      liveBlobs = new Set(blobs.values());
      if (!daemon || daemon.exited())
        return { ok: false, stage: 'reload', error: `named is not running: ${daemon?.output() ?? 'not started'}` };
      daemon.signal('SIGHUP');
      return { ok: true };
    },
    async close() {
      await daemon?.stop();
    },
  };
}
