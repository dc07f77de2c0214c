/**
 * hypervisor is the in-memory fake of the HypervisorDriver: hardware nodes with an id, a
 * capacity and a token, each running components (virtual servers) with an address, a process
 * id and a personality, as src/emulators/hypervisor/node.ts runs them without the processes.
 * Like the real node it reports its capacity and leaves placing within it to the scheduler. A
 * killed node stops answering and its components die with it, as virtual machines die with
 * their host.
 */
import { HostfleetError, invalid } from '../../../src/core/errors.js';
import type { Personality } from '../../../src/core/model/personality.js';
import type { ResourceVector } from '../../../src/core/scheduler/index.js';
import { COMPONENT_ID_RE } from '../../../src/drivers/hypervisor/index.js';
import type {
  ComponentInfo,
  ComponentUsage,
  HypervisorDriver,
  HypervisorNode,
  NodeDescription,
} from '../../../src/drivers/hypervisor/index.js';
import { checkPersonality } from '../../../src/core/model/check-personality.js';
import { Faults } from './faults.js';

/** HYPERVISOR_OPS are the HypervisorDriver methods a test can fail or stall. */
export const HYPERVISOR_OPS = ['describe', 'healthy', 'start', 'stop', 'usage'] as const;
/** HypervisorOp is one of HYPERVISOR_OPS. */
export type HypervisorOp = (typeof HYPERVISOR_OPS)[number];

/** FakeComponent is one component running on a fake node. */
export interface FakeComponent extends ComponentInfo {
  readonly personality: Personality;
  usage: ComponentUsage;
}

/** FakeNode is one fake hardware node. */
export interface FakeNode extends HypervisorNode {
  readonly id: string;
  readonly capacity: ResourceVector;
  readonly components: ReadonlyMap<string, FakeComponent>;
  /** alive is false once the node was killed (it answers nothing). */
  readonly alive: boolean;
}

/** FakeHypervisor is a HypervisorDriver over in-memory nodes, with the test's controls. */
export interface FakeHypervisor extends HypervisorDriver {
  readonly faults: Faults<HypervisorOp>;
  /** addNode starts a node (url http://<id>.hv.fake unless given) and returns how to reach it. */
  addNode(n: { id: string; capacity: ResourceVector; url?: string; token?: string }): FakeNode;
  /** node is a node by id. */
  node(id: string): FakeNode;
  /** kill ends a node abruptly: it answers nothing and its components are gone. */
  kill(id: string): void;
  /** setUsage sets what a component reports it used. */
  setUsage(nodeId: string, componentId: string, usage: ComponentUsage): void;
}

interface NodeState {
  readonly id: string;
  readonly url: string;
  readonly token: string;
  readonly capacity: ResourceVector;
  readonly components: Map<string, FakeComponent>;
  readonly starting: Map<string, Promise<FakeComponent>>;
  alive: boolean;
  ports: number;
}

const PID_BASE = 40_000;

/** fakeHypervisor returns a fake with no nodes. */
export function fakeHypervisor(): FakeHypervisor {
  const byUrl = new Map<string, NodeState>();
  let pids = PID_BASE;
  let closed = false;
  const faults = new Faults<HypervisorOp>(
    (op) => new HostfleetError('E_HYPERVISOR', `a fake node did not answer (${op}, injected)`, { details: {} }),
  );

  function view(n: NodeState): FakeNode {
    return { id: n.id, url: n.url, token: n.token, capacity: n.capacity, components: n.components, alive: n.alive };
  }

  /** reach finds the node behind a URL as the HTTP driver would: closed, unreachable and wrong tokens fail the same way. */
  function reach(node: HypervisorNode, what: string): NodeState {
    const url = node.url.replace(/\/+$/, '');
    if (closed)
      throw new HostfleetError('E_HYPERVISOR', `the hypervisor driver is closed; cannot ${what} on ${url}`, {
        details: { node: url },
      });
    const n = byUrl.get(url);
    if (!n || !n.alive)
      throw new HostfleetError('E_HYPERVISOR', `node ${url} did not answer (${what}): connect ECONNREFUSED`, {
        details: { node: url },
      });
    if (node.token !== n.token)
      throw new HostfleetError(
        'E_HYPERVISOR',
        `node ${url} refused to ${what}: HTTP 401: send the node token as Authorization: Bearer <token>; check the node token`,
        { details: { node: url, status: 401 } },
      );
    return n;
  }

  function checkId(id: string): string {
    if (!COMPONENT_ID_RE.test(id))
      throw invalid([
        {
          field: 'componentId',
          problem: `must be lower-case letters, digits, dots and hyphens (1–100, starting with a letter or digit), got ${JSON.stringify(id)}`,
        },
      ]);
    return id;
  }

  const info = (c: FakeComponent): ComponentInfo => ({ id: c.id, address: c.address, pid: c.pid });

  return {
    faults,
    addNode({ id, capacity, url, token }) {
      const n: NodeState = {
        id,
        url: (url ?? `http://${id}.hv.fake`).replace(/\/+$/, ''),
        token: token ?? `token-of-${id}-0123456789`,
        capacity,
        components: new Map(),
        starting: new Map(),
        alive: true,
        ports: 0,
      };
      byUrl.set(n.url, n);
      return view(n);
    },
    node(id) {
      const n = [...byUrl.values()].find((x) => x.id === id);
      if (!n) throw new Error(`the fake hypervisor has no node ${id}`);
      return view(n);
    },
    kill(id) {
      for (const n of byUrl.values()) {
        if (n.id !== id) continue;
        n.alive = false;
        n.components.clear();
      }
    },
    setUsage(nodeId, componentId, usage) {
      const c = [...byUrl.values()].find((n) => n.id === nodeId)?.components.get(componentId);
      if (!c) throw new Error(`the fake node ${nodeId} runs no component ${componentId}`);
      c.usage = usage;
    },

    async describe(node): Promise<NodeDescription> {
      await faults.enter('describe', [node.url]);
      const n = reach(node, 'describe itself');
      return { id: n.id, capacity: { ...n.capacity }, components: [...n.components.values()].map(info) };
    },
    async healthy(node) {
      try {
        await faults.enter('healthy', [node.url]);
      } catch {
        return false;
      }
      const n = byUrl.get(node.url.replace(/\/+$/, ''));
      return !closed && n !== undefined && n.alive;
    },
    async start(node, componentId, personality) {
      const what = `start component ${checkId(componentId)}`;
      await faults.enter('start', [node.url, componentId]);
      const n = reach(node, what);
      const have = n.components.get(componentId);
      if (have) return info(have);
      let p = n.starting.get(componentId);
      if (!p) {
        p = (async () => {
          const check = checkPersonality(personality);
          if (!check.ok)
            throw invalid([
              {
                field: 'personality',
                problem: `invalid personality: ${check.problems.map((x) => `${x.field}: ${x.problem}`).join('; ')}`,
              },
            ]);
          // A runtime takes a moment to report ready; concurrent starts of one id share it.
          await new Promise((r) => setImmediate(r));
          if (!n.alive)
            throw new HostfleetError('E_HYPERVISOR', `node ${n.url} did not answer (${what}): socket hang up`, {
              details: { node: n.url },
            });
          const c: FakeComponent = {
            id: componentId,
            address: `${n.id}.hv.fake:${9000 + ++n.ports}`,
            pid: ++pids,
            personality: check.personality,
            usage: { cpuSeconds: 0, rssBytes: 0, stats: null },
          };
          n.components.set(componentId, c);
          return c;
        })().finally(() => n.starting.delete(componentId));
        n.starting.set(componentId, p);
      }
      const c = await p;
      await faults.leave('start');
      return info(c);
    },
    async stop(node, componentId) {
      const what = `stop component ${checkId(componentId)}`;
      await faults.enter('stop', [node.url, componentId]);
      reach(node, what).components.delete(componentId);
      await faults.leave('stop');
    },
    async usage(node, componentId) {
      const what = `report the usage of component ${checkId(componentId)}`;
      await faults.enter('usage', [node.url, componentId]);
      const c = reach(node, what).components.get(componentId);
      if (!c)
        throw new HostfleetError('E_NOT_FOUND', `component ${componentId} is not running on node ${node.url}`, {
          details: { node: node.url, component: componentId },
        });
      return { ...c.usage };
    },
    async close() {
      closed = true;
    },
  };
}
