/**
 * sessions is the emulator's Redfish SessionService: tokens issued on login, looked up on each
 * request, forgotten on logout or after SessionTimeout seconds without use (DSP0266 §13.3.4).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { systemClock } from '../../drivers/clock/index.js';
import type { Clock } from '../../drivers/clock/index.js';

/** Session is one logged-in Redfish session. */
export interface Session {
  readonly id: string;
  readonly token: string;
  readonly userName: string;
  lastUsed: number;
}

/** sameSecret compares two secrets in constant time (hashes first, so lengths do not leak). */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Sessions holds the live sessions of one BMC. */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    readonly timeoutS: number,
    private readonly clock: Clock = systemClock,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  /** create opens a session for userName (credentials already checked). */
  create(userName: string): Session {
    const s: Session = {
      id: randomBytes(8).toString('hex'),
      token: randomBytes(24).toString('base64url'),
      userName,
      lastUsed: this.now(),
    };
    this.byId.set(s.id, s);
    return s;
  }

  /** byToken finds the live session with token and marks it used. */
  byToken(token: string): Session | null {
    this.expire();
    for (const s of this.byId.values()) {
      if (sameSecret(s.token, token)) {
        s.lastUsed = this.now();
        return s;
      }
    }
    return null;
  }

  /** get finds a live session by id. */
  get(id: string): Session | null {
    this.expire();
    return this.byId.get(id) ?? null;
  }

  /** list returns the live sessions. */
  list(): Session[] {
    this.expire();
    return [...this.byId.values()];
  }

  /** delete logs a session out; false when there was none. */
  delete(id: string): boolean {
    return this.byId.delete(id);
  }

  private expire(): void {
    const cutoff = this.now() - this.timeoutS * 1000;
    for (const [id, s] of this.byId) if (s.lastUsed < cutoff) this.byId.delete(id);
  }
}
