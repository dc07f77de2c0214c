/**
 * http is the HypervisorDriver of hostfleet's node API (src/emulators/hypervisor/node.ts serves
 * it on every emulated node; a real hypervisor gets a small agent speaking the same API):
 *
 *   GET    /healthz                          (no token)
 *   GET    /v1/node                          → { id, capacity, components }
 *   PUT    /v1/components/:id  {personality} → { id, address, pid }   200 running, 201 started
 *   GET    /v1/components/:id/usage          → { cpuSeconds, rssBytes, stats }
 *   DELETE /v1/components/:id               → 204 (absent too)
 *
 * One keep-alive agent serves every node, so the monitor's frequent health checks reuse their
 * connections instead of opening one per check.
 */
import { Agent, request } from 'undici';
import { HostfleetError, invalid } from '../../core/errors.js';
import type { Personality } from '../../core/model/personality.js';
import { COMPONENT_ID_RE } from './driver.js';
import type {
  CallOptions,
  ComponentInfo,
  ComponentUsage,
  HypervisorDriver,
  HypervisorNode,
  NodeDescription,
} from './driver.js';

/** HttpHypervisorOptions configures httpHypervisor. */
export interface HttpHypervisorOptions {
  /** timeoutMs is the default bound of a call (headers and body); default 20000. */
  readonly timeoutMs?: number;
  /** connections bounds the keep-alive connections per node; default 8. */
  readonly connections?: number;
}

interface Reply {
  readonly status: number;
  readonly json: unknown;
}

/** DEFAULT_TIMEOUT_MS bounds a call when neither the options nor the call say (a component start waits for its runtime). */
const DEFAULT_TIMEOUT_MS = 20_000;

function checkComponentId(id: string): string {
  if (!COMPONENT_ID_RE.test(id))
    throw invalid([
      {
        field: 'componentId',
        problem: `must be lower-case letters, digits, dots and hyphens (1–100, starting with a letter or digit), got ${JSON.stringify(id)}`,
      },
    ]);
  return id;
}

function messageOf(json: unknown): string {
  const m = (json as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof m === 'string' ? m : JSON.stringify(json ?? null).slice(0, 200);
}

function asComponent(j: unknown): ComponentInfo {
  const c = (j ?? {}) as Record<string, unknown>;
  return { id: String(c.id ?? ''), address: String(c.address ?? ''), pid: typeof c.pid === 'number' ? c.pid : 0 };
}

/** httpHypervisor returns the HypervisorDriver of the node API. */
export function httpHypervisor(opts: HttpHypervisorOptions = {}): HypervisorDriver {
  const agent = new Agent({ keepAliveTimeout: 2000, connections: opts.connections ?? 8 });
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let closed = false;

  async function call(
    node: HypervisorNode,
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    body: unknown,
    what: string,
    o: CallOptions | undefined,
  ): Promise<Reply> {
    if (closed)
      throw new HostfleetError('E_HYPERVISOR', `the hypervisor driver is closed; cannot ${what} on ${node.url}`, {
        details: { node: node.url },
      });
    const timeoutMs = o?.timeoutMs ?? defaultTimeout;
    let r;
    try {
      r = await request(`${node.url.replace(/\/+$/, '')}${path}`, {
        dispatcher: agent,
        method,
        headers: {
          authorization: `Bearer ${node.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      throw new HostfleetError('E_HYPERVISOR', `node ${node.url} did not answer (${what}): ${(e as Error).message}`, {
        details: { node: node.url },
        cause: e,
      });
    }
    const text = await r.body.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = { error: { message: text.slice(0, 200) } };
    }
    return { status: r.statusCode, json };
  }

  function refused(node: HypervisorNode, what: string, r: Reply): HostfleetError {
    const hint = r.status === 401 ? '; check the node token' : '';
    return new HostfleetError(
      'E_HYPERVISOR',
      `node ${node.url} refused to ${what}: HTTP ${r.status}: ${messageOf(r.json)}${hint}`,
      { details: { node: node.url, status: r.status } },
    );
  }

  const componentPath = (id: string) => `/v1/components/${encodeURIComponent(checkComponentId(id))}`;

  return {
    async describe(node, o) {
      const r = await call(node, 'GET', '/v1/node', undefined, 'describe itself', o);
      if (r.status !== 200) throw refused(node, 'describe itself', r);
      const j = (r.json ?? {}) as Record<string, unknown>;
      const components = Array.isArray(j.components) ? j.components.map(asComponent) : [];
      return {
        id: typeof j.id === 'string' ? j.id : String(j.id),
        capacity: j.capacity,
        components,
      } satisfies NodeDescription;
    },

    async healthy(node, timeoutMs) {
      if (closed) return false;
      try {
        const r = await request(`${node.url.replace(/\/+$/, '')}/healthz`, {
          dispatcher: agent,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await r.body.text();
        return r.statusCode === 200;
      } catch {
        return false;
      }
    },

    async start(node, componentId, personality: Personality, o) {
      const what = `start component ${componentId}`;
      const r = await call(node, 'PUT', componentPath(componentId), { personality }, what, o);
      if (r.status === 400) throw invalid([{ field: 'personality', problem: messageOf(r.json) }]);
      if (r.status !== 200 && r.status !== 201) throw refused(node, what, r);
      return asComponent(r.json);
    },

    async stop(node, componentId, o) {
      const what = `stop component ${componentId}`;
      const r = await call(node, 'DELETE', componentPath(componentId), undefined, what, o);
      if (r.status !== 204 && r.status !== 200) throw refused(node, what, r);
    },

    async usage(node, componentId, o) {
      const what = `report the usage of component ${componentId}`;
      const r = await call(node, 'GET', `${componentPath(componentId)}/usage`, undefined, what, o);
      if (r.status === 404)
        throw new HostfleetError('E_NOT_FOUND', `component ${componentId} is not running on node ${node.url}`, {
          details: { node: node.url, component: componentId },
        });
      if (r.status !== 200) throw refused(node, what, r);
      const u = (r.json ?? {}) as Record<string, unknown>;
      return {
        cpuSeconds: Number(u.cpuSeconds ?? 0),
        rssBytes: Number(u.rssBytes ?? 0),
        stats: (u.stats ?? null) as ComponentUsage['stats'],
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      await agent.close();
    },
  };
}
