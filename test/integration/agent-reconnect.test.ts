// Agents outlive the manager: the manager (which hosts the embedded bus hub) is killed with
// SIGKILL and started again on the same port; the agent reconnects by itself and the new
// manager hears its status again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSite } from '../support/site.js';
import type { TestSite } from '../support/site.js';
import type { AgentStatus } from '../../src/core/agent/messages.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function latest(site: TestSite): Promise<AgentStatus | null> {
  return (await site.client.call<{ latest: AgentStatus | null }>('GET', '/v1/servers/srv-01/status?history=false'))
    .latest;
}

describe('agent reconnects when the manager restarts', () => {
  let site: TestSite;
  before(async () => {
    site = await startTestSite({ machines: 1, managerProcess: true });
    await site.customer('alpha', ['alpha.test']);
    await site.registerAll();
    const m = await site.moveAndWait('srv-01', 'alpha-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
  });
  after(async () => {
    await site?.stop();
  });

  test('statuses arrive again after a kill -9 of the manager, from the same agent process', async () => {
    let first: AgentStatus | null = null;
    for (let i = 0; i < 50 && first === null; i++) {
      first = await latest(site);
      if (first === null) await sleep(200);
    }
    assert.ok(first, 'a status before the restart');
    const agentPid = site.bmc.machines[0]?.pids().agent;
    assert.ok(agentPid);
    await site.killManager();
    await sleep(1500);
    const restartedAt = Date.now();
    await site.startManager();
    let again: AgentStatus | null = null;
    for (let i = 0; i < 75; i++) {
      const s = await latest(site);
      if (s !== null && s.at > restartedAt) {
        again = s;
        break;
      }
      await sleep(200);
    }
    assert.ok(again, 'no status reached the restarted manager within 15 s');
    assert.equal(again.boot, first.boot, 'the same agent run (it reconnected, it was not restarted)');
    assert.ok(again.seq > first.seq);
    assert.equal(site.bmc.machines[0]?.pids().agent, agentPid);
  });
});
