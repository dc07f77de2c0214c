/**
 * nudger tells service servers' agents over the management bus that they have work: each nudge
 * carries a short-lived token signed with the site's key and naming one account, which the
 * agent presents to fetch that account's tasks and report them. The key pair is the store's
 * (one per site) and is parsed once per manager; when each (server, account) pair was last
 * nudged is remembered, so the periodic re-nudge of servers still out of step leaves alone the
 * work that is still within its first renudgeMs (a batch in flight) instead of doubling it.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HostfleetError } from '../../../../core/errors.js';
import { subjects } from '../../../../drivers/bus/index.js';
import * as db from '../../../../drivers/store/provisioning.js';
import { newSigningKey, signToken, verifyToken } from '../../../provisioner/token.js';
import type { ProvisioningDeps } from './deps.js';

/** ServerAccount names one account's services on one service server: what one nudge is for. */
export interface ServerAccount {
  readonly serverId: string;
  readonly accountId: string;
}

/** nudgeKey names one (service server, account) pair. */
const nudgeKey = (x: ServerAccount): string => `${x.serverId}/${x.accountId}`;

/** Nudger signs and sends nudges and verifies the tokens agents present. */
export class Nudger {
  // Parsed once: parsing PEM on every nudge and every agent call cost more than the signatures themselves.
  private key: { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } | undefined;
  private readonly nudgedAt = new Map<string, number>();

  constructor(private readonly ctx: Pick<ProvisioningDeps, 'store' | 'cfg' | 'clock' | 'bus' | 'siteId' | 'log'>) {}

  /** load reads the site's key pair, creating it on first use; nudges before it are not sent. */
  async load(): Promise<void> {
    const pair = await db.signingKey(this.ctx.store, newSigningKey);
    this.key = {
      privateKey: createPrivateKey(pair.privatePem),
      publicKey: createPublicKey(pair.publicPem),
      publicPem: pair.publicPem,
    };
  }

  /** publicPem is the public key agents verify nudges with, once loaded. */
  get publicPem(): string | undefined {
    return this.key?.publicPem;
  }

  /** nudge tells a server's agent that one account's services changed there. */
  async nudge(serverId: string, accountId: string): Promise<void> {
    if (!this.key) return;
    const now = this.ctx.clock.now().getTime();
    this.nudgedAt.set(nudgeKey({ serverId, accountId }), now);
    const token = signToken(this.key.privateKey, {
      server: serverId,
      account: accountId,
      exp: now + this.ctx.cfg.provisioning.tokenTtlMs,
    });
    await this.ctx.bus
      .publish(subjects.nudge(this.ctx.siteId, serverId), { token })
      .catch((e: unknown) => this.ctx.log.warn({ err: e, server: serverId }, 'could not nudge'));
  }

  /** nudgeAll nudges every (server, account) pair once. */
  async nudgeAll(pairs: readonly ServerAccount[]): Promise<void> {
    const seen = new Set<string>();
    for (const s of pairs) {
      const k = nudgeKey(s);
      if (seen.has(k)) continue;
      seen.add(k);
      await this.nudge(s.serverId, s.accountId);
    }
  }

  /** renudge nudges again the pairs still out of step whose last nudge is renudgeMs old (the retry of failed tasks). */
  async renudge(): Promise<void> {
    const rows = await db.serversOutOfStep(this.ctx.store);
    const now = this.ctx.clock.now().getTime();
    const out = new Set(rows.map(nudgeKey));
    for (const k of this.nudgedAt.keys()) if (!out.has(k)) this.nudgedAt.delete(k);
    const due = rows.filter(
      (r) => now - (this.nudgedAt.get(nudgeKey(r)) ?? -Infinity) >= this.ctx.cfg.provisioning.renudgeMs,
    );
    await this.nudgeAll(due);
  }

  /** accountsOf verifies the nudge tokens a server's agent presents and returns the accounts they name. */
  accountsOf(server: string, tokens: readonly unknown[]): Set<string> {
    const key = this.key?.publicKey;
    if (key === undefined)
      throw new HostfleetError('E_UNAUTHENTICATED', 'the manager is starting; wait for the next nudge');
    const accounts = new Set<string>();
    for (const t of tokens) {
      const v = verifyToken(key, t, server, this.ctx.clock.now().getTime());
      if (!v.ok)
        throw new HostfleetError(
          'E_UNAUTHENTICATED',
          `a nudge token was refused (${v.reason}); wait for the next nudge`,
        );
      accounts.add(v.claims.account);
    }
    return accounts;
  }
}
