/**
 * waits are the two steps of a move that wait on the machine: for its health endpoint to
 * answer as a server of its new group after a boot, and for its BMC to report it off. Both
 * poll on the dispatcher's clock and stop when the manager stops.
 */
import { request as httpRequest } from 'undici';
import { HostfleetError } from '../../../core/errors.js';
import type { MoveRecord } from '../../../core/model/records.js';
import type { StoredServer } from '../../../core/model/server.js';
import type { BmcDriver } from '../../../drivers/bmc/index.js';
import * as db from '../../../drivers/store/resources.js';
import type { DispatcherDeps } from '../dispatcher.js';

/** HealthAnswer is what a server's health endpoint said: its HTTP status and the group it says it serves. */
export interface HealthAnswer {
  readonly statusCode: number;
  readonly group: string | null;
}

/** HealthProbe asks the server at address (host:port on the data plane) for its health; it throws when nothing answers. */
export type HealthProbe = (address: string, timeoutMs: number) => Promise<HealthAnswer>;

/** httpHealthProbe GETs http://address/healthz, where the server runtime answers with its personality's group. */
export const httpHealthProbe: HealthProbe = async (address, timeoutMs) => {
  const r = await httpRequest(`http://${address}/healthz`, {
    method: 'GET',
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = (await r.body.json().catch(() => null)) as { group?: unknown } | null;
  return { statusCode: r.statusCode, group: typeof body?.group === 'string' ? body.group : null };
};

/**
 * WARM_CHECK_MS bounds the health check of a warm join: a warm server answers at once, and one
 * that does not is booted afresh instead of being waited for.
 */
export const WARM_CHECK_MS = 2000;

/** waitPowerOff polls the BMC until the system reports PowerState Off, at most drainTimeoutMs (a retryable E_BMC then). */
export async function waitPowerOff(
  d: DispatcherDeps,
  signal: AbortSignal,
  bmc: BmcDriver,
  server: StoredServer,
): Promise<number> {
  const t0 = d.clock.now().getTime();
  const deadline = t0 + Math.max(d.moves.drainTimeoutMs, 1000);
  let state = 'unknown';
  while (d.clock.now().getTime() < deadline) {
    if (signal.aborted) throw new Error('manager shutting down');
    state = (await bmc.getSystem(server.systemId)).powerState;
    if (state === 'Off') return d.clock.now().getTime() - t0;
    await d.clock.sleep(d.moves.healthPollMs, signal).catch(() => undefined);
  }
  throw new HostfleetError(
    'E_BMC',
    `server ${server.id} did not reach PowerState Off after ForceOff (still ${state})`,
    { details: { server: server.id, powerState: state } },
  );
}

/**
 * waitHealthy polls the server's health endpoint until it answers as a server of the group.
 * It also watches the BMC: a machine whose boot failed (Health Critical — e.g. it could not
 * fetch its pointer while the manager was down) will never answer, so the move is rewound
 * to a fresh boot pointer instead of waiting out the timeout.
 */
export async function waitHealthy(
  d: DispatcherDeps,
  signal: AbortSignal,
  server: StoredServer,
  move: MoveRecord,
  groupId: string,
  timeoutMs: number,
): Promise<number> {
  const t0 = d.clock.now().getTime();
  const deadline = t0 + timeoutMs;
  let last = 'no answer';
  let nextBmcCheck = t0 + 500;
  while (d.clock.now().getTime() < deadline) {
    if (signal.aborted) throw new Error('manager shutting down');
    try {
      const r = await (d.health ?? httpHealthProbe)(server.address, 1000);
      if (r.statusCode === 200 && r.group === groupId) return d.clock.now().getTime() - t0;
      last = `HTTP ${r.statusCode}, group ${r.group ?? '?'}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (d.clock.now().getTime() >= nextBmcCheck) {
      nextBmcCheck = d.clock.now().getTime() + 500;
      const sys = await d
        .bmcFor(server.bmcUrl)
        .getSystem(server.systemId)
        .catch(() => null);
      if (sys && sys.health === 'Critical') {
        const fetched = move.bootTokenHash !== null && (await db.bootPointerUsed(d.store, move.bootTokenHash));
        throw new HostfleetError(
          'E_BOOT_TIMEOUT',
          `server ${server.id} failed to boot (BMC health Critical; boot pointer ${fetched ? 'fetched' : 'never fetched'})`,
          { details: { rewind: true, fetched } },
        );
      }
    }
    await d.clock.sleep(d.moves.healthPollMs, signal).catch(() => undefined);
  }
  throw new HostfleetError(
    'E_BOOT_TIMEOUT',
    `server at ${server.address} did not answer its health check as a server of ${groupId} within ${timeoutMs} ms (last: ${last})`,
    { details: { address: server.address, group: groupId } },
  );
}
