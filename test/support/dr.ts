/**
 * dr is the disaster drill the multi-site test and `npm run bench -- dr` share: two sites eight
 * hours apart with the global coordinator; site a's customer's data is copied to site b; every
 * process of site a is killed at once; the drill measures how long until a's customer answers
 * at b's edge from its replica (the recovery time), the data-loss window the coordinator
 * states (the replica's lag when a was lost), and the requests that fail once it answers.
 */
import { chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { emptyStats, runSteadyLoad } from '../../src/emulators/load/steady.js';
import type { DemoCustomer } from '../../src/cli/demo.js';
import {
  globalSection,
  replicationFor,
  startGlobalHarness,
  startProcessSite,
  type GlobalHarness,
  type ProcessSite,
  type SitePlan,
  until,
} from './sites.js';

/** DrResult is what the drill measured. */
export interface DrResult {
  readonly rto_ms: number;
  readonly rpo_s: number | null;
  readonly failed_requests_after_recovery: number;
  readonly requests_after_recovery: number;
  /** page is the customer's home page as the replica site served it. */
  readonly page: string;
  readonly takeoverSite: string;
  /** backMs is how long from a's restart until the takeover was handed back (comeBack only). */
  readonly backMs?: number;
  /** writeCameHome tells whether the write made at the replica site is in a's copy after the handback. */
  readonly writeCameHome?: boolean;
}

const ACME: DemoCustomer = {
  id: 'acme',
  displayName: 'Acme Shop',
  domains: ['acme.test'],
  colour: '#c0392b',
  tagline: 'Everything for the coyote in you.',
};
const INITECH: DemoCustomer = {
  id: 'initech',
  displayName: 'Initech Support',
  domains: ['initech.test'],
  colour: '#1e8449',
  tagline: 'Have you tried turning it off and on again?',
};

/** DrOptions: lostAfterMs is how long a silent site is waited for before it is declared lost. */
export interface DrOptions {
  readonly lostAfterMs: number;
  readonly log?: (s: string) => void;
  /** afterRecoveryMs is how long load runs against the replica site once it answers. */
  readonly afterRecoveryMs?: number;
  /**
   * comeBack, after the load, writes a file into the customer's data at the replica site (a
   * write made while its home was lost), starts site a again and waits until the takeover is
   * handed back: the takeover site stops serving, a copies the data back, the takeover ends.
   */
  readonly comeBack?: boolean;
  /** killAfterMs is how long after the first copy is seen site a is killed (default at once). */
  readonly killAfterMs?: number;
  /** replicationEveryMs is the interval between copies (global.replication.everyMs; default 2000). */
  readonly replicationEveryMs?: number;
}

/** get asks an edge for a domain's page; null when it does not answer 200. */
async function get(edgeUrl: string, domain: string): Promise<string | null> {
  try {
    const r = await request(`${edgeUrl}/`, { headers: { host: domain }, headersTimeout: 2000, bodyTimeout: 2000 });
    const body = await r.body.text();
    return r.statusCode === 200 ? body : null;
  } catch {
    return null;
  }
}

/** runDisasterDrill runs the drill and tears everything down. */
export async function runDisasterDrill(o: DrOptions): Promise<DrResult> {
  const log = o.log ?? (() => undefined);
  const plans: SitePlan[] = [
    { id: 'a', timeZone: 'Etc/UTC', firstUid: 200_001, machines: 3, customers: [ACME] },
    { id: 'b', timeZone: 'Etc/GMT-8', firstUid: 300_001, machines: 5, customers: [INITECH] },
  ];
  let h: GlobalHarness | null = null;
  const sites: ProcessSite[] = [];
  try {
    h = await startGlobalHarness({ lostAfterMs: o.lostAfterMs });
    const rep = await replicationFor(plans);
    for (const p of plans) {
      log(`starting site ${p.id}`);
      sites.push(await startProcessSite(p, globalSection(h, p.id, rep, o.replicationEveryMs)));
    }
    const [a, b] = sites as [ProcessSite, ProcessSite];
    const coord = h.coord;
    log('waiting for acme’s data to be copied to b');
    await until('a replica of acme at b', 60_000, async () =>
      coord
        .status()
        .sites.some((s) => s.site === 'a' && s.replicas.some((r) => r.account === 'acme' && r.lagMs !== null)),
    );
    if ((await get(a.edgeUrl, 'acme.test')) === null) throw new Error('acme.test does not answer at its home site');
    await new Promise((r) => setTimeout(r, o.killAfterMs ?? 0));
    log('killing every process of site a');
    const t0 = performance.now();
    await a.kill();
    const page = await until('acme.test answering at b', 180_000, () => get(b.edgeUrl, 'acme.test'));
    const rto = performance.now() - t0;
    const t = coord.status().takeovers.find((x) => x.account === 'acme');
    log(`acme.test answers at b after ${Math.round(rto)} ms`);
    const stats = emptyStats();
    await runSteadyLoad({
      edgeUrl: b.edgeUrl,
      targets: [{ domain: 'acme.test', ratePerSec: 20, paths: ['/', '/app/hello'] }],
      signal: new AbortController().signal,
      durationMs: o.afterRecoveryMs ?? 10_000,
      stats,
    });
    let back: { backMs: number; writeCameHome: boolean } | null = null;
    if (o.comeBack) {
      const written = join(b.volumesRoot, 'volumes', 'a-acme', 'site', 'written-at-b.html');
      writeFileSync(written, '<p>an order taken while the home site was lost</p>\n', { mode: 0o640 });
      chownSync(written, 200_001, 200_001);
      log('starting site a again');
      const t1 = performance.now();
      await a.restart();
      await until('the takeover handed back', 180_000, async () => coord.status().takeovers.length === 0);
      const home = join(a.volumesRoot, 'volumes', 'acme', 'site', 'written-at-b.html');
      back = { backMs: Math.round(performance.now() - t1), writeCameHome: existsSync(home) };
    }
    return {
      ...(back ?? {}),
      rto_ms: Math.round(rto),
      rpo_s: t?.rpoMs === undefined || t.rpoMs === null ? null : Math.round(t.rpoMs / 100) / 10,
      failed_requests_after_recovery: stats.failed,
      requests_after_recovery: stats.sent,
      page,
      takeoverSite: t?.site ?? '',
    };
  } finally {
    for (const s of sites) await s.stop().catch(() => undefined);
    await h?.close();
  }
}
