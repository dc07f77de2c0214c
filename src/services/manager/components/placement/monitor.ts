/**
 * monitor watches seed 003's hardware nodes: operators register a node (the node reports its
 * capacity, and whatever it still runs that the store does not record is stopped), every up node
 * is health-checked, and a node that misses NODE_FAILURES_TO_DOWN checks in a row is recorded
 * down and only its components are re-placed (planNodeFailure) and started elsewhere; the edge
 * pools follow. A re-placement that cannot be committed leaves the node up, to be judged again.
 */
import { HostfleetError, isHostfleetError } from '../../../../core/errors.js';
import { describeStatus, Fleet, parseNode, planNodeFailure } from '../../../../core/scheduler/index.js';
import type { Configuration, ResourceVector } from '../../../../core/scheduler/index.js';
import { subjects } from '../../../../drivers/bus/index.js';
import { newId } from '../../../../drivers/clock/index.js';
import type { NodeDescription } from '../../../../drivers/hypervisor/index.js';
import * as pdb from '../../../../drivers/store/placement.js';
import type { NodeRecord } from '../../../../drivers/store/placement.js';
import { COMMIT_ATTEMPTS } from './deployer.js';
import type { Deployer, PlacementDeps } from './deployer.js';
import { realise } from './realise.js';

/** NODE_HEALTH_INTERVAL_MS is how often every up node is health-checked (default of placement.nodeHealthIntervalMs). */
export const NODE_HEALTH_INTERVAL_MS = 500;
/** NODE_FAILURES_TO_DOWN is how many failed checks in a row make a node down (one lost packet is not a failure). */
export const NODE_FAILURES_TO_DOWN = 2;

/** NodeMonitor registers and health-checks the nodes, and re-places the components of a failed one. */
export class NodeMonitor {
  private readonly misses = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly ctx: PlacementDeps,
    private readonly deployer: Deployer,
  ) {}

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
      reported = await this.ctx.hypervisor.describe(input, { timeoutMs: 5000 });
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
    return this.deployer.serial(async () => {
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
        if (!recorded.has(id)) await this.ctx.hypervisor.stop(rec, id).catch(() => undefined);
      if (rec.state === 'down') {
        await pdb.setNodeState(this.ctx.store, n.id, 'up');
        this.misses.delete(n.id);
        this.ctx.log.info({ node: n.id }, 'placement: node registered again; back up');
      }
      return { ...rec, state: 'up' as const };
    });
  }

  /** checkNodes health-checks every up node once; NODE_FAILURES_TO_DOWN misses in a row fail it. */
  async checkNodes(): Promise<void> {
    const nodes = await pdb.listNodes(this.ctx.store);
    await Promise.all(
      nodes
        .filter((n) => n.state === 'up')
        .map(async (n) => {
          const timeout = this.ctx.cfg.placement?.nodeHealthIntervalMs ?? NODE_HEALTH_INTERVAL_MS;
          const ok = await this.ctx.hypervisor.healthy(n, timeout);
          const misses = ok ? 0 : (this.misses.get(n.id) ?? 0) + 1;
          this.misses.set(n.id, misses);
          if (misses >= NODE_FAILURES_TO_DOWN && !this.closed) {
            this.misses.delete(n.id);
            await this.nodeFailed(n.id);
          }
        }),
    );
  }

  /** nodeFailed records a node down and re-places only its components (idempotent: a node already down is left alone). */
  nodeFailed(nodeId: string): Promise<void> {
    return this.deployer.serial(async () => {
      if (!(await pdb.setNodeState(this.ctx.store, nodeId, 'down'))) return;
      this.ctx.log.warn({ node: nodeId }, 'placement: node down; re-placing its components');
      await this.ctx.bus
        .publish(subjects.event(this.ctx.siteId, 'placement', nodeId), { kind: 'node-down', node: nodeId })
        .catch(() => undefined);
      const specs = new Map((await pdb.listConfigs(this.ctx.store)).map((c) => [c.id, c.spec as Configuration]));
      for (let attempt = 1; attempt <= COMMIT_ATTEMPTS; attempt++) {
        const fleet = Fleet.from(await pdb.loadFleet(this.ctx.store));
        const decisionId = newId();
        const plan = planNodeFailure(fleet, (id) => specs.get(id), nodeId, {
          decisionId,
          pipeline: this.deployer.pipeline,
        });
        const before = new Map(
          (await pdb.listComponents(this.ctx.store)).map((c) => [`${c.configId}/${c.component}`, c]),
        );
        const done = await this.deployer.commit(plan, async (tx) => {
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
        for (const u of plan.unplaced) this.deployer.notify(u.configuration, 'unplaced', u.status, decisionId);
        for (const cfg of new Set(plan.moves.map((m) => m.configuration))) await realise(this.ctx, cfg);
        return;
      }
      this.ctx.log.error(
        { node: nodeId },
        'placement: could not commit the re-placement of a failed node; it will be retried when the node is checked again',
      );
      await pdb.setNodeState(this.ctx.store, nodeId, 'up');
    });
  }

  /** close stops judging nodes (a check in flight re-places nothing more). */
  close(): void {
    this.closed = true;
  }
}
