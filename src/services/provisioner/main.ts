/**
 * main is the production entry point of a service server's provisioning agent: one validated
 * configuration file names the server, the manager, the management bus, and for each service
 * it runs (dns, web, mail, ftp) where the daemon's configuration lives and where its
 * programs are. Bad configuration stops the agent at start with every wrong field named.
 */
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { delimiter } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import type { FieldProblem } from '../../core/errors.js';
import { checkValue } from '../../core/provisioning/index.js';
import { openBus } from '../../drivers/bus/index.js';
import type { Bus } from '../../drivers/bus/index.js';
import { bindDriver, mailDriver, nginxDriver, pureFtpdDriver, run } from '../../drivers/services/index.js';
import type { ServiceDriver } from '../../drivers/services/index.js';
import { loadConfig } from '../shared/config.js';
import type { EnvBinding } from '../shared/config.js';
import { startProvisioner } from './agent.js';
import type { Provisioner } from './agent.js';

const SLUG = '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$';
const ABS = '^/';
const LISTEN = '^[0-9.]+:[0-9]{1,5}$';
const DNS_NAME = '^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$';

/** ProvisionerConfigSchema is the agent's configuration file (YAML or JSON). */
export const ProvisionerConfigSchema = Type.Object(
  {
    site: Type.Object({
      id: Type.String({ pattern: SLUG, description: 'the site of the manager (its bus subjects carry it)' }),
    }),
    server: Type.Object({
      id: Type.String({
        pattern: SLUG,
        description: 'this service server, as registered with PUT /v1/provisioning/servers/:id',
      }),
    }),
    managerUrl: Type.String({ pattern: '^https?://', description: "the manager's API URL on the management network" }),
    bus: Type.Object({
      url: Type.String({
        minLength: 1,
        description: 'the management bus: nats://… (production) or hfbus://… (the embedded hub)',
      }),
      token: Type.Optional(Type.String({ minLength: 1, description: 'the bus token' })),
    }),
    stateDir: Type.String({
      pattern: ABS,
      description: 'where the agent keeps what this server holds, across restarts',
    }),
    binDirs: Type.Array(Type.String({ pattern: ABS }), {
      default: [],
      description:
        "directories searched first for the daemons' programs (nginx, named, named-checkconf, postfix, postmap, dovecot, doveconf, pure-ftpd, pure-pw)",
    }),
    batchMs: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 20,
      description: 'nudges arriving within this window are applied as one batch (one check and one reload per service)',
    }),
    services: Type.Object(
      {
        dns: Type.Optional(
          Type.Object(
            {
              base: Type.String({ pattern: ABS, description: "BIND's directory (named.conf, zone generations)" }),
              listen: Type.String({ pattern: LISTEN, description: 'address:port named answers on' }),
              primary: Type.String({ pattern: DNS_NAME, description: 'SOA primary name server of every zone' }),
              hostmaster: Type.String({ pattern: DNS_NAME, description: 'SOA mailbox of every zone, as a DNS name' }),
              ttl: Type.Optional(
                Type.Integer({ minimum: 1, maximum: 604_800, description: 'TTL of the records, in seconds' }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        web: Type.Optional(
          Type.Object(
            {
              base: Type.String({
                pattern: ABS,
                description: "nginx's directory (nginx.conf, site generations, logs)",
              }),
              listen: Type.String({ pattern: LISTEN, description: 'address:port of the sites' }),
              volumesRoot: Type.String({
                pattern: ABS,
                description: "where the accounts' volumes are (<root>/<account>/www is a site)",
              }),
              bin: Type.Optional(Type.String({ pattern: ABS, description: 'the nginx program' })),
            },
            { additionalProperties: false },
          ),
        ),
        mail: Type.Optional(
          Type.Object(
            {
              base: Type.String({ pattern: ABS, description: 'Postfix and Dovecot configuration and map generations' }),
              smtp: Type.String({ pattern: LISTEN, description: "address:port of Postfix's smtpd" }),
              imap: Type.String({ pattern: LISTEN, description: "address:port of Dovecot's IMAP" }),
              mailRoot: Type.String({ pattern: ABS, description: 'the maildirs (<root>/<domain>/<mailbox>/)' }),
              hostname: Type.String({ pattern: DNS_NAME, description: "Postfix's myhostname" }),
              vmailUid: Type.Integer({
                minimum: 100,
                maximum: 2 ** 31 - 2,
                default: 5000,
                description: 'the uid owning every maildir',
              }),
              postfixUser: Type.String({
                pattern: '^[a-z_][a-z0-9_-]{0,31}$',
                default: 'postfix',
                description: "the system user owning Postfix's data directory",
              }),
            },
            { additionalProperties: false },
          ),
        ),
        ftp: Type.Optional(
          Type.Object(
            {
              base: Type.String({ pattern: ABS, description: 'Pure-FTPd virtual user generations' }),
              listen: Type.String({ pattern: LISTEN, description: 'address:port of the FTP control connection' }),
              volumesRoot: Type.String({ pattern: ABS, description: "where the accounts' volumes are" }),
              passive: Type.Tuple(
                [Type.Integer({ minimum: 1024, maximum: 65535 }), Type.Integer({ minimum: 1024, maximum: 65535 })],
                { description: 'the passive data port range [first, last]' },
              ),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, description: 'the services this server runs (at least one)' },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { default: {} },
    ),
  },
  { additionalProperties: false },
);

/** ProvisionerConfig is a validated agent configuration. */
export type ProvisionerConfig = Static<typeof ProvisionerConfigSchema>;

/** PROVISIONER_ENV lists the environment variables read over the file. */
export const PROVISIONER_ENV: readonly EnvBinding[] = [
  { env: 'HOSTFLEET_PROVISIONER_SERVER', path: 'server.id', type: 'string' },
  { env: 'HOSTFLEET_URL', path: 'managerUrl', type: 'string' },
  { env: 'HOSTFLEET_BUS_URL', path: 'bus.url', type: 'string' },
  { env: 'HOSTFLEET_BUS_TOKEN', path: 'bus.token', type: 'string' },
];

/** loadProvisionerConfig reads and validates the configuration (E_CONFIG naming every wrong field). */
export function loadProvisionerConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ProvisionerConfig {
  const cfg = loadConfig(ProvisionerConfigSchema, { file, env, bindings: PROVISIONER_ENV });
  // The grammars the drivers hold their options to, checked here so the agent refuses at start.
  const p: FieldProblem[] = [];
  const add = (e: FieldProblem | null) => {
    if (e) p.push(e);
  };
  const s = cfg.services;
  if (!s.dns && !s.web && !s.mail && !s.ftp)
    p.push({ field: 'services', problem: 'must name at least one of dns, web, mail, ftp' });
  add(checkValue('absPath', 'stateDir', cfg.stateDir));
  cfg.binDirs.forEach((d, i) => add(checkValue('absPath', `binDirs.${i}`, d)));
  for (const [k, v] of Object.entries(s) as [string, Record<string, unknown>][]) {
    for (const f of ['base', 'volumesRoot', 'mailRoot', 'bin'] as const)
      if (v[f] !== undefined) add(checkValue('absPath', `services.${k}.${f}`, v[f]));
    for (const f of ['listen', 'smtp', 'imap'] as const)
      if (v[f] !== undefined) add(checkValue('listen', `services.${k}.${f}`, v[f]));
  }
  if (s.ftp && s.ftp.passive[1] < s.ftp.passive[0])
    p.push({ field: 'services.ftp.passive', problem: 'must be [first, last] with first ≤ last' });
  if (p.length > 0)
    throw new HostfleetError(
      'E_CONFIG',
      `invalid configuration${file ? ` in ${file}` : ''}: ${p.map((x) => `${x.field}: ${x.problem}`).join('; ')}`,
      { fields: p },
    );
  return cfg;
}

/** RunningProvisioner is an agent with its daemons and bus connection. */
export interface RunningProvisioner {
  readonly agent: Provisioner;
  readonly drivers: readonly ServiceDriver[];
  close(): Promise<void>;
}

/**
 * startProvisionerFromConfig starts the configured daemons, connects to the bus and starts
 * the agent. bus replaces the configured one (an embedded site hands its own in).
 */
export async function startProvisionerFromConfig(
  cfg: ProvisionerConfig,
  o: { log?: Logger; bus?: Bus } = {},
): Promise<RunningProvisioner> {
  if (cfg.binDirs.length > 0) process.env.PATH = [...cfg.binDirs, process.env.PATH ?? ''].join(delimiter);
  const s = cfg.services;
  const drivers: ServiceDriver[] = [];
  if (s.dns) drivers.push(bindDriver(s.dns));
  if (s.web) drivers.push(nginxDriver(s.web));
  if (s.mail) {
    const uid = await run('id', ['-u', s.mail.postfixUser]);
    const gid = await run('id', ['-g', s.mail.postfixUser]);
    if (uid.code !== 0 || gid.code !== 0)
      throw new HostfleetError(
        'E_CONFIG',
        `services.mail.postfixUser: there is no system user ${s.mail.postfixUser} (install postfix)`,
      );
    drivers.push(mailDriver({ ...s.mail, postfixUid: Number(uid.output), postfixGid: Number(gid.output) }));
  }
  if (s.ftp) drivers.push(pureFtpdDriver({ ...s.ftp, passive: [s.ftp.passive[0], s.ftp.passive[1]] }));
  const started: ServiceDriver[] = [];
  let bus: Bus | undefined;
  const ownBus = o.bus === undefined;
  try {
    for (const d of drivers) {
      await d.start();
      started.push(d);
      o.log?.info({ service: d.service }, 'service started');
    }
    bus =
      o.bus ??
      (await openBus({
        url: cfg.bus.url,
        token: cfg.bus.token,
        name: `provisioner-${cfg.server.id}`,
        onError: (e: unknown) => o.log?.warn({ err: e }, 'bus error'),
      }));
    const agent = await startProvisioner({
      siteId: cfg.site.id,
      serverId: cfg.server.id,
      managerUrl: cfg.managerUrl,
      bus,
      drivers,
      stateDir: cfg.stateDir,
      log: o.log,
      batchMs: cfg.batchMs,
    });
    const b = bus;
    return {
      agent,
      drivers,
      async close() {
        await agent.close();
        if (ownBus) await b.close();
        for (const d of started.reverse())
          await d.close().catch((e: unknown) => o.log?.warn({ err: e, service: d.service }, 'could not stop'));
      },
    };
  } catch (e) {
    if (ownBus) await bus?.close().catch(() => undefined);
    for (const d of started.reverse()) await d.close().catch(() => undefined);
    throw e;
  }
}
