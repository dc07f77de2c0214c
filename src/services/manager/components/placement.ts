/**
 * placement runs seed 003's deployment manager and data collector around the pure scheduler
 * (src/core/scheduler): customers submit multi-tier configurations, the scheduler plans them
 * on the registered hardware nodes, and the deployer carries the plan out — it verifies and
 * reserves the plan against the grid in one store transaction (`commitPlan` on a fleet read
 * under row locks; a stale plan goes back to the scheduler), then starts every component on its
 * node and programs the configuration's load-balancer tier as a pool on the edge. A monitor
 * health-checks the nodes: a node that stops answering is recorded down and only its
 * components are re-placed (planNodeFailure) and started elsewhere; the edge pool follows. A
 * collector samples every component's CPU time and memory periodically.
 *
 * When nothing fits, the caller gets an error naming the missing resource and the operator is
 * told: a warn log line and an event on the bus (subjects.event(site, 'placement', config)).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HostfleetError, invalid, isHostfleetError } from '../../../core/errors.js';
import type { FieldProblem } from '../../../core/errors.js';
import { settleProblems, unknownKeys } from '../../../core/keys.js';
import { buildPersonality, type Personality } from '../../../core/model/personality.js';
import {
  DEFAULT_SETTINGS,
  Fleet,
  commitPlan,
  componentsOf,
  describeStatus,
  explainPlan,
  newPipeline,
  parseConfiguration,
  parseNode,
  parseSettings,
  planAddComponent,
  planChange,
  planNodeFailure,
  planPlacement,
  RESOURCES,
  type Configuration,
  type Pipeline,
  type Plan,
  type ResourceVector,
  type Status,
  type TierRole,
} from '../../../core/scheduler/index.js';
import { subjects } from '../../../drivers/bus/index.js';
import { newId } from '../../../drivers/clock/index.js';
import { BALANCE_POLICIES, type BalancePolicy } from '../../../drivers/edge/index.js';
import type { HypervisorDriver, NodeDescription } from '../../../drivers/hypervisor/index.js';
import * as pdb from '../../../drivers/store/placement.js';
import type { ComponentRecord, NodeRecord } from '../../../drivers/store/placement.js';
import { principalOf } from '../principal.js';
import { canSee, requireRole, visibleAccounts } from '../auth.js';
import type { Component, ManagerContext } from '../context.js';
import { IdParam } from '../schemas.js';

/** NODE_HEALTH_INTERVAL_MS is how often every up node is health-checked (default of placement.nodeHealthIntervalMs). */
export const NODE_HEALTH_INTERVAL_MS = 500;
/** NODE_FAILURES_TO_DOWN is how many failed checks in a row make a node down (one lost packet is not a failure). */
export const NODE_FAILURES_TO_DOWN = 2;
/** SNAPSHOT_INTERVAL_MS is the collector's sampling period (default of placement.snapshotIntervalMs). */
export const SNAPSHOT_INTERVAL_MS = 5000;
/** EDGE_SYNC_TICKS is how many node-check intervals pass between two repairs of the configurations' edge pools. */
export const EDGE_SYNC_TICKS = 2;
/** COMMIT_ATTEMPTS bounds how often a plan that went stale is sent back to the scheduler. */
export const COMMIT_ATTEMPTS = 3;
/** POOL_PREFIX starts the edge pool of every configuration, so pools of groups and of configurations never collide. */
export const POOL_PREFIX = 'cfg-';
/** MAX_CONFIG_ID is the longest configuration id (its pool id must stay a 40-character slug). */
export const MAX_CONFIG_ID = 36;

/** EdgeSettings are how a configuration's load-balancer tier is programmed on the edge. */
export interface EdgeSettings {
  readonly domains: readonly string[];
  readonly balance: BalancePolicy;
  readonly sticky: boolean;
}

/** poolIdOf is a configuration's edge pool id. */
export function poolIdOf(configId: string): string {
  return `${POOL_PREFIX}${configId}`;
}

// The personality's group role of each tier (the runtime's roles, src/core/model/names.ts).
const GROUP_ROLE: Readonly<Record<TierRole, 'front-end' | 'web' | 'app' | 'db'>> = {
  'load-balancer': 'front-end',
  web: 'web',
  app: 'app',
  db: 'db',
};

/**
 * parseSubmission splits a submitted document into the configuration (parseConfiguration) and
 * its `edge` settings: domains routed to the load-balancer tier, balance (least-connections or
 * round-robin) and sticky. It throws E_VALIDATION naming every bad field.
 */
export function parseSubmission(body: unknown): { config: Configuration; edge: EdgeSettings } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([{ field: 'body', problem: 'must be a configuration object with id, account, tiers' }]);
  const { edge: e, ...rest } = body as Record<string, unknown>;
  const config = parseConfiguration(rest, ['edge']);
  if (config.id.length > MAX_CONFIG_ID)
    throw invalid([
      { field: 'id', problem: `must be at most ${MAX_CONFIG_ID} characters (its edge pool is ${POOL_PREFIX}<id>)` },
    ]);
  return { config, edge: parseEdgeSettings(e, config) };
}

/** EDGE_KEYS are the keys of a submission's edge block. */
const EDGE_KEYS = ['domains', 'balance', 'sticky'] as const;

function parseEdgeSettings(e: unknown, config: Configuration): EdgeSettings {
  const problems: FieldProblem[] = [...unknownKeys(e, EDGE_KEYS, 'edge')];
  const o = (e ?? {}) as Record<string, unknown>;
  if (e !== undefined && (typeof e !== 'object' || e === null || Array.isArray(e)))
    problems.push({ field: 'edge', problem: `must be { ${EDGE_KEYS.join(', ')} }` });
  const domains = o.domains ?? [];
  if (
    !Array.isArray(domains) ||
    !domains.every(
      (d) =>
        typeof d === 'string' &&
        /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(d),
    )
  )
    problems.push({
      field: 'edge.domains',
      problem: 'must be a list of lower-case DNS names such as shop.example.com',
    });
  const balance = o.balance ?? 'least-connections';
  if (!(BALANCE_POLICIES as readonly unknown[]).includes(balance))
    problems.push({ field: 'edge.balance', problem: `must be one of ${BALANCE_POLICIES.join(', ')}` });
  const sticky = o.sticky ?? false;
  if (typeof sticky !== 'boolean') problems.push({ field: 'edge.sticky', problem: 'must be true or false' });
  if (Array.isArray(domains) && domains.length > 0 && !config.tiers.some((t) => t.role === 'load-balancer'))
    problems.push({
      field: 'edge.domains',
      problem: 'need a tier with role load-balancer, which the edge pool stands for',
    });
  if (problems.length > 0) throw invalid(settleProblems(problems));
  return { domains: domains as string[], balance: balance as BalancePolicy, sticky: sticky as boolean };
}

/**
 * backendsOf lists the components the configuration's load balancer sends traffic to: those
 * its load-balancer components connect to, or every web component when no connection says.
 */
export function backendsOf(config: Configuration): string[] {
  const all = componentsOf(config);
  const lb = new Set(all.filter((x) => x.tier.role === 'load-balancer').map((x) => x.component.id));
  if (lb.size === 0) return [];
  const linked = config.connections.filter((c) => lb.has(c.from) && !lb.has(c.to)).map((c) => c.to);
  if (linked.length > 0) return [...new Set(linked)].sort();
  return all.filter((x) => x.tier.role === 'web').map((x) => x.component.id);
}

/** unschedulableError is what a caller sees when nothing fits: the status in words, naming the resource. */
function unschedulableError(configId: string, status: Status, decisionId: string): HostfleetError {
  // The catalogue has no code of its own for "no capacity"; E_CONFLICT (the grid's current state) is the closest.
  return new HostfleetError('E_CONFLICT', `configuration ${configId} cannot be placed: ${describeStatus(status)}`, {
    details: { decision: decisionId, status },
  });
}

/** PlacementDeps are what placement plans on, records in, deploys through and reports to. */
export type PlacementDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'bus' | 'edge' | 'hypervisor' | 'isLeader'
>;

/** Placement is the deployer, monitor and collector of one manager. */
export class Placement {
  private readonly pipeline: Pipeline;
  private readonly hv: HypervisorDriver;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly misses = new Map<string, number>();
  private closed = false;

  constructor(private readonly ctx: PlacementDeps) {
    // Built when the manager registers its routes, so bad settings stop the start (E_CONFIG).
    this.pipeline = newPipeline(ctx.cfg.placement ? parseSettings(ctx.cfg.placement.scheduler) : DEFAULT_SETTINGS);
    this.hv = ctx.hypervisor;
  }

  /** serial runs changes to the grid one at a time in this manager (the store lock covers other managers). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** registerNode asks the node for its capacity and records it (operator). */
  async registerNode(input: {
    id: string;
    url: string;
    token: string;
    isolated?: boolean;
    reserved?: Partial<ResourceVector>;
  }): Promise<NodeRecord> {
    let reported: NodeDescription;
    try {
      reported = await this.hv.describe(input, { timeoutMs: 5000 });
    } catch (e) {
      const status = isHostfleetError(e, 'E_HYPERVISOR') ? e.details?.status : undefined;
      if (typeof status === 'number')
        throw new HostfleetError(
          'E_VALIDATION',
          `node ${input.id} at ${input.url} answered HTTP ${status}; check the token`,
          { fields: [{ field: 'body.token', problem: "must be the node's token" }] },
        );
      throw new HostfleetError(
        'E_VALIDATION',
        `node ${input.id} at ${input.url} did not answer: ${(e as Error).message}; check the URL`,
        { fields: [{ field: 'body.url', problem: 'must be the URL of a running node' }] },
      );
    }
    if (reported.id !== input.id)
      throw new HostfleetError(
        'E_VALIDATION',
        `the node at ${input.url} says it is ${String(reported.id)}, not ${input.id}`,
        { fields: [{ field: 'body.id', problem: `must be the node's own id (${String(reported.id)})` }] },
      );
    const n = parseNode({
      id: input.id,
      capacity: reported.capacity,
      reserved: { ram: 0, cpu: 0, disk: 0, bandwidth: 0, ...input.reserved },
      isolated: input.isolated ?? false,
    });
    return this.serial(async () => {
      const rec = await pdb.upsertNode(this.ctx.store, {
        id: n.id,
        url: input.url.replace(/\/+$/, ''),
        token: input.token,
        capacity: n.capacity,
        reserved: n.reserved,
        isolated: n.isolated,
      });
      // A node that answers again after a failure comes back empty of anything it still runs:
      // its components were re-placed, so whatever it runs now is an orphan.
      const recorded = new Set(
        (await pdb.listComponents(this.ctx.store))
          .filter((c) => c.nodeId === n.id)
          .map((c) => `${c.configId}.${c.component}`),
      );
      for (const { id } of reported.components)
        if (!recorded.has(id)) await this.hv.stop(rec, id).catch(() => undefined);
      if (rec.state === 'down') {
        await pdb.setNodeState(this.ctx.store, n.id, 'up');
        this.misses.delete(n.id);
        this.ctx.log.info({ node: n.id }, 'placement: node registered again; back up');
      }
      return { ...rec, state: 'up' as const };
    });
  }

  /** notify tells the operator that a configuration (or part of it) could not be placed. */
  private notify(configId: string, kind: 'unschedulable' | 'unplaced', status: Status, decisionId: string): void {
    const message = describeStatus(status);
    this.ctx.log.warn({ configuration: configId, decision: decisionId, status }, `placement: ${message}`);
    this.ctx.bus
      .publish(subjects.event(this.ctx.siteId, 'placement', configId), {
        kind,
        configuration: configId,
        decision: decisionId,
        status,
        message,
      })
      .catch((e: unknown) => this.ctx.log.warn({ err: e }, 'placement: could not publish the event'));
  }

  /**
   * commit verifies and reserves a plan against the grid as it is in the store, in one
   * transaction under node locks, and on success writes what `write` writes. A stale plan
   * answers 'conflict' and nothing is written: the caller re-plans.
   */
  private async commit(
    plan: Plan,
    write: (tx: Parameters<Parameters<ManagerContext['store']['transaction']>[0]>[0]) => Promise<void>,
  ): Promise<'ok' | 'conflict'> {
    return this.ctx.store.transaction(async (tx) => {
      await pdb.lockNodes(tx);
      const fresh = Fleet.from(await pdb.loadFleet(tx));
      const r = commitPlan(fresh, plan);
      if (r.code === 'conflict') {
        this.ctx.log.info(
          { decision: plan.decisionId, conflict: r },
          'placement: the plan went stale; back to the scheduler',
        );
        return 'conflict';
      }
      await write(tx);
      return 'ok';
    });
  }

  /** submit places a new configuration and deploys it; nothing fits → E_CONFLICT naming the resource. */
  submit(config: Configuration, edge: EdgeSettings): Promise<{ decision: string; explain: string[] }> {
    return this.serial(async () => {
      if (await pdb.getConfig(this.ctx.store, config.id))
        throw new HostfleetError(
          'E_CONFLICT',
          `configuration ${config.id} exists; add components to it or choose another id`,
          { details: { configuration: config.id } },
        );
      for (let attempt = 1; ; attempt++) {
        const fleet = Fleet.from(await pdb.loadFleet(this.ctx.store));
        const decisionId = newId();
        const plan = planPlacement(fleet, config, { decisionId, pipeline: this.pipeline, explain: true });
        const explain = explainPlan(plan);
        if (plan.status.code !== 'ok') {
          await pdb.insertDecision(this.ctx.store, {
            id: decisionId,
            configId: null,
            kind: 'placement',
            status: plan.status,
            explain,
          });
          this.notify(config.id, 'unschedulable', plan.status, decisionId);
          throw unschedulableError(config.id, plan.status, decisionId);
        }
        const tierOf = new Map(componentsOf(config).map((x) => [x.component.id, x.tier.name]));
        const done = await this.commit(plan, async (tx) => {
          await pdb.insertConfig(tx, {
            id: config.id,
            accountId: config.account,
            spec: config,
            edge,
            state: 'deploying',
          });
          for (const a of plan.actions) {
            if (a.kind !== 'host') continue;
            await pdb.putComponent(tx, {
              configId: config.id,
              component: a.hosted.component,
              tier: tierOf.get(a.hosted.component)!,
              nodeId: a.node,
              hosted: a.hosted,
              address: null,
              state: 'starting',
            });
          }
          await pdb.insertDecision(tx, {
            id: decisionId,
            configId: config.id,
            kind: 'placement',
            status: plan.status,
            explain,
          });
        });
        if (done === 'ok') {
          await this.realise(config.id);
          return { decision: decisionId, explain };
        }
        if (attempt >= COMMIT_ATTEMPTS)
          throw new HostfleetError(
            'E_CONFLICT',
            `configuration ${config.id}: the grid changed under ${COMMIT_ATTEMPTS} plans in a row; submit it again`,
          );
      }
    });
  }

  /** addComponent adds one component to a tier of a placed configuration and places only it (003's incremental change). */
  addComponent(
    configId: string,
    tierName: string,
    component: unknown,
  ): Promise<{ decision: string; explain: string[] }> {
    return this.serial(async () => {
      const rec = await pdb.getConfig(this.ctx.store, configId);
      if (!rec) throw new HostfleetError('E_NOT_FOUND', `configuration ${configId} does not exist`);
      const spec = rec.spec as Configuration;
      if (!spec.tiers.some((t) => t.name === tierName))
        throw invalid([
          { field: 'body.tier', problem: `must be a tier of ${configId}: ${spec.tiers.map((t) => t.name).join(', ')}` },
        ]);
      const updated = parseConfiguration({
        ...spec,
        tiers: spec.tiers.map((t) => (t.name === tierName ? { ...t, components: [...t.components, component] } : t)),
      });
      const added = componentsOf(updated).find(
        (x) => !componentsOf(spec).some((y) => y.component.id === x.component.id),
      )!;
      for (let attempt = 1; ; attempt++) {
        const fleet = Fleet.from(await pdb.loadFleet(this.ctx.store));
        const decisionId = newId();
        const plan = planAddComponent(fleet, updated, added.component.id, {
          decisionId,
          pipeline: this.pipeline,
          explain: true,
        });
        const explain = explainPlan(plan);
        if (plan.status.code !== 'ok') {
          await pdb.insertDecision(this.ctx.store, {
            id: decisionId,
            configId,
            kind: 'add-component',
            status: plan.status,
            explain,
          });
          this.notify(configId, 'unschedulable', plan.status, decisionId);
          throw unschedulableError(configId, plan.status, decisionId);
        }
        const done = await this.commit(plan, async (tx) => {
          await pdb.updateConfig(tx, configId, { spec: updated });
          for (const a of plan.actions) {
            if (a.kind === 'host')
              await pdb.putComponent(tx, {
                configId,
                component: a.hosted.component,
                tier: tierName,
                nodeId: a.node,
                hosted: a.hosted,
                address: null,
                state: 'starting',
              });
          }
          await pdb.insertDecision(tx, {
            id: decisionId,
            configId,
            kind: 'add-component',
            status: plan.status,
            explain,
          });
        });
        if (done === 'ok') {
          await this.realise(configId);
          return { decision: decisionId, explain };
        }
        if (attempt >= COMMIT_ATTEMPTS)
          throw new HostfleetError(
            'E_CONFLICT',
            `configuration ${configId}: the grid changed under ${COMMIT_ATTEMPTS} plans in a row; try again`,
          );
      }
    });
  }

  /**
   * changeComponent changes one component of a running configuration (planChange). In place
   * when the image is the same and its node can absorb it: only the records change. Otherwise
   * disruptive: a duplicate starts on the node the scheduler chose while the original serves,
   * the edge switches the component's traffic to the duplicate (same server id, new address:
   * new requests go there, in-flight ones finish on the original), then the original stops.
   * Changes run one at a time, so the original's resources are not handed out before it stops.
   */
  changeComponent(
    configId: string,
    component: unknown,
  ): Promise<{ decision: string; mode: string; explain: string[] }> {
    return this.serial(async () => {
      const rec = await pdb.getConfig(this.ctx.store, configId);
      if (!rec) throw new HostfleetError('E_NOT_FOUND', `configuration ${configId} does not exist`);
      const spec = rec.spec as Configuration;
      const id = (component as { id?: unknown } | null)?.id;
      const tier = spec.tiers.find((t) => t.components.some((c) => c.id === id));
      if (!tier) throw invalid([{ field: 'body.component.id', problem: `must name a component of ${configId}` }]);
      const updated = parseConfiguration({
        ...spec,
        tiers: spec.tiers.map((t) =>
          t === tier ? { ...t, components: t.components.map((c) => (c.id === id ? component : c)) } : t,
        ),
      });
      const next = componentsOf(updated).find((x) => x.component.id === id)!.component;
      const old = (await pdb.listComponents(this.ctx.store, configId)).find((c) => c.component === id);
      if (!old)
        throw new HostfleetError(
          'E_CONFLICT',
          `component ${configId}/${String(id)} is not placed; wait for its re-placement`,
        );
      for (let attempt = 1; ; attempt++) {
        const fleet = Fleet.from(await pdb.loadFleet(this.ctx.store));
        const decisionId = newId();
        const plan = planChange(fleet, spec, next, { decisionId, pipeline: this.pipeline, explain: true });
        const explain = [
          `change ${configId}/${next.id}: ${plan.mode ?? describeStatus(plan.status)}`,
          ...plan.steps.map((st) => `  ${st.kind} ${'node' in st ? st.node : `${st.from} → ${st.to}`}`),
        ];
        if (plan.status.code !== 'ok') {
          await pdb.insertDecision(this.ctx.store, {
            id: decisionId,
            configId,
            kind: 'change',
            status: plan.status,
            explain,
          });
          this.notify(configId, 'unschedulable', plan.status, decisionId);
          throw unschedulableError(configId, plan.status, decisionId);
        }
        const host = plan.actions.find((a) => a.kind === 'host')!;
        const disruptive = plan.mode === 'duplicate-then-switch-over';
        const done = await this.commit(plan, async (tx) => {
          await pdb.updateConfig(tx, configId, { spec: updated });
          await pdb.putComponent(tx, {
            configId,
            component: next.id,
            tier: tier.name,
            nodeId: host.node,
            hosted: host.hosted,
            address: disruptive ? null : old.address,
            state: disruptive ? 'starting' : old.state,
            moved: disruptive,
          });
          await pdb.insertDecision(tx, { id: decisionId, configId, kind: 'change', status: plan.status, explain });
        });
        if (done === 'conflict') {
          if (attempt >= COMMIT_ATTEMPTS)
            throw new HostfleetError(
              'E_CONFLICT',
              `configuration ${configId}: the grid changed under ${COMMIT_ATTEMPTS} plans in a row; try again`,
            );
          continue;
        }
        if (disruptive) {
          // realise starts the duplicate and attaches it under the component's id: the switch-over.
          await this.realise(configId);
          const oldNode = (await pdb.listNodes(this.ctx.store)).find((n) => n.id === old.nodeId);
          if (oldNode && oldNode.state === 'up') {
            await this.hv
              .stop(oldNode, `${configId}.${next.id}`)
              .catch((e: unknown) =>
                this.ctx.log.warn(
                  { err: e, node: oldNode.id },
                  'placement: could not stop the original after a switch-over',
                ),
              );
          }
        }
        return { decision: decisionId, mode: plan.mode!, explain };
      }
    });
  }

  /** nodeFailed records a node down and re-places only its components (idempotent: a node already down is left alone). */
  nodeFailed(nodeId: string): Promise<void> {
    return this.serial(async () => {
      if (!(await pdb.setNodeState(this.ctx.store, nodeId, 'down'))) return;
      this.ctx.log.warn({ node: nodeId }, 'placement: node down; re-placing its components');
      await this.ctx.bus
        .publish(subjects.event(this.ctx.siteId, 'placement', nodeId), { kind: 'node-down', node: nodeId })
        .catch(() => undefined);
      const specs = new Map((await pdb.listConfigs(this.ctx.store)).map((c) => [c.id, c.spec as Configuration]));
      for (let attempt = 1; attempt <= COMMIT_ATTEMPTS; attempt++) {
        const fleet = Fleet.from(await pdb.loadFleet(this.ctx.store));
        const decisionId = newId();
        const plan = planNodeFailure(fleet, (id) => specs.get(id), nodeId, { decisionId, pipeline: this.pipeline });
        const before = new Map(
          (await pdb.listComponents(this.ctx.store)).map((c) => [`${c.configId}/${c.component}`, c]),
        );
        const done = await this.commit(plan, async (tx) => {
          for (const m of plan.moves) {
            const old = before.get(`${m.configuration}/${m.component}`)!;
            await pdb.putComponent(tx, {
              configId: m.configuration,
              component: m.component,
              tier: m.tier,
              nodeId: m.node,
              hosted: old.hosted,
              address: null,
              state: 'starting',
              moved: true,
            });
            await pdb.insertDecision(tx, {
              id: `${decisionId}/${m.configuration}/${m.component}`,
              configId: m.configuration,
              kind: 'node-failure',
              status: { code: 'ok' },
              explain: [
                `node ${nodeId} failed: ${m.component} (${m.tier}) ${m.from} → ${m.node} score ${m.total.toFixed(2)}`,
              ],
            });
          }
          for (const u of plan.unplaced) {
            for (const c of u.components)
              await tx.query(
                "UPDATE placement_components SET state = 'failed', address = NULL WHERE config_id = $1 AND component = $2",
                [u.configuration, c],
              );
            await pdb.updateConfig(tx, u.configuration, { state: 'degraded' });
            await pdb.insertDecision(tx, {
              id: `${decisionId}/${u.configuration}`,
              configId: u.configuration,
              kind: 'node-failure',
              status: u.status,
              explain: [
                `node ${nodeId} failed: ${u.components.join(', ')} could not be re-placed: ${describeStatus(u.status)}`,
              ],
            });
          }
        });
        if (done === 'conflict') continue;
        for (const u of plan.unplaced) this.notify(u.configuration, 'unplaced', u.status, decisionId);
        for (const cfg of new Set(plan.moves.map((m) => m.configuration))) await this.realise(cfg);
        return;
      }
      this.ctx.log.error(
        { node: nodeId },
        'placement: could not commit the re-placement of a failed node; it will be retried when the node is checked again',
      );
      await pdb.setNodeState(this.ctx.store, nodeId, 'up');
    });
  }

  /**
   * realise makes a configuration's recorded placement real: every component not running is
   * started on its node, then the edge pool (the load-balancer tier) gets the configuration's
   * domains and its backends at their current addresses. Running it twice starts nothing twice.
   */
  private async realise(configId: string): Promise<void> {
    const rec = await pdb.getConfig(this.ctx.store, configId);
    if (!rec) return;
    const spec = rec.spec as Configuration;
    const edge = rec.edge as EdgeSettings;
    const nodes = new Map((await pdb.listNodes(this.ctx.store)).map((n) => [n.id, n]));
    const roleOf = new Map(componentsOf(spec).map((x) => [x.component.id, x.tier]));
    const comps = await pdb.listComponents(this.ctx.store, configId);
    await Promise.all(
      comps
        .filter((c) => c.state === 'starting')
        .map(async (c) => {
          const tier = roleOf.get(c.component);
          if (tier?.role === 'load-balancer') {
            // The load balancer is the edge pool; its reservation on the node stands for the proxy's share.
            await pdb.setComponentRuntime(this.ctx.store, configId, c.component, c.nodeId, {
              address: null,
              state: 'running',
            });
            return;
          }
          const node = nodes.get(c.nodeId)!;
          try {
            const started = await this.hv.start(
              node,
              `${configId}.${c.component}`,
              this.personalityOf(rec.accountId, spec, c),
            );
            await pdb.setComponentRuntime(this.ctx.store, configId, c.component, c.nodeId, {
              address: started.address,
              state: 'running',
            });
          } catch (e) {
            this.ctx.log.warn(
              { configuration: configId, component: c.component, node: c.nodeId, err: (e as Error).message },
              'placement: component did not start',
            );
            await pdb.setComponentRuntime(this.ctx.store, configId, c.component, c.nodeId, {
              address: null,
              state: 'failed',
            });
          }
        }),
    );
    const after = await pdb.listComponents(this.ctx.store, configId);
    const backends = new Set(backendsOf(spec));
    if (backends.size > 0 || edge.domains.length > 0) {
      const pool = poolIdOf(configId);
      await this.ctx.edge.upsertPool({ id: pool, domains: edge.domains, balance: edge.balance, sticky: edge.sticky });
      for (const c of after) {
        if (backends.has(c.component) && c.state === 'running' && c.address !== null)
          await this.ctx.edge.attach(pool, { id: c.component, address: c.address });
      }
    }
    const state =
      after.some((c) => c.state === 'failed') || after.length < componentsOf(spec).length ? 'degraded' : 'running';
    await pdb.updateConfig(this.ctx.store, configId, { state });
  }

  private personalityOf(accountId: string, spec: Configuration, c: ComponentRecord): Personality {
    const tier = spec.tiers.find((t) => t.name === c.tier)!;
    return buildPersonality({
      machine: `${c.nodeId}.${spec.id}.${c.component}`,
      server: `${spec.id}.${c.component}`,
      account: { id: accountId, name: accountId, uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 },
      group: { id: `${spec.id}.${tier.name}`, name: `${spec.id} ${tier.name}`, role: GROUP_ROLE[tier.role] },
      image: 'hostfleet/demo-runtime',
      runtime: { serviceTimeMs: 20, concurrency: 16, maxQueue: 500 },
      volume: accountId.slice(0, 63),
      config: { configuration: spec.id, component: c.component, tier: tier.name },
    });
  }

  /**
   * syncEdge repairs the configurations' pools on the edge (an edge that restarted, a HAProxy
   * reload, or another writer): each pool holds exactly the running backends at their
   * addresses. It returns the number of repairs. It runs between changes, never during one
   * (a component being moved or switched over is not yet at its new address).
   */
  syncEdge(): Promise<number> {
    return this.serial(() => this.repairPools());
  }

  private async repairPools(): Promise<number> {
    const status = new Map((await this.ctx.edge.status()).map((p) => [p.id, p]));
    let repairs = 0;
    for (const rec of await pdb.listConfigs(this.ctx.store)) {
      const spec = rec.spec as Configuration;
      const edge = rec.edge as EdgeSettings;
      const backends = new Set(backendsOf(spec));
      if (backends.size === 0 && edge.domains.length === 0) continue;
      const id = poolIdOf(rec.id);
      const have = status.get(id);
      if (
        !have ||
        have.domains.join(',') !== [...edge.domains].sort().join(',') ||
        have.balance !== edge.balance ||
        have.sticky !== edge.sticky
      ) {
        await this.ctx.edge.upsertPool({ id, domains: edge.domains, balance: edge.balance, sticky: edge.sticky });
        repairs++;
      }
      const want = (await pdb.listComponents(this.ctx.store, rec.id)).filter(
        (c) => backends.has(c.component) && c.state === 'running' && c.address !== null,
      );
      for (const c of want) {
        const s = have?.servers.find((x) => x.id === c.component);
        if (!s || s.address !== c.address) {
          await this.ctx.edge.attach(id, { id: c.component, address: c.address! });
          repairs++;
        }
      }
      for (const s of have?.servers ?? []) {
        if (!want.some((c) => c.component === s.id)) {
          await this.ctx.edge.detach(id, s.id);
          repairs++;
        }
      }
    }
    if (repairs > 0) this.ctx.log.info({ repairs }, 'placement: edge pools repaired');
    return repairs;
  }

  /** checkNodes health-checks every up node once; NODE_FAILURES_TO_DOWN misses in a row fail it. */
  async checkNodes(): Promise<void> {
    const nodes = await pdb.listNodes(this.ctx.store);
    await Promise.all(
      nodes
        .filter((n) => n.state === 'up')
        .map(async (n) => {
          const timeout = this.ctx.cfg.placement?.nodeHealthIntervalMs ?? NODE_HEALTH_INTERVAL_MS;
          const ok = await this.hv.healthy(n, timeout);
          const misses = ok ? 0 : (this.misses.get(n.id) ?? 0) + 1;
          this.misses.set(n.id, misses);
          if (misses >= NODE_FAILURES_TO_DOWN && !this.closed) {
            this.misses.delete(n.id);
            await this.nodeFailed(n.id);
          }
        }),
    );
  }

  /** collect records one snapshot of every running component (the data collector). */
  async collect(): Promise<number> {
    const nodes = new Map((await pdb.listNodes(this.ctx.store)).map((n) => [n.id, n]));
    const comps = (await pdb.listComponents(this.ctx.store)).filter((c) => c.state === 'running' && c.address !== null);
    let n = 0;
    for (const c of comps) {
      const node = nodes.get(c.nodeId);
      if (!node || node.state !== 'up') continue;
      const u = await this.hv.usage(node, `${c.configId}.${c.component}`, { timeoutMs: 2000 }).catch(() => null);
      if (!u) continue;
      const requests = Object.values(u.stats?.requests ?? {}).reduce((a, b) => a + b, 0);
      await pdb.insertSnapshot(this.ctx.store, {
        configId: c.configId,
        component: c.component,
        nodeId: c.nodeId,
        at: this.ctx.clock.now(),
        cpuSeconds: u.cpuSeconds,
        rssBytes: u.rssBytes,
        requests,
        errors: u.stats?.errors ?? 0,
      });
      n++;
    }
    return n;
  }

  /** close stops background work after the change in progress (the manager closes the driver). */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }
}

const Resources = Type.Object(
  {
    ram: Type.Optional(Type.Number({ minimum: 0 })),
    cpu: Type.Optional(Type.Number({ minimum: 0 })),
    disk: Type.Optional(Type.Number({ minimum: 0 })),
    bandwidth: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
/** RegisterNode is the body of POST /v1/nodes. */
export const RegisterNode = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$',
      description: 'the node id (it must be the id the node reports)',
    }),
    url: Type.String({ pattern: '^https?://[^\\s]+$', description: "URL of the node's API" }),
    token: Type.String({ minLength: 16, maxLength: 200, description: "the node API's bearer token" }),
    isolated: Type.Optional(Type.Boolean({ description: 'reserve the node for risky configurations (003)' })),
    reserved: Type.Optional(Resources),
  },
  { additionalProperties: false },
);
/** AddComponent is the body of POST /v1/configurations/{id}/components. */
export const AddComponent = Type.Object(
  {
    tier: Type.String({ minLength: 1, maxLength: 40, description: 'the tier the component joins' }),
    component: Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'a component as in the configuration format (id, resources, os, software, behaviour)',
      },
    ),
  },
  { additionalProperties: false },
);
/** ChangeComponent is the body of PUT /v1/configurations/{id}/components: the component as it should be (same id). */
export const ChangeComponent = Type.Object(
  {
    component: Type.Object(
      {},
      { additionalProperties: true, description: 'the whole component as it should be, with its id' },
    ),
  },
  { additionalProperties: false },
);
const ConfigBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description: 'a configuration (docs/SCHEDULER.md) with an optional edge { domains, balance, sticky }',
  },
);

async function visibleConfig(
  ctx: Pick<ManagerContext, 'store'>,
  req: FastifyRequest,
  id: string,
): Promise<pdb.ConfigRecord> {
  const c = await pdb.getConfig(ctx.store, id);
  if (!c || !canSee(await visibleAccounts(ctx.store, principalOf(req)), c.accountId))
    throw new HostfleetError('E_NOT_FOUND', `configuration ${id} does not exist`);
  return c;
}

async function mapOf(ctx: Pick<ManagerContext, 'store'>, c: pdb.ConfigRecord): Promise<Record<string, unknown>> {
  const comps = await pdb.listComponents(ctx.store, c.id);
  return {
    configuration: {
      id: c.id,
      account: c.accountId,
      state: c.state,
      edge: { pool: poolIdOf(c.id), ...(c.edge as EdgeSettings) },
    },
    components: comps.map((x) => ({
      component: x.component,
      tier: x.tier,
      node: x.nodeId,
      state: x.state,
      address: x.address,
      moves: x.moves,
      resources: x.hosted.resources,
    })),
  };
}

/** PlacementComponent is the placement component with its deployer, monitor and collector. */
export interface PlacementComponent extends Component {
  readonly placement: Placement;
}

/** createPlacement returns the component of the placement API, the node monitor and the collector; bad scheduler settings throw E_CONFIG. */
export function createPlacement(ctx: PlacementDeps): PlacementComponent {
  const p = new Placement(ctx);
  let checking: Promise<unknown> = Promise.resolve();
  let collecting: Promise<unknown> = Promise.resolve();
  let health: NodeJS.Timeout | undefined;
  let collector: NodeJS.Timeout | undefined;
  return {
    name: 'placement',
    placement: p,
    async routes(app: FastifyInstance) {
      app.post('/v1/nodes', { schema: { tags: ['placement'], body: RegisterNode } }, async (req, reply) => {
        requireRole(principalOf(req), ['operator']);
        const n = await p.registerNode(req.body as typeof RegisterNode.static);
        const { token: _t, ...out } = n;
        return reply.status(201).send({ node: out });
      });
      app.get('/v1/nodes', { schema: { tags: ['placement'] } }, async (req) => {
        requireRole(principalOf(req), ['operator']);
        const fleet = Fleet.from(await pdb.loadFleet(ctx.store));
        const nodes = await pdb.listNodes(ctx.store);
        return {
          nodes: nodes.map((n, i) => ({
            id: n.id,
            url: n.url,
            state: n.state,
            isolated: n.isolated,
            capacity: n.capacity,
            reserved: n.reserved,
            free: Object.fromEntries(RESOURCES.map((r, k) => [r, fleet.free(i, k)])),
            components: fleet
              .hostedOn(i)
              .map((h) => `${h.configuration}/${h.component}`)
              .sort(),
          })),
        };
      });
      app.post('/v1/configurations', { schema: { tags: ['placement'], body: ConfigBody } }, async (req, reply) => {
        const principal = principalOf(req);
        requireRole(principal, ['operator', 'reseller', 'customer']);
        const { config, edge } = parseSubmission(req.body);
        if (!canSee(await visibleAccounts(ctx.store, principal), config.account))
          throw new HostfleetError('E_FORBIDDEN', `you may not place configurations for account ${config.account}`);
        const r = await p.submit(config, edge);
        const rec = await pdb.getConfig(ctx.store, config.id);
        return reply.status(201).send({ ...(await mapOf(ctx, rec!)), decision: r.decision, explain: r.explain });
      });
      app.get('/v1/configurations', { schema: { tags: ['placement'] } }, async (req) => {
        const visible = await visibleAccounts(ctx.store, principalOf(req));
        const all = await pdb.listConfigs(ctx.store);
        return {
          configurations: all
            .filter((c) => canSee(visible, c.accountId))
            .map((c) => ({ id: c.id, account: c.accountId, state: c.state })),
        };
      });
      app.get('/v1/configurations/:id', { schema: { tags: ['placement'], params: IdParam } }, async (req) =>
        mapOf(ctx, await visibleConfig(ctx, req, (req.params as { id: string }).id)),
      );
      app.get('/v1/configurations/:id/explain', { schema: { tags: ['placement'], params: IdParam } }, async (req) => {
        const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
        return { configuration: c.id, decisions: await pdb.listDecisions(ctx.store, c.id) };
      });
      app.get('/v1/configurations/:id/snapshots', { schema: { tags: ['placement'], params: IdParam } }, async (req) => {
        const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
        return { configuration: c.id, snapshots: await pdb.listSnapshots(ctx.store, c.id) };
      });
      app.put(
        '/v1/configurations/:id/components',
        { schema: { tags: ['placement'], params: IdParam, body: ChangeComponent } },
        async (req) => {
          const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
          const r = await p.changeComponent(c.id, (req.body as typeof ChangeComponent.static).component);
          return {
            ...(await mapOf(ctx, (await pdb.getConfig(ctx.store, c.id))!)),
            decision: r.decision,
            mode: r.mode,
            explain: r.explain,
          };
        },
      );
      app.post(
        '/v1/configurations/:id/components',
        { schema: { tags: ['placement'], params: IdParam, body: AddComponent } },
        async (req, reply) => {
          const c = await visibleConfig(ctx, req, (req.params as { id: string }).id);
          const b = req.body as typeof AddComponent.static;
          const r = await p.addComponent(c.id, b.tier, b.component);
          return reply
            .status(201)
            .send({
              ...(await mapOf(ctx, (await pdb.getConfig(ctx.store, c.id))!)),
              decision: r.decision,
              explain: r.explain,
            });
        },
      );
    },
    async start() {
      let busyCheck = false;
      let busyCollect = false;
      let ticks = 0;
      health = setInterval(() => {
        if (busyCheck || !ctx.isLeader()) return;
        busyCheck = true;
        const sync = ++ticks % EDGE_SYNC_TICKS === 0;
        checking = p
          .checkNodes()
          .then(() => (sync ? p.syncEdge() : 0))
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'placement: node check failed'))
          .finally(() => (busyCheck = false));
      }, ctx.cfg.placement?.nodeHealthIntervalMs ?? NODE_HEALTH_INTERVAL_MS);
      collector = setInterval(() => {
        if (busyCollect || !ctx.isLeader()) return;
        busyCollect = true;
        collecting = p
          .collect()
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'placement: collection failed'))
          .finally(() => (busyCollect = false));
      }, ctx.cfg.placement?.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS);
      health.unref();
      collector.unref();
    },
    async stop() {
      clearInterval(health);
      clearInterval(collector);
      await Promise.allSettled([checking, collecting]);
      await p.close();
    },
  };
}
