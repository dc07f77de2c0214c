/**
 * redfish is the Redfish client behind BmcDriver. It discovers everything it can from the
 * service (Systems and Sessions links from the service root, member URIs from the Systems
 * collection, the Reset action's target from each system) instead of assuming paths, because
 * vendors lay out their trees differently (System.Embedded.1, 1, Self, …).
 */
import { Agent, request } from 'undici';
import { HostfleetError, invalid } from '../../core/errors.js';
import {
  assertBootPointer,
  assertResetType,
  BOOT_OVERRIDE_MODES,
  HEALTHS,
  type BmcDriver,
  type BootOverrideMode,
  type Health,
  type PowerState,
  type RedfishBmcOptions,
  type ResetType,
  type SystemInfo,
} from './driver.js';
import { redfishErrorText } from './messages.js';

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

interface SystemLinks {
  readonly uri: string;
  readonly resetTarget: string;
}

const SERVICE_ROOT = '/redfish/v1/';

/** ALREADY_DONE says which power state makes a refused reset a success (see BmcDriver's contract). */
const ALREADY_DONE: Partial<Record<ResetType, readonly PowerState[]>> = {
  On: ['On', 'PoweringOn'],
  ForceOff: ['Off', 'PoweringOff'],
  GracefulShutdown: ['Off', 'PoweringOff'],
};

function header(h: Reply['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function asPowerState(v: unknown): PowerState {
  switch (v) {
    case 'On':
    case 'Paused':
      return 'On';
    case 'Off':
    case 'PoweringOn':
    case 'PoweringOff':
      return v;
    default:
      // A BMC that does not say is treated as off, so the manager never assumes a workload runs.
      return 'Off';
  }
}

function asHealth(v: unknown): Health {
  return (HEALTHS as readonly unknown[]).includes(v) ? (v as Health) : 'Warning';
}

function asBootMode(v: unknown): BootOverrideMode {
  return (BOOT_OVERRIDE_MODES as readonly unknown[]).includes(v) ? (v as BootOverrideMode) : 'Disabled';
}

/** toSystemInfo maps a ComputerSystem resource to SystemInfo. */
function toSystemInfo(j: Record<string, unknown>): SystemInfo {
  const boot = (j.Boot ?? {}) as Record<string, unknown>;
  const status = (j.Status ?? {}) as Record<string, unknown>;
  const oem = ((j.Oem as Record<string, unknown> | undefined)?.Hostfleet ?? {}) as Record<string, unknown>;
  return {
    id: String(j.Id ?? ''),
    uuid: String(j.UUID ?? '').toLowerCase(),
    powerState: asPowerState(j.PowerState),
    health: asHealth(status.Health),
    boot: {
      enabled: asBootMode(boot.BootSourceOverrideEnabled),
      target: typeof boot.BootSourceOverrideTarget === 'string' ? boot.BootSourceOverrideTarget : 'None',
      httpBootUri: typeof boot.HttpBootUri === 'string' && boot.HttpBootUri !== '' ? boot.HttpBootUri : null,
    },
    dataAddress: typeof oem.DataAddress === 'string' ? oem.DataAddress : null,
  };
}

/**
 * redfishBmc returns a BmcDriver for the Redfish service at opts.url. Connections are kept
 * alive (undici Agent); with auth 'session' it logs in on first use, sends X-Auth-Token, and
 * logs in again once when the BMC answers 401 (sessions expire, BMCs restart).
 */
export function redfishBmc(opts: RedfishBmcOptions): BmcDriver {
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw invalid([
      { field: 'url', problem: `must be an absolute http(s) URL of the BMC, got ${JSON.stringify(opts.url)}` },
    ]);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw invalid([{ field: 'url', problem: `must use http or https, got ${base.protocol}` }]);
  }
  const origin = base.origin;
  const url = `${origin}${base.pathname.replace(/\/+$/, '')}`;
  const auth = opts.auth ?? 'session';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const basic = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs, ...(opts.insecureTls ? { rejectUnauthorized: false } : {}) },
  });

  let token: string | null = null;
  let sessionUri: string | null = null;
  let loggingIn: Promise<void> | null = null;
  let rootLinks: Promise<{ systems: string; sessions: string }> | null = null;
  const systems = new Map<string, SystemLinks>();
  let closed = false;

  function fail(
    what: string,
    systemId: string | null,
    status: number | null,
    text: string,
    cause?: unknown,
  ): HostfleetError {
    const where = systemId === null ? `BMC ${url}` : `BMC ${url}, system ${systemId}`;
    const how = status === null ? 'did not answer' : `answered HTTP ${status}`;
    return new HostfleetError('E_BMC', `${where}: ${what} failed: ${how}${text ? `: ${text}` : ''}`, {
      details: { bmc: url, system: systemId, status, redfishMessage: text },
      cause,
    });
  }

  function abs(path: string): string {
    return path.startsWith('http://') || path.startsWith('https://')
      ? path
      : `${origin}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  async function send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    what: string,
    systemId: string | null,
  ): Promise<Reply> {
    if (closed) throw fail(what, systemId, null, 'the driver is closed');
    try {
      const res = await request(abs(path), {
        method: method as 'GET',
        dispatcher: agent,
        headers: {
          accept: 'application/json',
          'odata-version': '4.0',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      let parsed: unknown = text;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.statusCode, headers: res.headers, body: parsed };
    } catch (e) {
      throw fail(what, systemId, null, (e as Error).message, e);
    }
  }

  function links(): Promise<{ systems: string; sessions: string }> {
    rootLinks ??= (async () => {
      // The service root is readable without credentials (DSP0266 §13.3.4).
      const r = await send(
        'GET',
        `${base.pathname.replace(/\/+$/, '')}${SERVICE_ROOT}`,
        undefined,
        {},
        'reading the service root',
        null,
      );
      if (r.status !== 200 || typeof r.body !== 'object' || r.body === null)
        throw fail('reading the service root', null, r.status, redfishErrorText(r.body));
      const j = r.body as Record<string, { '@odata.id'?: string } | undefined> & {
        Links?: { Sessions?: { '@odata.id'?: string } };
      };
      return {
        systems: j.Systems?.['@odata.id'] ?? '/redfish/v1/Systems',
        sessions: j.Links?.Sessions?.['@odata.id'] ?? '/redfish/v1/SessionService/Sessions',
      };
    })().catch((e: unknown) => {
      rootLinks = null;
      throw e;
    });
    return rootLinks;
  }

  function login(): Promise<void> {
    loggingIn ??= (async () => {
      const { sessions } = await links();
      const r = await send(
        'POST',
        sessions,
        { UserName: opts.username, Password: opts.password },
        {},
        'logging in',
        null,
      );
      const t = header(r.headers, 'x-auth-token');
      if ((r.status !== 201 && r.status !== 200) || !t)
        throw fail('logging in', null, r.status, redfishErrorText(r.body) || 'no X-Auth-Token in the answer');
      token = t;
      sessionUri = header(r.headers, 'location') ?? (r.body as { '@odata.id'?: string } | null)?.['@odata.id'] ?? null;
    })().finally(() => {
      loggingIn = null;
    });
    return loggingIn;
  }

  /** call sends an authenticated request and throws E_BMC on anything but 2xx or an allowed status. */
  async function call(
    method: string,
    path: string,
    body: unknown,
    what: string,
    systemId: string | null,
    allow: readonly number[] = [],
  ): Promise<Reply> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let authHeader: Record<string, string>;
      if (auth === 'session') {
        if (token === null) await login();
        authHeader = { 'x-auth-token': token ?? '' };
      } else {
        authHeader = { authorization: basic };
      }
      const r = await send(method, path, body, authHeader, what, systemId);
      if (r.status === 401 && auth === 'session' && attempt === 0) {
        token = null;
        sessionUri = null;
        continue;
      }
      if ((r.status >= 200 && r.status < 300) || allow.includes(r.status)) return r;
      throw fail(what, systemId, r.status, redfishErrorText(r.body));
    }
    throw fail(what, systemId, 401, 'credentials refused after logging in again');
  }

  function remember(j: Record<string, unknown>): SystemInfo {
    const info = toSystemInfo(j);
    const uri = typeof j['@odata.id'] === 'string' ? j['@odata.id'] : null;
    const actions = (j.Actions ?? {}) as Record<string, { target?: unknown } | undefined>;
    const target = actions['#ComputerSystem.Reset']?.target;
    if (uri)
      systems.set(info.id, {
        uri,
        resetTarget: typeof target === 'string' ? target : `${uri.replace(/\/+$/, '')}/Actions/ComputerSystem.Reset`,
      });
    return info;
  }

  async function systemUri(systemId: string): Promise<string> {
    const known = systems.get(systemId);
    if (known) return known.uri;
    const { systems: collection } = await links();
    return `${collection.replace(/\/+$/, '')}/${encodeURIComponent(systemId)}`;
  }

  async function fetchSystem(systemId: string): Promise<SystemInfo> {
    const r = await call('GET', await systemUri(systemId), undefined, 'reading the system', systemId);
    if (typeof r.body !== 'object' || r.body === null)
      throw fail('reading the system', systemId, r.status, 'the answer is not a JSON object');
    return remember(r.body as Record<string, unknown>);
  }

  async function patchBoot(systemId: string, boot: Record<string, unknown>, what: string): Promise<void> {
    await call('PATCH', await systemUri(systemId), { Boot: boot }, what, systemId);
  }

  return {
    async listSystems() {
      const { systems: collection } = await links();
      const r = await call('GET', collection, undefined, 'listing systems', null);
      const members = ((r.body as { Members?: unknown } | null)?.Members ?? []) as { '@odata.id'?: unknown }[];
      const out: SystemInfo[] = [];
      for (const m of members) {
        const uri = m['@odata.id'];
        if (typeof uri !== 'string') continue;
        const s = await call('GET', uri, undefined, 'reading a system of the collection', uri);
        out.push(remember(s.body as Record<string, unknown>));
      }
      return out;
    },

    getSystem: fetchSystem,

    async setBootPointer(systemId, httpBootUri, mode) {
      assertBootPointer(httpBootUri, mode);
      const now = await fetchSystem(systemId);
      if (now.boot.enabled === mode && now.boot.target === 'UefiHttp' && now.boot.httpBootUri === httpBootUri) return;
      await patchBoot(
        systemId,
        { BootSourceOverrideEnabled: mode, BootSourceOverrideTarget: 'UefiHttp', HttpBootUri: httpBootUri },
        `setting the boot pointer to ${httpBootUri} (${mode})`,
      );
    },

    async clearBootPointer(systemId) {
      const now = await fetchSystem(systemId);
      if (now.boot.enabled === 'Disabled' && now.boot.httpBootUri === null) return;
      await patchBoot(
        systemId,
        { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None', HttpBootUri: null },
        'clearing the boot pointer',
      );
    },

    async reset(systemId, type) {
      assertResetType(type);
      if (!systems.has(systemId)) await fetchSystem(systemId);
      const target = systems.get(systemId)?.resetTarget ?? `${await systemUri(systemId)}/Actions/ComputerSystem.Reset`;
      const done = ALREADY_DONE[type];
      const r = await call('POST', target, { ResetType: type }, `reset ${type}`, systemId, done ? [400, 409] : []);
      if (r.status < 300) return;
      // Real BMCs refuse On when on and ForceOff when off; that is the state we wanted.
      const now = await fetchSystem(systemId);
      if (done?.includes(now.powerState)) return;
      throw fail(`reset ${type}`, systemId, r.status, redfishErrorText(r.body));
    },

    async close() {
      if (closed) return;
      if (auth === 'session' && token !== null && sessionUri !== null) {
        await send('DELETE', sessionUri, undefined, { 'x-auth-token': token }, 'logging out', null).catch(
          () => undefined,
        );
      }
      closed = true;
      token = null;
      await agent.close();
    },
  };
}
