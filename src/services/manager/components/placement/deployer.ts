/**
 * deployer is seed 003's deployment manager around the pure scheduler (src/core/scheduler):
 * it plans a configuration, or a change to one, on the registered hardware nodes, verifies and
 * reserves the plan against the grid in one store transaction (`commitPlan` on a fleet read
 * under row locks; a stale plan goes back to the scheduler), then makes it real (realise.ts).
 * When a node fails it re-places only that node's components. Changes run one at a time in a
 * manager (serial); the store's node locks order them across managers.
 *
 * When nothing fits, the caller gets an error naming the missing resource and the operator is
 * told: a warn log line and an event on the bus (subjects.event(site, 'placement', config)).
 */
import { HostfleetError, invalid } from '../../../../core/errors.js';
import {
  DEFAULT_SETTINGS,
  Fleet,
  commitPlan,
  componentsOf,
  describeStatus,
  explainPlan,
  newPipeline,
  parseConfiguration,
  parseSettings,
  planAddComponent,
  planChange,
  planPlacement,
  type ChangePlan,
  type Configuration,
  type PlacementPlan,
  type Pipeline,
  type Plan,
  type Status,
} from '../../../../core/scheduler/index.js';
import { subjects } from '../../../../drivers/bus/index.js';
import { newId } from '../../../../drivers/clock/index.js';
import type { Sql } from '../../../../drivers/store/index.js';
import * as pdb from '../../../../drivers/store/placement.js';
import type { ManagerContext } from '../../context.js';
import { repairPools } from './edge-pools.js';
import { realise } from './realise.js';
import type { EdgeSettings } from './submission.js';

/** COMMIT_ATTEMPTS bounds how often a plan that went stale is sent back to the scheduler. */
export const COMMIT_ATTEMPTS = 3;

/** PlacementDeps are what placement plans on, records in, deploys through and reports to. */
export type PlacementDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'bus' | 'edge' | 'hypervisor' | 'isLeader'
>;

/** Decided is a committed plan with its decision id and explanation. */
export interface Decided<P> {
  readonly plan: P;
  readonly decision: string;
  readonly explain: string[];
}

/** unschedulableError is what a caller sees when nothing fits: the status in words, naming the resource. */
function unschedulableError(configId: string, status: Status, decisionId: string): HostfleetError {
  // The catalogue has no code of its own for "no capacity"; E_CONFLICT (the grid's current state) is the closest.
  return new HostfleetError('E_CONFLICT', `configuration ${configId} cannot be placed: ${describeStatus(status)}`, {
    details: { decision: decisionId, status },
  });
}

/** Deployer places configurations and carries the plans out. */
export class Deployer {
  /** pipeline is the scheduler's stages, built from placement.scheduler (bad settings throw E_CONFIG at construction). */
  readonly pipeline: Pipeline;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: PlacementDeps) {
    this.pipeline = newPipeline(ctx.cfg.placement ? parseSettings(ctx.cfg.placement.scheduler) : DEFAULT_SETTINGS);
  }

  /** serial runs changes to the grid one at a time in this manager (the store lock covers other managers). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** notify tells the operator that a configuration (or part of it) could not be placed. */
  notify(configId: string, kind: 'unschedulable' | 'unplaced', status: Status, decisionId: string): void {
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
  async commit(plan: Plan, write: (tx: Sql) => Promise<void>): Promise<'ok' | 'conflict'> {
    return this.ctx.store.transaction(async (tx) => {
      await pdb.lockNodes(tx);
      const r = commitPlan(Fleet.from(await pdb.loadFleet(tx)), plan);
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

  /**
   * decide plans against the grid as stored and commits the plan with what `write` writes and
   * its decision record, sending a plan that went stale back to the scheduler at most
   * COMMIT_ATTEMPTS times. A plan that does not fit is recorded (under `recordAs`), told to the
   * operator and thrown as E_CONFLICT naming the resource.
   */
  private async decide<P extends PlacementPlan | ChangePlan>(a: {
    readonly configId: string;
    readonly recordAs: string | null;
    readonly kind: 'placement' | 'add-component' | 'change';
    readonly retry: string;
    readonly plan: (fleet: Fleet, decisionId: string) => { plan: P; explain: string[] };
    readonly write: (tx: Sql, plan: P) => Promise<void>;
  }): Promise<Decided<P>> {
    for (let attempt = 1; ; attempt++) {
      const decision = newId();
      const { plan, explain } = a.plan(Fleet.from(await pdb.loadFleet(this.ctx.store)), decision);
      const record = { id: decision, kind: a.kind, status: plan.status, explain };
      if (plan.status.code !== 'ok') {
        await pdb.insertDecision(this.ctx.store, { ...record, configId: a.recordAs });
        this.notify(a.configId, 'unschedulable', plan.status, decision);
        throw unschedulableError(a.configId, plan.status, decision);
      }
      const done = await this.commit(plan, async (tx) => {
        await a.write(tx, plan);
        await pdb.insertDecision(tx, { ...record, configId: a.configId });
      });
      if (done === 'ok') return { plan, decision, explain };
      if (attempt >= COMMIT_ATTEMPTS)
        throw new HostfleetError(
          'E_CONFLICT',
          `configuration ${a.configId}: the grid changed under ${COMMIT_ATTEMPTS} plans in a row; ${a.retry}`,
        );
    }
  }

  /** submit places a new configuration and deploys it; nothing fits → E_CONFLICT naming the resource. */
  submit(config: Configuration, edge: EdgeSettings): Promise<{ decision: string; explain: string[] }> {
    return this.serial(async () => {
      if (await pdb.getConfig(this.ctx.store, config.id))
        throw new HostfleetError(
          'E_CONFLICT',
          `configuration ${config.id} exists; add components to it or choose another id`,
          {
            details: { configuration: config.id },
          },
        );
      const tierOf = new Map(componentsOf(config).map((x) => [x.component.id, x.tier.name]));
      const r = await this.decide({
        configId: config.id,
        recordAs: null,
        kind: 'placement',
        retry: 'submit it again',
        plan: (fleet, decisionId) => {
          const plan = planPlacement(fleet, config, { decisionId, pipeline: this.pipeline, explain: true });
          return { plan, explain: explainPlan(plan) };
        },
        write: async (tx, plan) => {
          await pdb.insertConfig(tx, {
            id: config.id,
            accountId: config.account,
            spec: config,
            edge,
            state: 'deploying',
          });
          for (const a of plan.actions) {
            if (a.kind !== 'host') continue;
            const tier = tierOf.get(a.hosted.component)!;
            await pdb.putComponent(tx, {
              configId: config.id,
              component: a.hosted.component,
              tier,
              nodeId: a.node,
              hosted: a.hosted,
              address: null,
              state: 'starting',
            });
          }
        },
      });
      await realise(this.ctx, config.id);
      return { decision: r.decision, explain: r.explain };
    });
  }

  /** addComponent adds one component to a tier of a placed configuration and places only it (003's incremental change). */
  addComponent(
    configId: string,
    tierName: string,
    component: unknown,
  ): Promise<{ decision: string; explain: string[] }> {
    return this.serial(async () => {
      const spec = await this.specOf(configId);
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
      const r = await this.decide({
        configId,
        recordAs: configId,
        kind: 'add-component',
        retry: 'try again',
        plan: (fleet, decisionId) => {
          const plan = planAddComponent(fleet, updated, added.component.id, {
            decisionId,
            pipeline: this.pipeline,
            explain: true,
          });
          return { plan, explain: explainPlan(plan) };
        },
        write: async (tx, plan) => {
          await pdb.updateConfig(tx, configId, { spec: updated });
          for (const a of plan.actions) {
            if (a.kind !== 'host') continue;
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
        },
      });
      await realise(this.ctx, configId);
      return { decision: r.decision, explain: r.explain };
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
      const spec = await this.specOf(configId);
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
      const r = await this.decide({
        configId,
        recordAs: configId,
        kind: 'change',
        retry: 'try again',
        plan: (fleet, decisionId) => {
          const plan = planChange(fleet, spec, next, { decisionId, pipeline: this.pipeline, explain: true });
          const steps = plan.steps.map((st) => `  ${st.kind} ${'node' in st ? st.node : `${st.from} → ${st.to}`}`);
          return {
            plan,
            explain: [`change ${configId}/${next.id}: ${plan.mode ?? describeStatus(plan.status)}`, ...steps],
          };
        },
        write: async (tx, plan) => {
          const host = plan.actions.find((a) => a.kind === 'host')!;
          const disruptive = plan.mode === 'duplicate-then-switch-over';
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
        },
      });
      if (r.plan.mode === 'duplicate-then-switch-over') {
        // realise starts the duplicate and attaches it under the component's id: the switch-over.
        await realise(this.ctx, configId);
        const oldNode = (await pdb.listNodes(this.ctx.store)).find((n) => n.id === old.nodeId);
        if (oldNode && oldNode.state === 'up') {
          await this.ctx.hypervisor
            .stop(oldNode, `${configId}.${next.id}`)
            .catch((e: unknown) =>
              this.ctx.log.warn(
                { err: e, node: oldNode.id },
                'placement: could not stop the original after a switch-over',
              ),
            );
        }
      }
      return { decision: r.decision, mode: r.plan.mode!, explain: r.explain };
    });
  }

  private async specOf(configId: string): Promise<Configuration> {
    const rec = await pdb.getConfig(this.ctx.store, configId);
    if (!rec) throw new HostfleetError('E_NOT_FOUND', `configuration ${configId} does not exist`);
    return rec.spec as Configuration;
  }

  /**
   * syncEdge repairs the configurations' pools on the edge and returns the number of repairs
   * (edge-pools.ts); it waits for the change in progress.
   */
  syncEdge(): Promise<number> {
    return this.serial(() => repairPools(this.ctx));
  }

  /** close waits for the change in progress (the manager closes the driver). */
  async close(): Promise<void> {
    await this.chain;
  }
}
