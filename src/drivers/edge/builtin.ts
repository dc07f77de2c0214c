/**
 * builtin is the EdgeDriver for hostfleet's own edge (src/services/edge): each method is one
 * call to the edge's admin API. Arguments are validated before anything is sent; the edge's
 * catalogue errors (E_NOT_FOUND, E_CONFLICT, E_VALIDATION) come back as the same
 * HostfleetError, and anything else the edge does — refusing, timing out, answering garbage —
 * becomes E_EDGE.
 */
import { Agent, request } from 'undici';
import { ERROR_CODES, HostfleetError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import { assertPool, assertPoolId, assertServer, assertServerId, assertTimeoutMs } from './validate.js';
import type { DrainResult, EdgeDriver, EdgePoolStatus, EdgeServer } from './types.js';

/** BuiltinEdgeOptions locate the built-in edge's admin API. */
export interface BuiltinEdgeOptions {
  /** adminUrl is the admin API's base URL, such as http://127.0.0.1:8081. */
  readonly adminUrl: string;
  /** token is the admin API's bearer token. */
  readonly token: string;
  /** requestTimeoutMs bounds every call but drain, which waits its own timeout plus this (default 10000). */
  readonly requestTimeoutMs?: number;
}

/** builtinEdge returns a driver for the built-in edge at adminUrl. */
export function builtinEdge(opts: BuiltinEdgeOptions): EdgeDriver {
  let base: URL;
  try {
    base = new URL(opts.adminUrl);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new HostfleetError(
      'E_CONFIG',
      `edge adminUrl ${JSON.stringify(opts.adminUrl)} is not an http(s) URL; use the edge's admin address such as http://127.0.0.1:8081`,
    );
  }
  if (typeof opts.token !== 'string' || opts.token.length === 0) {
    throw new HostfleetError(
      'E_CONFIG',
      'the edge admin token is empty; pass the token the edge was started with (HOSTFLEET_EDGE_TOKEN)',
    );
  }
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
  const root = base.href.replace(/\/+$/, '');

  const call = async (
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    extraMs = 0,
  ): Promise<unknown> => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await request(`${root}${path}`, {
        dispatcher: agent,
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        headersTimeout: timeoutMs + extraMs,
        bodyTimeout: timeoutMs + extraMs,
      });
    } catch (err) {
      throw new HostfleetError(
        'E_EDGE',
        `the edge at ${root} did not answer ${method} ${path}: ${(err as Error).message}; check that it runs and that adminUrl is right`,
        { cause: err, details: { method, path } },
      );
    }
    const text = await res.body.text().catch(() => '');
    if (res.statusCode === 204) return undefined;
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return json;
    const e = (
      json as { error?: { code?: unknown; message?: unknown; details?: unknown; fields?: unknown } } | undefined
    )?.error;
    const code =
      typeof e?.code === 'string' && (ERROR_CODES as string[]).includes(e.code) ? (e.code as ErrorCode) : undefined;
    const passThrough: readonly ErrorCode[] = ['E_NOT_FOUND', 'E_CONFLICT', 'E_VALIDATION'];
    if (code && passThrough.includes(code)) {
      throw new HostfleetError(code, typeof e?.message === 'string' ? e.message : `${method} ${path} failed`, {
        ...(e?.details && typeof e.details === 'object' ? { details: e.details as Record<string, unknown> } : {}),
        ...(Array.isArray(e?.fields) ? { fields: e.fields as never } : {}),
      });
    }
    throw new HostfleetError(
      'E_EDGE',
      `the edge refused ${method} ${path} with HTTP ${res.statusCode}${typeof e?.message === 'string' ? `: ${e.message}` : ''}`,
      { details: { method, path, status: res.statusCode, ...(code ? { code } : {}) } },
    );
  };

  const seg = encodeURIComponent;
  return {
    async upsertPool(pool) {
      const p = assertPool(pool);
      await call('PUT', `/v1/pools/${seg(p.id)}`, {
        domains: p.domains,
        ...(p.balance !== undefined ? { balance: p.balance } : {}),
        ...(p.sticky !== undefined ? { sticky: p.sticky } : {}),
        ...(p.rateLimit !== undefined ? { rateLimit: p.rateLimit } : {}),
      });
    },
    async removePool(poolId) {
      await call('DELETE', `/v1/pools/${seg(assertPoolId(poolId))}`);
    },
    async attach(poolId, server: EdgeServer) {
      const id = assertPoolId(poolId);
      const s = assertServer(server);
      await call('PUT', `/v1/pools/${seg(id)}/servers/${seg(s.id)}`, { address: s.address });
    },
    async drain(poolId, serverId, o): Promise<DrainResult> {
      const t = assertTimeoutMs(o.timeoutMs);
      const r = (await call(
        'POST',
        `/v1/pools/${seg(assertPoolId(poolId))}/servers/${seg(assertServerId(serverId))}/drain`,
        { timeoutMs: t },
        t,
      )) as Partial<DrainResult> | undefined;
      if (typeof r?.drained !== 'boolean' || typeof r.inflight !== 'number')
        throw new HostfleetError('E_EDGE', 'the edge answered drain with an unexpected body');
      return { drained: r.drained, inflight: r.inflight };
    },
    async pause(poolId, serverId) {
      await call('POST', `/v1/pools/${seg(assertPoolId(poolId))}/servers/${seg(assertServerId(serverId))}/pause`);
    },
    async play(poolId, serverId) {
      await call('POST', `/v1/pools/${seg(assertPoolId(poolId))}/servers/${seg(assertServerId(serverId))}/play`);
    },
    async detach(poolId, serverId) {
      await call('DELETE', `/v1/pools/${seg(assertPoolId(poolId))}/servers/${seg(assertServerId(serverId))}`);
    },
    async status(): Promise<EdgePoolStatus[]> {
      const r = await call('GET', '/v1/pools');
      if (!Array.isArray(r)) throw new HostfleetError('E_EDGE', 'the edge answered status with an unexpected body');
      return r as EdgePoolStatus[];
    },
    async close() {
      await agent.close();
    },
  };
}
