/**
 * bmc is the in-memory fake of the BmcDriver: machines with power, health, a boot override and
 * an installed personality, modelled on the emulator (src/emulators/bmc/machine.ts) without its
 * processes. Powering on is booting: a one-time override is consumed by the boot that uses it,
 * whatever the outcome; an HTTP boot fetches the pointer with the machine's UUID (over HTTP by
 * default, as the emulator's boot loader does) and a failed fetch leaves the machine on,
 * Critical, with nothing installed. A booted machine "serves" its personality's group, which
 * `probe` reports as the server runtime's /healthz would. Resets are acknowledged at once and
 * carried out in order, one at a time per machine, as a BMC does.
 */
import { HostfleetError } from '../../../src/core/errors.js';
import type { Personality } from '../../../src/core/model/personality.js';
import { assertBootPointer, assertResetType } from '../../../src/drivers/bmc/index.js';
import type {
  BmcDriver,
  BootOverrideMode,
  Health,
  PowerState,
  ResetType,
  SystemInfo,
} from '../../../src/drivers/bmc/index.js';
import type { VolumeDriver } from '../../../src/drivers/volumes/index.js';
import type { HealthAnswer } from '../../../src/services/manager/dispatcher.js';
import { fetchBootPersonality } from '../../../src/emulators/bmc/machine.js';
import { Faults } from './faults.js';

/**
 * BMC_OPS are the BmcDriver methods a test can fail or stall, and `boot`: a machine's own
 * fetch of its boot pointer (failing it fails the boot, as a pointer that cannot be fetched).
 */
export const BMC_OPS = ['listSystems', 'getSystem', 'setBootPointer', 'clearBootPointer', 'reset', 'boot'] as const;
/** BmcOp is one of BMC_OPS. */
export type BmcOp = (typeof BMC_OPS)[number];

/** BootLoader fetches a boot pointer for a machine: the personality, or why the boot failed. */
export type BootLoader = (uri: string, machineUuid: string) => Promise<Personality | string>;

/** FakeMachine is one machine's state, as the test may inspect it. */
export interface FakeMachine {
  readonly id: string;
  readonly uuid: string;
  readonly dataAddress: string;
  readonly powerState: PowerState;
  readonly health: Health;
  readonly boot: { readonly enabled: BootOverrideMode; readonly target: string; readonly httpBootUri: string | null };
  /** installed is the personality on the machine's disk, booted when no override is set. */
  readonly installed: Personality | null;
  /** running is the personality the machine serves, or null (off, idle or failed). */
  readonly running: Personality | null;
  /** boots counts the workloads started: it changes on every boot, like a process id. */
  readonly boots: number;
  readonly bootError: string | null;
  /** version changes on every visible change (the Redfish ETag). */
  readonly version: number;
}

/** FakeBmcOptions configure fakeBmc. */
export interface FakeBmcOptions {
  /** url is the BMC's URL, which servers are registered with (default http://bmc.fake). */
  readonly url?: string;
  readonly machines: number;
  /** boot fetches pointers; default: HTTP GET with the X-Hostfleet-Machine header. */
  readonly boot?: BootLoader;
  /** volumes, when given, must export the personality's volume to the machine for it to boot, as the emulator checks. */
  readonly volumes?: VolumeDriver;
}

/** FakeBmc is a BmcDriver over in-memory machines, with the test's controls. */
export interface FakeBmc extends BmcDriver {
  readonly url: string;
  readonly machines: readonly { readonly id: string; readonly uuid: string; readonly dataAddress: string }[];
  readonly faults: Faults<BmcOp>;
  /** machine is the current state of a machine. */
  machine(id: string): FakeMachine;
  /** settled resolves once every accepted power operation has been carried out. */
  settled(): Promise<void>;
  /** probe answers for the machine at a data address as its runtime's /healthz would; it throws when nothing listens. */
  probe(address: string, timeoutMs?: number): Promise<HealthAnswer>;
}

/** httpBootLoader is the emulator's boot loader: GET the pointer with the machine's UUID, check the personality. */
export const httpBootLoader: BootLoader = (uri, machineUuid) => fetchBootPersonality(uri, machineUuid, 5000);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** OFF_TYPES are the reset types that leave a machine off. */
const OFF_TYPES: readonly ResetType[] = ['ForceOff', 'GracefulShutdown'];

/** fakeBmc returns a fake BMC with `machines` machines m1…mN, all off, no override. */
export function fakeBmc(opts: FakeBmcOptions): FakeBmc {
  const url = (opts.url ?? 'http://bmc.fake').replace(/\/+$/, '');
  const load = opts.boot ?? httpBootLoader;
  const machines = new Map<string, Mutable<FakeMachine>>();
  const queues = new Map<string, Promise<void>>();
  for (let i = 1; i <= opts.machines; i++) {
    const id = `m${i}`;
    machines.set(id, {
      id,
      uuid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      dataAddress: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:8080`,
      powerState: 'Off',
      health: 'OK',
      boot: { enabled: 'Disabled', target: 'None', httpBootUri: null },
      installed: null,
      running: null,
      boots: 0,
      bootError: null,
      version: 1,
    });
    queues.set(id, Promise.resolve());
  }
  let closed = false;
  const faults = new Faults<BmcOp>(
    (op) =>
      new HostfleetError('E_BMC', `BMC ${url}: ${op} failed: did not answer (injected)`, {
        details: { bmc: url, status: null },
      }),
  );

  function closedError(op: string, id: string | null): HostfleetError {
    return new HostfleetError(
      'E_BMC',
      `BMC ${url}${id === null ? '' : `, system ${id}`}: ${op} failed: did not answer: the driver is closed`,
      { details: { bmc: url, system: id, status: null } },
    );
  }

  function get(op: string, id: string): Mutable<FakeMachine> {
    if (closed) throw closedError(op, id);
    const m = machines.get(id);
    if (!m)
      throw new HostfleetError(
        'E_BMC',
        `BMC ${url}, system ${id}: ${op} failed: answered HTTP 404: The resource at the URI '/redfish/v1/Systems/${id}' was not found.`,
        { details: { bmc: url, system: id, status: 404 } },
      );
    return m;
  }

  function info(m: FakeMachine): SystemInfo {
    return {
      id: m.id,
      uuid: m.uuid,
      powerState: m.powerState,
      health: m.health,
      boot: { ...m.boot },
      dataAddress: m.dataAddress,
    };
  }

  function change(m: Mutable<FakeMachine>, patch: Partial<FakeMachine>): void {
    Object.assign(m, patch);
    m.version++;
  }

  function fail(m: Mutable<FakeMachine>, reason: string): void {
    change(m, {
      health: 'Critical',
      bootError: reason,
      running: null,
      ...(m.powerState === 'PoweringOn' ? { powerState: 'On' as const } : {}),
    });
  }

  async function powerOff(m: Mutable<FakeMachine>): Promise<void> {
    if (m.powerState === 'Off') return;
    change(m, { powerState: 'PoweringOff' });
    await new Promise((r) => setImmediate(r));
    change(m, { powerState: 'Off', running: null, health: 'OK', bootError: null });
  }

  async function powerOn(m: Mutable<FakeMachine>): Promise<void> {
    change(m, { powerState: 'PoweringOn', health: 'OK', bootError: null });
    await new Promise((r) => setImmediate(r));
    let personality = m.installed;
    const b = m.boot;
    if (b.enabled !== 'Disabled' && b.target !== 'None') {
      if (b.enabled === 'Once') change(m, { boot: { ...b, enabled: 'Disabled' } });
      if (b.target !== 'UefiHttp')
        return fail(
          m,
          `${b.target} boot is not emulated; set BootSourceOverrideTarget to UefiHttp with an HttpBootUri`,
        );
      change(m, { installed: null });
      if (b.httpBootUri === null) return fail(m, 'UefiHttp boot selected but Boot.HttpBootUri is empty');
      const uri = b.httpBootUri;
      const fetched = await faults.enter('boot', [m.id, uri]).then(
        () => load(uri, m.uuid),
        (e: unknown) => `boot pointer ${uri} did not answer: ${(e as Error).message}`,
      );
      if (typeof fetched === 'string') return fail(m, fetched);
      personality = fetched;
      change(m, { installed: fetched });
    }
    if (personality === null) return change(m, { powerState: 'On' });
    if (opts.volumes) {
      const exported = await opts.volumes.exportedTo(m.uuid);
      if (exported !== personality.volume.id)
        return fail(
          m,
          `volume ${personality.volume.id} of account ${personality.account.id} is not exported to machine ${m.uuid} (exported: ${exported ?? 'none'})`,
        );
    }
    change(m, { powerState: 'On', running: personality, boots: m.boots + 1 });
  }

  function enqueue(m: Mutable<FakeMachine>, op: () => Promise<void>): void {
    queues.set(
      m.id,
      (queues.get(m.id) ?? Promise.resolve())
        .then(op)
        .catch((e: unknown) => fail(m, `power operation failed: ${(e as Error).message}`)),
    );
  }

  return {
    url,
    machines: [...machines.values()].map((m) => ({ id: m.id, uuid: m.uuid, dataAddress: m.dataAddress })),
    faults,
    machine(id) {
      const m = machines.get(id);
      if (!m) throw new Error(`the fake BMC has no machine ${id}`);
      return { ...m };
    },
    async settled() {
      await Promise.all(queues.values());
    },
    async probe(address) {
      const m = [...machines.values()].find((x) => x.dataAddress === address);
      await new Promise((r) => setImmediate(r));
      if (!m || m.powerState !== 'On' || m.running === null) throw new Error(`connect ECONNREFUSED ${address}`);
      return { statusCode: 200, group: m.running.group.id };
    },

    async listSystems() {
      await faults.enter('listSystems', []);
      if (closed) throw closedError('listSystems', null);
      return [...machines.values()].map(info);
    },
    async getSystem(systemId) {
      await faults.enter('getSystem', [systemId]);
      const m = info(get('getSystem', systemId));
      await faults.leave('getSystem');
      return m;
    },
    async setBootPointer(systemId, httpBootUri, mode) {
      assertBootPointer(httpBootUri, mode);
      await faults.enter('setBootPointer', [systemId, httpBootUri, mode]);
      const m = get('setBootPointer', systemId);
      if (!(m.boot.enabled === mode && m.boot.target === 'UefiHttp' && m.boot.httpBootUri === httpBootUri))
        change(m, { boot: { enabled: mode, target: 'UefiHttp', httpBootUri } });
      await faults.leave('setBootPointer');
    },
    async clearBootPointer(systemId) {
      await faults.enter('clearBootPointer', [systemId]);
      const m = get('clearBootPointer', systemId);
      if (!(m.boot.enabled === 'Disabled' && m.boot.httpBootUri === null))
        change(m, { boot: { enabled: 'Disabled', target: 'None', httpBootUri: null } });
      await faults.leave('clearBootPointer');
    },
    async reset(systemId, type) {
      assertResetType(type);
      await faults.enter('reset', [systemId, type]);
      const m = get(`reset ${type}`, systemId);
      enqueue(m, async () => {
        if (type === 'On') {
          if (m.powerState === 'Off') await powerOn(m);
        } else if (OFF_TYPES.includes(type)) {
          await powerOff(m);
        } else {
          await powerOff(m);
          await powerOn(m);
        }
      });
      await faults.leave('reset');
    },
    async close() {
      closed = true;
    },
  };
}
