/**
 * move asks the manager to move a server and follows the workflow step by step with a
 * progress bar until it is done, rolled back or failed.
 */
import cliProgress from 'cli-progress';
import { stepsFor } from '../core/dispatch/move.js';
import type { MoveRecord } from '../core/model/records.js';
import { systemClock } from '../drivers/clock/index.js';
import type { Client } from './client.js';
import { ApiError } from './client.js';
import { interactive } from './style.js';

/** followMove polls a move until it ends, calling onStep as it advances. */
export async function followMove(
  client: Client,
  id: string,
  onStep: (m: MoveRecord) => void,
  timeoutMs = 180_000,
): Promise<MoveRecord> {
  const deadline = systemClock.now().getTime() + timeoutMs;
  for (;;) {
    const { move } = await client.call<{ move: MoveRecord }>('GET', `/v1/moves/${id}`);
    onStep(move);
    if (move.status !== 'running') return move;
    if (systemClock.now().getTime() > deadline)
      throw new Error(`move ${id} is still running after ${timeoutMs / 1000} s; see hostfleet status`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** ServerPlace is where GET /v1/servers/{id} says a server is. */
interface ServerPlace {
  readonly place: string;
  readonly groupId: string | null;
}

/** isAt tells whether a server already is where a move to `to` (a group, or "pool") would take it. */
export function isAt(s: ServerPlace, to: string): boolean {
  return to === 'pool' ? s.place === 'pool' : s.place === 'group' && s.groupId === to;
}

/**
 * request asks for the move. A server already where it should go is the outcome asked for, so
 * the command succeeds without a move (null), which keeps scripts and the README's example
 * repeatable; the API still refuses that move, and every other conflict stays an error.
 */
async function request(
  client: Client,
  server: string,
  opts: { to: string; reason?: string; force?: boolean },
): Promise<MoveRecord | null> {
  try {
    return (
      await client.call<{ move: MoveRecord }>('POST', '/v1/moves', {
        server,
        to: opts.to,
        reason: opts.reason ?? 'requested from the command line',
        force: opts.force ?? false,
      })
    ).move;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'E_CONFLICT')) throw e;
    const { server: s } = await client.call<{ server: ServerPlace }>(
      'GET',
      `/v1/servers/${encodeURIComponent(server)}`,
    );
    if (isAt(s, opts.to)) return null;
    throw e;
  }
}

const inPlace = (to: string) => (to === 'pool' ? 'in the pool' : `in ${to}`);

/** move requests a move and, unless noWait, follows it to its end. */
export async function move(
  client: Client,
  server: string,
  opts: { to: string; reason?: string; force?: boolean; wait?: boolean; json?: boolean },
): Promise<number> {
  const t0 = systemClock.now().getTime();
  const m = await request(client, server, opts);
  if (m === null) {
    console.log(
      opts.json
        ? JSON.stringify({ server, to: opts.to, status: 'unchanged' })
        : `${server} is already ${inPlace(opts.to)}; nothing to move`,
    );
    return 0;
  }
  if (opts.wait === false) {
    console.log(opts.json ? JSON.stringify(m) : `move ${m.id} started: ${server} → ${opts.to}`);
    return 0;
  }
  const steps = stepsFor(m.fromGroup, m.toGroup);
  const bar =
    opts.json || !interactive(process.stderr)
      ? null
      : new cliProgress.SingleBar(
          { format: `${server} → ${opts.to} [{bar}] {value}/{total} {step}`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
  bar?.start(steps.length, 0, { step: m.step });
  const fin = await followMove(client, m.id, (cur) =>
    bar?.update(Math.max(steps.indexOf(cur.step as (typeof steps)[number]), 0), { step: cur.step }),
  );
  bar?.update(steps.length, { step: fin.status });
  bar?.stop();
  const ms = systemClock.now().getTime() - t0;
  if (opts.json) console.log(JSON.stringify({ ...fin, ms }));
  else if (fin.status === 'done') console.log(`${server} is now ${inPlace(opts.to)} (${ms} ms, move ${fin.id})`);
  else console.log(`move ${fin.id} ${fin.status} at step ${fin.step}: ${fin.error?.message ?? 'no error recorded'}`);
  return fin.status === 'done' ? 0 : 1;
}
