// The warm pool on the embedded site: with decision.warmPoolSize 1 and a group that asks for
// servers, the decision loop pre-boots a cold pool server with the group's personality (pool-warm,
// healthy, not attached at the edge, its agent counted by nobody); the group's next add takes it
// with a health check and an attach only — no boot — and its agent joins the group; a warm server
// no longer wanted is cooled back to the cold pool (switched off, volume withdrawn).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import YAML from 'yaml';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import * as db from '../../src/drivers/store/resources.js';
import type { StoredServer } from '../../src/drivers/store/resources.js';
import { getMoveKind } from '../../src/drivers/store/warm.js';
import { isWarmStatus } from '../../src/services/manager/components/decision/index.js';
import type { Manager } from '../../src/services/manager/manager.js';
import type { MoveRecord } from '../../src/core/model/records.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SLA = { metric: 'servers', unitsPerServer: 1, burst: 3, extended: 3, priority: 0.5, responseTargetMs: 500 };

describe('warm pool', () => {
  let site: TestSite;
  const mgr = (): Manager => {
    assert.ok(site.manager, 'the test runs the manager in process');
    return site.manager;
  };
  async function until<T>(
    what: string,
    f: () => Promise<T | null | false | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (let i = 0; Date.now() < end && i < 10_000; i++) {
      const v = await f();
      if (v) return v;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const servers = () => db.listServers(mgr().store);
  const movesOf = async (serverId: string): Promise<MoveRecord[]> =>
    (await db.listMoves(mgr().store, { limit: 1000 })).filter((m) => m.serverId === serverId);
  const attached = async (group: string): Promise<string[]> =>
    ((await mgr().edge.status()).find((p) => p.id === group)?.servers ?? []).map((s) => s.id);
  const ms = (m: MoveRecord) => Date.parse(m.finishedAt ?? '') - Date.parse(m.createdAt);

  before(async () => {
    site = await startTestSite({ machines: 3 });
    const file = join(site.dir, 'manager.yaml');
    const cfg = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    cfg.decision = { tickMs: 250, powerPollMs: 250, graceMs: 500, warmPoolSize: 1 };
    writeFileSync(file, YAML.stringify(cfg));
    await site.killManager();
    await site.startManager();
    await site.customer('alpha', ['alpha.test']);
    await site.registerAll();
    // The group asks for a server: its SLA commits one, which the decision loop fills from the pool.
    await site.client.call('PUT', '/v1/groups/alpha-web/sla', { ...SLA, committed: 1 });
  });
  after(async () => {
    await site?.stop();
  });

  test('a server is pre-booted for the group, warm and healthy but not attached, its agent counted by nobody; the next add only attaches it', async (t) => {
    const member = await until('alpha filled to its committed level', async () =>
      (await servers()).find((s) => s.groupId === 'alpha-web' && s.state === 'active' && s.moveId === null),
    );
    const warm = await until('a server warm for alpha', async () =>
      (await servers()).find((s) => s.state === 'pool-warm' && s.moveId === null && s.warmFor === 'alpha-web'),
    );
    assert.equal(warm.groupId, null, 'a warm server is in the pool, in no group');
    const warmUp = (await movesOf(warm.id)).find((m) => m.status === 'done');
    assert.ok(warmUp);
    assert.equal(await getMoveKind(mgr().store, warmUp.id), 'warm-up');
    const upSteps = (await db.listMoveEvents(mgr().store, warmUp.id)).map((e) => e.step);
    for (const s of ['set-boot-pointer', 'switch-volume', 'reset', 'wait-healthy'])
      assert.ok(upSteps.includes(s), `warm-up ran ${s}`);
    assert.ok(!upSteps.includes('attach'), 'a warm-up never attaches');

    // Healthy as alpha's server, yet not in alpha's rotation at the edge.
    const h = await request(`http://${warm.address}/healthz`);
    assert.equal(h.statusCode, 200);
    assert.equal(((await h.body.json()) as { group?: string }).group, 'alpha-web');
    assert.deepEqual(await attached('alpha-web'), [member.id]);

    // Its agent publishes status marked warm; the group's decider does not count it.
    const loop = mgr().components.decision.loop;
    const ws = await until('the warm agent heard', async () => loop.lastStatus(warm.id));
    assert.ok(isWarmStatus(ws), 'the warm agent says it is warm');
    assert.equal(ws.decider, false);
    const dec = await until("the member's decision", async () => {
      const s = loop.lastStatus(member.id);
      return s?.decision ? s : null;
    });
    assert.equal(dec.decision?.servers, 1, 'the decider counts only the serving server');

    // An add for alpha (its committed level rises to 2) takes the warm server: no boot, only an attach.
    const cold = (await movesOf(member.id)).find((m) => m.status === 'done' && m.toGroup === 'alpha-web');
    assert.ok(cold);
    await site.client.call('PUT', '/v1/groups/alpha-web/sla', { ...SLA, committed: 2 });
    const join_ = await until('the warm server joined alpha', async () =>
      (await movesOf(warm.id)).find((m) => m.toGroup === 'alpha-web' && m.status !== 'running'),
    );
    assert.equal(join_.status, 'done');
    assert.equal(await getMoveKind(mgr().store, join_.id), 'warm-join');
    const steps = (await db.listMoveEvents(mgr().store, join_.id)).map((e) => e.step);
    assert.ok(steps.includes('attach'));
    for (const s of ['set-boot-pointer', 'switch-volume', 'reset'])
      assert.ok(!steps.includes(s), `a warm join does not ${s}: ${steps.join(', ')}`);
    const joined = (await db.getServer(mgr().store, warm.id)) as StoredServer;
    assert.equal(joined.state, 'active');
    assert.equal(joined.groupId, 'alpha-web');
    assert.equal(joined.warmFor, null, 'a serving server is warm for nobody');
    assert.deepEqual((await attached('alpha-web')).sort(), [member.id, warm.id].sort());
    t.diagnostic(`warm join ${ms(join_)} ms, cold move ${ms(cold)} ms`);
    // Relative, not a time limit: the warm join is a small fraction of the cold move (a boot).
    assert.ok(ms(join_) * 5 < ms(cold), `warm join ${ms(join_)} ms vs cold move ${ms(cold)} ms`);

    // The manager tells the agent it serves now: it stops saying warm and the decider counts it.
    await until('the joined agent no longer warm', async () => {
      const s = loop.lastStatus(warm.id);
      return s !== null && !isWarmStatus(s);
    });
    await until(
      'the decider counts two servers',
      async () => {
        const d = [loop.lastStatus(member.id), loop.lastStatus(warm.id)].find((s) => s?.decider === true);
        return d?.decision?.servers === 2;
      },
      20_000,
    );
  });

  test('a warm server no longer wanted is cooled: switched off, back in the cold pool', async () => {
    // The last pool server is warmed for alpha in turn (the pool keeps one warm).
    const warm = await until('the last pool server warm', async () =>
      (await servers()).find((s) => s.state === 'pool-warm' && s.moveId === null && s.warmFor === 'alpha-web'),
    );
    // The warm pool shrinks to none: the loop cools the surplus.
    (mgr().ctx.cfg.decision as { warmPoolSize: number }).warmPoolSize = 0;
    const cooled = await until('the warm server cooled', async () => {
      const s = await db.getServer(mgr().store, warm.id);
      return s?.state === 'pool-cold' && s.moveId === null ? s : null;
    });
    assert.equal(cooled.warmFor, null);
    const cool = (await movesOf(warm.id)).find(
      (m) => m.status === 'done' && m.requestedBy.startsWith('decision') && m.reason.includes('more warm servers'),
    );
    assert.ok(cool);
    assert.equal(await getMoveKind(mgr().store, cool.id), 'cool-down');
    assert.deepEqual(
      (await db.listMoveEvents(mgr().store, cool.id)).filter((e) => e.outcome === 'done').map((e) => e.step),
      ['power-off', 'switch-volume', 'done'],
    );
    const sys = await mgr().bmcFor(cooled.bmcUrl).getSystem(cooled.systemId);
    assert.equal(sys.powerState, 'Off');
    assert.ok(!(await attached('alpha-web')).includes(warm.id));
  });
});
