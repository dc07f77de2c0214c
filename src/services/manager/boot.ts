/**
 * boot is the boot service: it issues boot pointers (unguessable, short-lived, single-use URLs
 * bound to one machine) and hands each machine the personality it was issued for — never
 * another customer's. The BMC's HttpBootUri is set to the pointer; the machine fetches it with
 * its system UUID when it boots.
 */
import { HostfleetError } from '../../core/errors.js';
import { buildPersonality, type Personality, type PersonalityAgent } from '../../core/model/personality.js';
import type { Sla } from '../../core/model/sla.js';
import type { AccountRecord, GroupRecord } from '../../core/model/records.js';
import { consumeBootPointer, insertBootPointer } from '../../drivers/store/resources.js';
import { runningKindOf } from '../../drivers/store/warm.js';
import type { StoredServer } from '../../core/model/server.js';
import type { Sql } from '../../drivers/store/index.js';
import type { Clock } from '../../drivers/clock/index.js';
import { newSecret } from '../../drivers/clock/index.js';
import { hashToken } from './auth.js';

/** MACHINE_HEADER is the request header in which a booting machine names its system UUID. */
export const MACHINE_HEADER = 'x-hostfleet-machine';

/** AgentBus is how a site's agents reach its management bus. */
export interface AgentBus {
  readonly siteId: string;
  /** busUrl is the URL agents dial (ctx.busUrl); 'memory:' cannot be reached from a machine. */
  readonly busUrl: string;
  readonly busToken: string | null;
}

/** agentSectionFor is the personality's agent section for a server of a group, or undefined when agents cannot reach the bus. */
export function agentSectionFor(
  bus: AgentBus,
  server: string,
  group: string,
  sla: Pick<Sla, 'priority' | 'responseTargetMs'>,
): PersonalityAgent | undefined {
  if (!/^(hfbus|nats|tls):\/\//.test(bus.busUrl)) return undefined;
  return {
    busUrl: bus.busUrl,
    busToken: bus.busToken,
    site: bus.siteId,
    group,
    server,
    tickMs: 1000,
    priority: sla.priority,
    responseTargetMs: sla.responseTargetMs,
    rules: 'default',
  };
}

/** personalityFor builds the personality a server receives to serve a group; agent is its agent section, when the site runs agents. */
export function personalityFor(
  server: StoredServer,
  group: GroupRecord,
  account: AccountRecord,
  agent?: PersonalityAgent,
): Personality {
  return buildPersonality({
    machine: server.uuid,
    server: server.id,
    account: { id: account.id, name: account.displayName, uid: account.uid, gid: account.gid },
    group: { id: group.id, name: group.id, role: group.role },
    image: group.image,
    runtime: group.runtime,
    volume: account.id,
    ...(agent === undefined ? {} : { agent }),
  });
}

/**
 * AgentSectionSource gives the agent section of a personality at the moment its machine
 * redeems the pointer (so the token is never stored with the pointer, and the SLA is current).
 */
export type AgentSectionSource = (p: Personality) => Promise<PersonalityAgent | undefined>;

/** BootService issues and redeems boot pointers. */
export class BootService {
  private agentSource: AgentSectionSource | null = null;

  constructor(
    private baseUrl: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** setBaseUrl sets the URL machines reach the boot service at (once the port is known). */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  /** setAgentSource makes redeemed personalities carry an agent section (the agents component sets it). */
  setAgentSource(source: AgentSectionSource | null): void {
    this.agentSource = source;
  }

  /** issue stores a new pointer for the server's machine and returns its URL and token hash. */
  async issue(sql: Sql, server: StoredServer, personality: Personality): Promise<{ uri: string; tokenHash: string }> {
    const token = newSecret(32);
    const tokenHash = hashToken(token);
    await insertBootPointer(sql, {
      tokenHash,
      machineUuid: server.uuid,
      serverId: server.id,
      personality,
      expiresAt: new Date(this.clock.now().getTime() + this.ttlMs),
    });
    return { uri: `${this.baseUrl}/boot/${token}`, tokenHash };
  }

  /**
   * redeem returns the personality for a token presented by a machine, once. Every refusal
   * is the same E_BOOT_POINTER_INVALID, so a caller learns nothing about other machines.
   */
  async redeem(sql: Sql, token: string, machineUuid: string | undefined): Promise<Personality> {
    if (!machineUuid || !/^[A-Za-z0-9-]{1,64}$/.test(machineUuid) || !/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
      throw new HostfleetError(
        'E_BOOT_POINTER_INVALID',
        `boot pointers are redeemed by their machine, which sends its system UUID in the ${MACHINE_HEADER} header`,
      );
    }
    const p = await consumeBootPointer(sql, hashToken(token), machineUuid, this.clock.now());
    if (!p)
      throw new HostfleetError(
        'E_BOOT_POINTER_INVALID',
        'this boot pointer is unknown, expired, already used, or was issued for another machine',
      );
    if (this.agentSource === null) return p;
    const section = await this.agentSource(p);
    if (section === undefined) return p;
    // A machine booted into the warm pool serves nobody yet: its agent runs warm (see
    // WarmAgentSection in src/services/agent/config.ts) until the manager says it serves.
    const agent: PersonalityAgent & { readonly warm?: boolean } =
      (await runningKindOf(sql, p.server)) === 'warm-up' ? { ...section, warm: true } : section;
    return { ...p, agent };
  }
}
