// The dispatcher's move workflow (src/services/manager/dispatcher.ts over src/core/dispatch),
// step by step, on a manager running in this process on the fake drivers: the cases of
// test/integration/move-failures.test.ts and site.test.ts (rollback, failure, a manager that
// stops mid-move, a one-time boot pointer used up meanwhile) without booting a machine.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkServerInvariants } from '../../../../src/core/model/server.js';
import type { MoveEvent, MoveRecord } from '../../../../src/core/model/records.js';
import { fakeClock } from '../../../support/fakes/index.js';
import type { Stall } from '../../../support/fakes/index.js';
import { startFakeSite } from '../../../support/fake-site.js';
import type { FakeSite } from '../../../support/fake-site.js';

/** outcomes are the recorded outcomes of one step of a move, its start left out. */
function outcomes(events: readonly MoveEvent[], step: string): string[] {
  return events.filter((e) => e.step === step && e.outcome !== 'started').map((e) => e.outcome);
}

/** doneSteps are the steps a move completed, in order. */
function doneSteps(events: readonly MoveEvent[]): string[] {
  return events.filter((e) => e.outcome === 'done').map((e) => e.step);
}

/** machineOf is the fake machine behind srv-NN (registerAll numbers them in order). */
function machineOf(server: string): string {
  return `m${Number(server.slice(4))}`;
}

describe('the dispatcher on fake drivers', () => {
  const clock = fakeClock();
  let site: FakeSite;

  /** edgePlaces lists the pools a server is attached to at the edge, with its state there. */
  async function edgePlaces(server: string): Promise<string[][]> {
    return (await site.edge.status()).flatMap((p) =>
      p.servers.filter((s) => s.id === server).map((s) => [p.id, s.state]),
    );
  }

  /** assertServing checks a server is where a finished move to group put it, on every driver. */
  async function assertServing(server: string, group: string, account: string): Promise<void> {
    const s = await site.server(server);
    assert.deepEqual([s.state, s.groupId, s.moveId], ['active', group, null]);
    assert.deepEqual(await edgePlaces(server), [[group, 'up']], 'attached in its group only');
    const m = site.bmc.machine(machineOf(server));
    assert.equal(m.powerState, 'On');
    assert.equal(m.running?.group.id, group, 'the machine runs the group personality');
    assert.equal(m.boot.enabled, 'Disabled', 'no boot override is left behind');
    assert.equal(await site.volumes.exportedTo(m.uuid), account);
  }

  /** assertInvariants checks that every server is in exactly one place and none is left moving. */
  async function assertInvariants(): Promise<void> {
    const { servers } = (
      await site.call<{ servers: Array<{ id: string; state: never; groupId: string | null; moveId: string | null }> }>(
        'GET',
        '/v1/servers',
      )
    ).body;
    assert.deepEqual(checkServerInvariants(servers), []);
    assert.deepEqual(
      servers.filter((s) => s.moveId !== null).map((s) => s.id),
      [],
    );
  }

  /** request starts a move through the API and returns its record at once. */
  async function request(server: string, to: string): Promise<MoveRecord> {
    const r = await site.call<{ move: MoveRecord }>('POST', '/v1/moves', { server, to, reason: 'test', force: true });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.move;
  }

  /**
   * crash stops the manager while a driver call is held at `stall`: the dispatcher is stopped
   * first, then the held call fails, so nothing records what the call did (as when a manager
   * dies between an action and its record). site.startManager starts the next one.
   */
  async function crash(stall: Stall): Promise<void> {
    const m = site.manager;
    assert.ok(m);
    const closing = m.dispatcher.close();
    stall.fail();
    await closing;
    await site.stopManager();
  }

  before(async () => {
    site = await startFakeSite({ machines: 6, clock });
    await site.customer('alpha', ['alpha.test']);
    await site.customer('bravo', ['bravo.test', 'www.bravo.test']);
    await site.registerAll();
  });
  afterEach(() => {
    for (const f of [site.bmc.faults, site.edge.faults, site.volumes.faults, site.hypervisor.faults, site.health])
      f.heal();
  });
  after(async () => {
    await site?.stop();
  });

  test('a move from the pool into a group runs every step in order and leaves the server serving the group', async () => {
    const m = await site.move('srv-01', 'alpha-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    assert.deepEqual(doneSteps(await site.events(m.id)), [
      'set-boot-pointer',
      'switch-volume',
      'reset',
      'wait-healthy',
      'attach',
      'done',
    ]);
    await assertServing('srv-01', 'alpha-web', 'alpha');
    assert.equal(site.bmc.machine('m1').boots, 1);
    assert.deepEqual((await site.edge.status()).find((p) => p.id === 'alpha-web')?.domains, ['alpha.test']);
    const req = site.edge.request('alpha.test');
    assert.equal(req?.server, 'srv-01', 'the edge routes the group domain to it');
    req?.finish();
    await assertInvariants();
  });

  test('a move between groups waits for the requests in flight, detaches, and brings the other customer up clean', async () => {
    const inFlight = site.edge.request('alpha.test');
    assert.equal(inFlight?.server, 'srv-01');
    const move = await request('srv-01', 'bravo-web');
    for (let i = 0; site.edge.faults.count('drain') === 0 && i < 1000; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 30));
    const during = await site.call<{ move: MoveRecord }>('GET', `/v1/moves/${move.id}`);
    assert.equal(during.body.move.step, 'drain', 'the drain waits for the request in flight');
    assert.deepEqual(await edgePlaces('srv-01'), [['alpha-web', 'draining']]);
    inFlight?.finish();
    const fin = await site.manager!.dispatcher.wait(move.id);
    assert.equal(fin.status, 'done', JSON.stringify(fin.error));
    const events = await site.events(move.id);
    assert.deepEqual(doneSteps(events), [
      'drain',
      'detach',
      'set-boot-pointer',
      'switch-volume',
      'reset',
      'wait-healthy',
      'attach',
      'done',
    ]);
    assert.deepEqual(events.find((e) => e.step === 'drain' && e.outcome === 'done')?.detail, {
      ms: 0,
      drained: true,
      inflight: 0,
    });
    await assertServing('srv-01', 'bravo-web', 'bravo');
    assert.equal(site.bmc.machine('m1').running?.account.id, 'bravo', 'nothing of alpha runs on it');
    assert.equal(site.bmc.machine('m1').boots, 2);
    await assertInvariants();
  });

  test('a move to the pool switches the server off, withdraws its volume and clears its boot pointer', async () => {
    const m = await site.move('srv-01', 'pool');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    assert.deepEqual(doneSteps(await site.events(m.id)), ['drain', 'detach', 'switch-volume', 'power-off', 'done']);
    const s = await site.server('srv-01');
    assert.deepEqual([s.state, s.groupId, s.moveId], ['pool-cold', null, null]);
    const machine = site.bmc.machine('m1');
    assert.deepEqual([machine.powerState, machine.running, machine.boot.enabled], ['Off', null, 'Disabled']);
    assert.equal(await site.volumes.exportedTo(machine.uuid), null);
    assert.deepEqual(await edgePlaces('srv-01'), []);
    assert.equal(site.edge.request('bravo.test'), null, 'bravo has no server left: the edge answers 503');
    await assertInvariants();
  });

  describe('a step that keeps failing before the reset rolls the move back', () => {
    const ROWS = [
      { step: 'drain', code: 'E_EDGE', fail: () => site.edge.faults.failAlways('drain') },
      { step: 'detach', code: 'E_EDGE', fail: () => site.edge.faults.failAlways('detach') },
      { step: 'set-boot-pointer', code: 'E_BMC', fail: () => site.bmc.faults.failAlways('setBootPointer') },
      { step: 'switch-volume', code: 'E_INTERNAL', fail: () => site.volumes.faults.failAlways('exportTo') },
    ];
    before(async () => {
      assert.equal((await site.move('srv-02', 'alpha-web')).status, 'done');
    });
    for (const row of ROWS) {
      test(`${row.step} failing: three attempts, then back in its group, attached, with its volume`, async () => {
        row.fail();
        const m = await site.move('srv-02', 'bravo-web', true);
        assert.equal(m.status, 'rolled-back', JSON.stringify(m));
        assert.equal(m.error?.code, row.code);
        assert.deepEqual(outcomes(await site.events(m.id), row.step), ['retry', 'retry', 'failed', 'rolled-back']);
        await assertServing('srv-02', 'alpha-web', 'alpha');
        assert.equal(site.bmc.machine('m2').boots, 1, 'the machine was never reset');
        await assertInvariants();
      });
    }
  });

  test('a step that fails once is retried and the move goes on', async () => {
    site.bmc.faults.failNext('reset');
    const m = await site.move('srv-02', 'bravo-web', true);
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    assert.deepEqual(outcomes(await site.events(m.id), 'reset'), ['retry', 'done']);
    await assertServing('srv-02', 'bravo-web', 'bravo');
    await assertInvariants();
  });

  describe('a step that keeps failing from the reset on marks the server failed', () => {
    const ROWS = [
      { step: 'reset', server: 'srv-03', code: 'E_BMC', fail: () => site.bmc.faults.failAlways('reset') },
      { step: 'attach', server: 'srv-04', code: 'E_EDGE', fail: () => site.edge.faults.failAlways('attach') },
    ];
    for (const row of ROWS) {
      test(`${row.step} failing: three attempts, then failed, in no group and nowhere at the edge`, async () => {
        row.fail();
        const m = await site.move(row.server, 'alpha-web');
        assert.equal(m.status, 'failed', JSON.stringify(m));
        assert.equal(m.error?.code, row.code);
        assert.deepEqual(outcomes(await site.events(m.id), row.step), ['retry', 'retry', 'failed']);
        const s = await site.server(row.server);
        assert.deepEqual([s.state, s.groupId, s.moveId], ['failed', null, null]);
        assert.deepEqual(await edgePlaces(row.server), []);
        await assertInvariants();
      });
    }
  });

  test('a boot that fails is retried from a fresh boot pointer', async () => {
    site.bmc.faults.failNext('boot');
    const m = await site.move('srv-05', 'alpha-web');
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    const events = await site.events(m.id);
    assert.ok(
      events.some(
        (e) =>
          e.step === 'wait-healthy' &&
          e.outcome === 'retry' &&
          e.detail?.rewindTo === 'set-boot-pointer' &&
          e.detail.code === 'E_BOOT_TIMEOUT',
      ),
      JSON.stringify(events),
    );
    assert.deepEqual(outcomes(events, 'set-boot-pointer'), ['done', 'done'], 'a second pointer was issued');
    assert.equal(site.bmc.machine('m5').boots, 1, 'one boot failed, one succeeded');
    await assertServing('srv-05', 'alpha-web', 'alpha');
  });

  test('a server that never answers as the new group’s server times out (E_BOOT_TIMEOUT) and is marked failed', async () => {
    site.health.failAlways('probe');
    const move = await request('srv-05', 'bravo-web');
    // Once the dispatcher is polling the server's health, its whole boot timeout passes.
    for (let i = 0; site.health.count('probe') === 0 && i < 5000; i++) await new Promise((r) => setTimeout(r, 1));
    clock.advance(60_001);
    const m = await site.manager!.dispatcher.wait(move.id);
    assert.equal(m.status, 'failed', JSON.stringify(m));
    assert.equal(m.error?.code, 'E_BOOT_TIMEOUT');
    assert.deepEqual(
      outcomes(await site.events(m.id), 'wait-healthy'),
      ['failed'],
      'a boot already waited out is not waited again',
    );
    const s = await site.server('srv-05');
    assert.deepEqual([s.state, s.groupId], ['failed', null]);
    await assertInvariants();
  });

  describe('a manager that stops mid-move: the next one resumes the move from its record', () => {
    const ROWS: Array<{ step: string; hold: () => Stall }> = [
      { step: 'drain', hold: () => site.edge.faults.stallNext('drain', { after: true }) },
      { step: 'detach', hold: () => site.edge.faults.stallNext('detach', { after: true }) },
      { step: 'set-boot-pointer', hold: () => site.bmc.faults.stallNext('setBootPointer', { after: true }) },
      { step: 'switch-volume', hold: () => site.volumes.faults.stallNext('exportTo', { after: true }) },
      { step: 'reset', hold: () => site.bmc.faults.stallNext('reset', { after: true }) },
      { step: 'wait-healthy', hold: () => site.health.stallNext('probe', { after: true }) },
      { step: 'attach', hold: () => site.edge.faults.stallNext('attach', { after: true }) },
    ];
    before(async () => {
      assert.equal((await site.move('srv-06', 'alpha-web')).status, 'done');
    });
    for (const [i, row] of ROWS.entries()) {
      const [to, account] = i % 2 === 0 ? ['bravo-web', 'bravo'] : ['alpha-web', 'alpha'];
      test(`stopped after ${row.step} acted but before it was recorded: the move ends in ${to}`, async () => {
        const stall = row.hold();
        const move = await request('srv-06', to);
        await stall.reached;
        // The machine boots from the pointer before the manager goes (its fetch must reach it).
        if (row.step === 'reset') await site.bmc.settled();
        await crash(stall);
        const m = await (await site.startManager()).dispatcher.wait(move.id);
        assert.equal(m.status, 'done', JSON.stringify(m.error));
        const events = await site.events(move.id);
        assert.equal(
          outcomes(events, row.step).at(-1),
          row.step === 'reset' ? 'skipped' : 'done',
          JSON.stringify(events),
        );
        await assertServing('srv-06', to, account);
        await assertInvariants();
      });
    }
  });

  test('a one-time boot pointer used up while the manager was down is issued again', async () => {
    const server = await site.server('srv-06');
    const to = server.groupId === 'alpha-web' ? 'bravo-web' : 'alpha-web';
    const stall = site.bmc.faults.stallNext('reset');
    const move = await request('srv-06', to);
    await stall.reached;
    await crash(stall);
    // Someone power-cycles the machine meanwhile: its boot consumes the Once override, cannot
    // fetch the personality from the stopped manager, and leaves the machine Critical.
    await site.bmc.reset('m6', 'ForceRestart');
    await site.bmc.settled();
    const machine = site.bmc.machine('m6');
    assert.deepEqual([machine.health, machine.boot.enabled, machine.running], ['Critical', 'Disabled', null]);
    const m = await (await site.startManager()).dispatcher.wait(move.id);
    assert.equal(m.status, 'done', JSON.stringify(m.error));
    const events = await site.events(move.id);
    assert.ok(
      events.some((e) => e.step === 'reset' && e.outcome === 'done' && e.detail?.pointerReissued === true),
      JSON.stringify(events),
    );
    await assertServing('srv-06', to, to.slice(0, -4));
    await assertInvariants();
  });
});
