// Agents on the embedded site: a booted server runs its agent as its own process (its own uid
// when the BMC is root) with the bus token in the agent's environment and never in the
// workload's; the manager receives statuses and serves them; an SLA change reaches the
// agents; power-off leaves nothing running.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import type { AgentStatus } from '../../src/core/agent/messages.js';
import { AGENT_UID } from '../../src/emulators/bmc/machine.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function environ(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface ServerStatus {
  server: string;
  latest: AgentStatus | null;
  stale: boolean | null;
  history: { at: number; rps: number; group: string }[];
}

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('agents on the embedded site', () => {
  let site: TestSite;
  let token: string;
  before(async () => {
    site = await startTestSite({ machines: 2 });
    const bus = site.manager?.ctx.cfg.bus;
    assert.ok(bus && bus.kind === 'loopback');
    token = bus.token;
    await site.customer('alpha', ['alpha.test']);
    await site.registerAll();
    const m = await site.moveAndWait('srv-01', 'alpha-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
  });
  after(async () => {
    await site?.stop();
  });

  test("the agent runs as its own process; the bus token is in its environment and not in the workload's", () => {
    const pids = site.bmc.machines[0]?.pids();
    assert.ok(pids && pids.workload !== null && pids.agent !== null, JSON.stringify(pids));
    assert.notEqual(pids.agent, pids.workload);
    const agentEnv = environ(pids.agent);
    const workloadEnv = environ(pids.workload);
    // The probe can fail: the token is really in the agent's environment.
    assert.ok(
      agentEnv.some((e) => e.includes(token)),
      'the agent has the token',
    );
    assert.ok(
      workloadEnv.some((e) => e.startsWith('HOSTFLEET_PERSONALITY=')),
      'the workload has its personality',
    );
    assert.ok(!workloadEnv.some((e) => e.includes(token)), 'the bus token leaked into the workload environment');
    assert.ok(
      !workloadEnv.some((e) => e.includes('busUrl') || e.includes('"agent"')),
      'the agent section leaked into the workload environment',
    );
    if (process.getuid?.() === 0) {
      assert.equal(uidOf(pids.agent), AGENT_UID);
      assert.notEqual(uidOf(pids.workload), AGENT_UID);
      assert.notEqual(uidOf(pids.workload), 0);
    }
  });

  test('the manager serves the latest status and history; /v1/status carries load and need', async () => {
    // Some traffic so the load figures are not all zero.
    for (let i = 0; i < 20; i++)
      await (await request(`${site.edge.url}/app/x`, { headers: { host: 'alpha.test' } })).body.dump();
    const s = await waitFor('a status of srv-01 with history', async () => {
      const r = await site.client.call<ServerStatus>('GET', '/v1/servers/srv-01/status');
      return r.latest !== null && r.history.length >= 3 && r.history.some((h) => h.rps > 0) ? r : null;
    });
    assert.equal(s.latest?.group, 'alpha-web');
    assert.equal(s.latest?.site, 'test');
    assert.equal(s.latest?.decider, true, 'the only server of its group decides');
    assert.ok(s.latest?.decision !== null, 'the decider publishes its decision');
    assert.equal(s.stale, false);
    const g = await site.client.call<{
      group: string;
      decider: string | null;
      servers: { server: string; member: boolean; latest: AgentStatus | null }[];
    }>('GET', '/v1/groups/alpha-web/status');
    assert.equal(g.decider, 'srv-01');
    assert.deepEqual(
      g.servers.map((x) => [x.server, x.member]),
      [['srv-01', true]],
    );
    const st = await site.client.call<{
      groups: {
        id: string;
        servers: { id: string; agent: { rps: number; need: number | null; stale: boolean } | null }[];
      }[];
    }>('GET', '/v1/status');
    const srv = st.groups.find((x) => x.id === 'alpha-web')?.servers.find((x) => x.id === 'srv-01');
    assert.ok(srv?.agent, JSON.stringify(srv));
    assert.equal(srv.agent.stale, false);
    // srv-02 is in the pool, never booted: no agent status.
    const other = await site.client.call<ServerStatus>('GET', '/v1/servers/srv-02/status');
    assert.equal(other.latest, null);
  });

  test('a customer sees the status of its own group only', async () => {
    await site.customer('bravo', ['bravo.test']);
    const { token: bravoToken } = await site.client.call<{ token: string }>('POST', '/v1/tokens', {
      role: 'customer',
      accountId: 'bravo',
      name: 'bravo',
    });
    const asBravo = async (path: string) =>
      request(`${site.managerUrl}${path}`, { headers: { authorization: `Bearer ${bravoToken}` } });
    for (const path of ['/v1/servers/srv-01/status', '/v1/groups/alpha-web/status']) {
      const r = await asBravo(path);
      assert.equal(r.statusCode, 404, path);
      await r.body.dump();
    }
    const own = await asBravo('/v1/groups/bravo-web/status');
    assert.equal(own.statusCode, 200);
    assert.deepEqual(((await own.body.json()) as { servers: unknown[] }).servers, []);
  });

  test('an SLA change reaches the agents as their priority input', async () => {
    await site.client.call('PUT', '/v1/groups/alpha-web/sla', {
      metric: 'servers',
      unitsPerServer: 1,
      committed: 1,
      burst: 2,
      extended: 3,
      priority: 0.9,
      responseTargetMs: 321,
    });
    const s = await waitFor(
      'the new priority in the status',
      async () => {
        const r = await site.client.call<ServerStatus>('GET', '/v1/servers/srv-01/status?history=false');
        return r.latest && r.latest.priority === 0.9 ? r : null;
      },
      10_000,
    );
    assert.equal(s.latest?.responseTargetMs, 321);
    assert.deepEqual(s.history, []);
  });

  test('power-off ends the workload and the agent', async () => {
    const pids = site.bmc.machines[0]?.pids();
    assert.ok(pids && pids.workload !== null && pids.agent !== null);
    const m = await site.moveAndWait('srv-01', 'pool');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    await site.bmc.settled();
    const after = site.bmc.machines[0]?.pids();
    assert.deepEqual(after, { workload: null, agent: null });
    await waitFor(
      'both processes gone',
      async () => (!alive(pids.workload as number) && !alive(pids.agent as number) ? true : null),
      10_000,
    );
  });
});
