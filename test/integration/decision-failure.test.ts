// Failures on the embedded site: a serving server whose workload is killed (kill -9) is marked
// failed, detached and replaced at once from the pool, and power-cycled back to the cold pool;
// the same machine failing a second time is quarantined (switched off, out of the pool).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';

interface ServerOut {
  id: string;
  state: string;
  groupId: string | null;
  moveId: string | null;
  systemId?: string;
}
interface Failure {
  serverId: string;
  causes: string[];
  action: string;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('decision loop: failed servers', () => {
  let site: TestSite;
  const servers = async () => (await site.client.call<{ servers: ServerOut[] }>('GET', '/v1/servers')).servers;
  const serving = async () =>
    (await servers()).filter((s) => s.groupId === 'alpha-web' && s.state === 'active' && s.moveId === null);
  async function until<T>(what: string, f: () => Promise<T | null | false>, timeoutMs = 30_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (let i = 0; Date.now() < end && i < 10_000; i++) {
      const v = await f();
      if (v) return v;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const killWorkload = (s: ServerOut) => {
    const pid = site.bmc.machines.find((m) => m.id === s.systemId)?.pids().workload ?? null;
    assert.ok(pid !== null, `no workload process on ${s.id}`);
    process.kill(pid, 'SIGKILL');
  };

  before(async () => {
    site = await startTestSite({ machines: 4 });
    const file = join(site.dir, 'manager.yaml');
    const cfg = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    cfg.decision = { tickMs: 250, powerPollMs: 250, graceMs: 500 };
    writeFileSync(file, YAML.stringify(cfg));
    await site.killManager();
    await site.startManager();
    await site.customer('alpha', ['alpha.test'], { minSize: 1 });
    await site.registerAll();
    await site.client.call('PUT', '/v1/groups/alpha-web/sla', {
      metric: 'servers',
      unitsPerServer: 1,
      committed: 2,
      burst: 2,
      extended: 2,
      priority: 0.5,
      responseTargetMs: 500,
    });
    await until('alpha filled to its committed level', async () => (await serving()).length === 2, 60_000);
  });
  after(async () => {
    await site?.stop();
  });

  test('a killed workload is replaced from the pool and its machine recycled; a second failure quarantines it', async () => {
    await sleep(1000);
    const [victim] = await serving();
    assert.ok(victim);
    killWorkload(victim);
    const replaced = await until('a replacement', async () => {
      const s = await serving();
      return s.length === 2 && !s.some((x) => x.id === victim.id) ? s : null;
    });
    assert.equal(replaced.length, 2);
    const recycled = await until(
      'the failed machine back in the cold pool',
      async () => (await servers()).find((s) => s.id === victim.id && s.state === 'pool-cold') ?? null,
    );
    assert.equal(recycled.groupId, null);
    const f1 = (await site.client.call<{ failures: Failure[] }>('GET', '/v1/failures')).failures.filter(
      (f) => f.serverId === victim.id,
    );
    assert.equal(f1.length, 1);
    assert.equal(f1[0]?.action, 'recycle');
    assert.ok(f1[0]?.causes.length);

    // The same machine serves again, then fails again: quarantined.
    const m = await site.moveAndWait(victim.id, 'alpha-web');
    assert.equal(m.status, 'done');
    await sleep(800);
    const again = (await serving()).find((s) => s.id === victim.id);
    assert.ok(again);
    killWorkload(again);
    await until(
      'the machine quarantined',
      async () => (await servers()).find((s) => s.id === victim.id && s.state === 'off') ?? null,
    );
    const f2 = (await site.client.call<{ failures: Failure[] }>('GET', '/v1/failures')).failures.filter(
      (f) => f.serverId === victim.id,
    );
    assert.equal(f2[0]?.action, 'quarantine');
    // Quarantined machines are not in the pool: the plan never draws on them.
    await sleep(1000);
    assert.ok(!(await serving()).some((s) => s.id === victim.id));
    const plans = (
      await site.client.call<{ plans: { plan: { plan: { moves: { serverId: string }[] } } }[] }>(
        'GET',
        '/v1/plans?moves=true&limit=100',
      )
    ).plans;
    assert.ok(plans.some((p) => p.plan.plan.moves.length > 0));
  });
});
