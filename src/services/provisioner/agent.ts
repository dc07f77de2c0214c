/**
 * agent is the provisioning agent of a service server (004's receiver of the communications
 * key). It listens for nudges on its own bus subject, checks each token's signature, expiry
 * and server, gathers the nudges that arrive together, fetches those accounts' tasks from the
 * manager over the management plane, applies them per service — one check and one reload per
 * service for the whole batch — and reports what was done and what failed. It never acts on
 * another server's behalf and never takes orders except through a valid token.
 */
import { createPublicKey } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { Logger } from 'pino';
import type { Bus, Subscription } from '../../drivers/bus/index.js';
import { subjects } from '../../drivers/bus/index.js';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import type { HeldEntry, ServiceDriver } from '../../drivers/services/index.js';
import type { ServiceKind, Task, TaskResult } from '../../core/provisioning/index.js';
import { SERVICE_KINDS } from '../../core/provisioning/index.js';
import { verifyToken } from './token.js';

/** ProvisionerOptions configure an agent. */
export interface ProvisionerOptions {
  readonly siteId: string;
  readonly serverId: string;
  readonly managerUrl: string;
  readonly bus: Bus;
  readonly drivers: readonly ServiceDriver[];
  /** stateDir keeps what the server holds across restarts. */
  readonly stateDir: string;
  readonly log?: Logger | undefined;
  /** batchMs gathers nudges arriving within this window into one fetch (default 20). */
  readonly batchMs?: number | undefined;
  /** onReported hears each batch's results once the manager has recorded them. */
  readonly onReported?: ((results: readonly TaskResult[]) => void) | undefined;
  /** clock tells the time a nudge's token expiry is checked against; default systemClock. */
  readonly clock?: Clock | undefined;
}

/** Provisioner is a running agent. */
export interface Provisioner {
  /** applied counts batches applied (for tests and benchmarks). */
  readonly stats: { batches: number; tasks: number; failed: number };
  /** idle resolves when no nudge is waiting and no batch is running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** startProvisioner starts the agent: drivers must be started already. */
export async function startProvisioner(o: ProvisionerOptions): Promise<Provisioner> {
  const clock = o.clock ?? systemClock;
  const base = o.managerUrl.replace(/\/+$/, '');
  const keyRes = await request(`${base}/v1/provisioning/key`);
  const publicKey = createPublicKey(((await keyRes.body.json()) as { publicKey: string }).publicKey);
  const drivers = new Map<ServiceKind, ServiceDriver>(o.drivers.map((d) => [d.service, d]));
  const statePath = join(o.stateDir, `held-${o.serverId}.json`);
  const held = new Map<ServiceKind, Map<string, HeldEntry>>(SERVICE_KINDS.map((k) => [k, new Map()]));
  try {
    const saved = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, [string, HeldEntry][]>;
    for (const k of SERVICE_KINDS) held.set(k, new Map(saved[k] ?? []));
  } catch {
    // first start: holds nothing
  }
  const pending = new Map<string, string>(); // account → newest token
  const stats = { batches: 0, tasks: 0, failed: 0 };
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const waiters: (() => void)[] = [];

  const post = async (path: string, body: unknown): Promise<unknown> => {
    const r = await request(`${base}/v1/provisioning/agent/${o.serverId}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const j = await r.body.json();
    if (r.statusCode >= 300) throw new Error(`manager answered ${r.statusCode} to ${path}: ${JSON.stringify(j)}`);
    return j;
  };

  async function batch(): Promise<void> {
    const tokens = [...pending.values()];
    pending.clear();
    if (tokens.length === 0) return;
    const { tasks } = (await post('tasks', { tokens })) as { tasks: Task[] };
    const results: TaskResult[] = [];
    for (const service of SERVICE_KINDS) {
      const mine = tasks.filter((t) => t.service === service);
      if (mine.length === 0) continue;
      const d = drivers.get(service);
      const fail = (error: string) => {
        for (const t of mine)
          results.push({ kind: 'failed', account: t.account, service, action: t.kind, version: t.version, error });
      };
      if (!d) {
        fail(`this server runs no ${service} service`);
        continue;
      }
      const next = new Map(held.get(service));
      for (const t of mine) {
        if (t.kind === 'put') next.set(t.account, { spec: t.spec, version: t.version });
        else next.delete(t.account);
      }
      const out = await d
        .apply(next)
        .catch((e: unknown) => ({ ok: false as const, stage: 'reload' as const, error: (e as Error).message }));
      if (out.ok) {
        held.set(service, next);
        for (const t of mine)
          results.push({ kind: 'done', account: t.account, service, action: t.kind, version: t.version });
      } else {
        o.log?.warn({ service, stage: out.stage, error: out.error }, 'provisioning tasks refused');
        fail(`${out.stage}: ${out.error}`);
      }
    }
    const tmp = `${statePath}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries([...held].map(([k, m]) => [k, [...m]]))));
    await rename(tmp, statePath);
    stats.batches++;
    stats.tasks += results.length;
    stats.failed += results.filter((r) => r.kind === 'failed').length;
    await post('reports', { tokens, results });
    o.onReported?.(results);
  }

  const kick = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      if (running) return;
      running = batch()
        .catch((e: unknown) => o.log?.warn({ err: e }, 'provisioning batch failed; the manager nudges again'))
        .finally(() => {
          running = null;
          if (pending.size > 0) kick();
          else while (waiters.length) waiters.shift()?.();
        });
    }, o.batchMs ?? 20);
  };

  const sub: Subscription = await o.bus.subscribe(subjects.nudge(o.siteId, o.serverId), (data) => {
    const token = (data as { token?: unknown } | undefined)?.token;
    const v = verifyToken(publicKey, token, o.serverId, clock.now().getTime());
    if (!v.ok) {
      o.log?.warn({ reason: v.reason }, 'nudge refused');
      return;
    }
    pending.set(v.claims.account, token as string);
    kick();
  });

  return {
    stats,
    idle: () => (pending.size === 0 && !running && !timer ? Promise.resolve() : new Promise((r) => waiters.push(r))),
    async close() {
      closed = true;
      await sub.unsubscribe();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
