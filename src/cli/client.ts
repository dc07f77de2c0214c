/**
 * client is the CLI's connection to a manager's API: where it is and which token to send,
 * from flags, then HOSTFLEET_URL / HOSTFLEET_TOKEN, then the embedded site's state file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { invocation } from './style.js';

/** UpState is what `hostfleet up` keeps in its data directory between runs. */
export interface UpState {
  readonly version: 1;
  readonly operatorToken: string;
  readonly bmcUser: string;
  readonly bmcPassword: string;
  readonly edgeToken: string;
  readonly busToken: string;
  readonly ports: {
    readonly manager: number;
    readonly edge: number;
    readonly edgeAdmin: number;
    readonly bmc: number;
    readonly dataBase: number;
    readonly bus: number;
  };
}

/**
 * defaultDataDir is where `hostfleet up` keeps its state: HOSTFLEET_DATA_DIR, else
 * /var/lib/hostfleet for root (the customers' workloads then run under their own uids and must
 * reach their scratch space, which a checkout under /root would not allow), else ./.hostfleet.
 */
export function defaultDataDir(): string {
  if (process.env.HOSTFLEET_DATA_DIR) return resolve(process.env.HOSTFLEET_DATA_DIR);
  return process.getuid?.() === 0 ? '/var/lib/hostfleet' : resolve('.hostfleet');
}

/** readUpState returns the embedded site's state, or null when there is none. */
export function readUpState(dataDir: string): UpState | null {
  const f = join(dataDir, 'up.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as UpState) : null;
}

/** ApiError is a non-2xx answer of the API, carrying its catalogue code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** Client calls the manager's API with a bearer token. */
export class Client {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /** fromEnv builds a client from flags, environment or the embedded site's state. */
  static resolve(opts: { url?: string | undefined; token?: string | undefined; dataDir?: string | undefined }): Client {
    const st = readUpState(opts.dataDir ?? defaultDataDir());
    const url = opts.url ?? process.env.HOSTFLEET_URL ?? (st ? `http://127.0.0.1:${st.ports.manager}` : undefined);
    const token = opts.token ?? process.env.HOSTFLEET_TOKEN ?? st?.operatorToken;
    if (!url || !token)
      throw new Error(
        `no manager to talk to: start one with \`${invocation()} up\` (or pass --data-dir of the one running), or set HOSTFLEET_URL and HOSTFLEET_TOKEN (or pass --url and --token)`,
      );
    return new Client(url.replace(/\/+$/, ''), token);
  }

  /** call sends one request and returns the parsed JSON answer, or throws ApiError. */
  async call<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> {
    let r;
    try {
      r = await request(this.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: 30_000,
      });
    } catch (e) {
      throw new Error(
        `cannot reach the manager at ${this.url}: ${(e as Error).message}. Is \`${invocation()} up\` running?`,
        { cause: e },
      );
    }
    const text = await r.body.text();
    const json = text ? (JSON.parse(text) as unknown) : {};
    if (r.statusCode >= 400) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new ApiError(r.statusCode, err?.code ?? 'E_INTERNAL', err?.message ?? `HTTP ${r.statusCode}`, json);
    }
    return json as T;
  }
}
