/**
 * demo is the embedded site's demo: three customers with their own sites and domains, and
 * machines registered from the BMC emulator into the pool, then moved into the customers'
 * groups. It only ever calls the manager's API (and writes the customers' site files into
 * their volumes), so it exercises the same path an operator's automation would.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BmcDriver } from '../drivers/bmc/index.js';
import type { VolumeDriver } from '../drivers/volumes/index.js';
import type { AccountRecord, GroupRecord, MoveRecord } from '../core/model/records.js';
import type { Client } from './client.js';
import { ApiError } from './client.js';
import { followMove } from './move.js';

/** DemoCustomer is one demo account with its web group. */
export interface DemoCustomer {
  readonly id: string;
  readonly displayName: string;
  readonly domains: readonly string[];
  readonly colour: string;
  readonly tagline: string;
}

/** DEMO_CUSTOMERS are the accounts `hostfleet up` creates on a new site. */
export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  {
    id: 'acme',
    displayName: 'Acme Shop',
    domains: ['acme.test', 'www.acme.test'],
    colour: '#c0392b',
    tagline: 'Everything for the coyote in you.',
  },
  {
    id: 'globex',
    displayName: 'Globex News',
    domains: ['globex.test'],
    colour: '#2471a3',
    tagline: 'All the news that fits.',
  },
  {
    id: 'initech',
    displayName: 'Initech Support',
    domains: ['initech.test'],
    colour: '#1e8449',
    tagline: 'Have you tried turning it off and on again?',
  },
];

/** DEMO_SERVERS_PER_CUSTOMER is how many servers each demo group starts with. */
export const DEMO_SERVERS_PER_CUSTOMER = 2;

const page = (c: DemoCustomer) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${c.displayName}</title>
<style>body{font-family:system-ui,sans-serif;margin:0}header{background:${c.colour};color:#fff;padding:2rem}main{padding:2rem}</style></head>
<body><header><h1>${c.displayName}</h1><p>${c.tagline}</p></header>
<main><p>This is the site of customer <strong>${c.id}</strong>, served by hostfleet from the account's own volume.</p>
<p><a href="/app/hello">A dynamic page</a> is served by the group's servers with a finite capacity.</p></main></body></html>
`;

/** writeSite puts a customer's demo site into its volume, owned by the account's uid. */
export async function writeSite(volumes: VolumeDriver, account: AccountRecord, c: DemoCustomer): Promise<void> {
  const root = await volumes.ensure(account.id, { uid: account.uid, gid: account.gid });
  const site = join(root, 'site');
  mkdirSync(site, { recursive: true, mode: 0o750 });
  writeFileSync(join(site, 'index.html'), page(c), { mode: 0o640 });
  if (process.getuid?.() === 0) {
    chownSync(site, account.uid, account.gid);
    chownSync(join(site, 'index.html'), account.uid, account.gid);
  }
}

/**
 * DEMO_PLAN is the SLA price plan every demo account is put on, so the customer console shows
 * an invoice and a plan from the first minute. Its levels match the demo groups' sizes (one
 * committed server, up to eight with burst and extended).
 */
export const DEMO_PLAN = {
  kind: 'sla',
  name: 'Demo',
  currency: 'USD',
  burstMultiple: 1.5,
  extendedMultiple: 2,
  burstEntryFee: '1.00',
  extendedEntryFee: '5.00',
  servers: { 'front-end': { committed: 1, burst: 4, extended: 8, rate: '0.10' } },
} as const;

/** seedDemo creates the demo accounts, groups and servers that do not exist yet, and puts every demo account on DEMO_PLAN. */
export async function seedDemo(
  client: Client,
  bmc: BmcDriver,
  bmcUrl: string,
  volumes: VolumeDriver,
  log: (s: string) => void,
  customers: readonly DemoCustomer[] = DEMO_CUSTOMERS,
): Promise<void> {
  const { accounts } = await client.call<{ accounts: AccountRecord[] }>('GET', '/v1/accounts');
  const created: string[] = [];
  for (const c of customers) {
    let account = accounts.find((a) => a.id === c.id);
    if (!account) {
      account = (
        await client.call<{ account: AccountRecord }>('POST', '/v1/accounts', { id: c.id, displayName: c.displayName })
      ).account;
      await client.call<{ group: GroupRecord }>('POST', '/v1/groups', {
        id: `${c.id}-web`,
        accountId: c.id,
        role: 'front-end',
        minSize: 1,
        maxSize: 8,
        domains: c.domains,
        runtime: { serviceTimeMs: 40, concurrency: 4, maxQueue: 200 },
      });
      created.push(c.id);
      log(`customer ${c.id}: ${c.domains.join(', ')}`);
    }
    await writeSite(volumes, account, c);
  }
  // Only accounts created now are put on the plan: on a second `up`, an operator's choice stands.
  if (created.length > 0) await client.call('PUT', '/v1/billing/plans/demo', DEMO_PLAN);
  for (const id of created) await client.call('PUT', `/v1/accounts/${id}/plan`, { planId: 'demo' });
  const { servers } = await client.call<{ servers: { id: string; systemId?: string }[] }>('GET', '/v1/servers');
  const known = new Set(servers.map((s) => s.systemId));
  const systems = await bmc.listSystems();
  for (const [i, sys] of systems.entries()) {
    if (known.has(sys.id) || sys.dataAddress === null) continue;
    const id = `srv-${String(i + 1).padStart(2, '0')}`;
    try {
      await client.call('POST', '/v1/servers', { id, bmcUrl, systemId: sys.id, address: sys.dataAddress });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'E_CONFLICT')) throw e;
    }
  }
}

/** fillDemoGroups moves pool servers into demo groups that have none, and waits for the moves. */
export async function fillDemoGroups(
  client: Client,
  onProgress: (done: number, total: number) => void,
  customers: readonly DemoCustomer[] = DEMO_CUSTOMERS,
): Promise<MoveRecord[]> {
  const st = await client.call<{
    groups: { id: string; servers: unknown[] }[];
    pool: { id: string; state: string }[];
    moves: unknown[];
  }>('GET', '/v1/status');
  if (st.moves.length > 0) return [];
  const pool = st.pool.filter((s) => s.state === 'pool-cold' || s.state === 'pool-warm').map((s) => s.id);
  const wanted: { server: string; group: string }[] = [];
  for (const g of st.groups) {
    if (!customers.some((c) => `${c.id}-web` === g.id)) continue;
    for (let k = g.servers.length; k < DEMO_SERVERS_PER_CUSTOMER && pool.length > 0; k++)
      wanted.push({ server: pool.shift() as string, group: g.id });
  }
  let done = 0;
  onProgress(0, wanted.length);
  return Promise.all(
    wanted.map(async (w) => {
      const { move } = await client.call<{ move: MoveRecord }>('POST', '/v1/moves', {
        server: w.server,
        to: w.group,
        reason: 'demo: initial allocation',
      });
      const fin = await followMove(client, move.id, () => undefined);
      onProgress(++done, wanted.length);
      return fin;
    }),
  );
}
