/**
 * token is 004's communications key as hostfleet does it: a short-lived token, signed by the
 * manager with Ed25519, naming one service server and one account. The manager sends it with
 * a nudge; the server's agent presents it to fetch that account's tasks and to report. Only
 * the manager holds the private key, so no server can tell another what to do.
 */
import { generateKeyPairSync, sign, verify, createPublicKey, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** NudgeClaims are what a token says: for which server, which account, until when (ms since epoch). */
export interface NudgeClaims {
  readonly server: string;
  readonly account: string;
  readonly exp: number;
}

/** newSigningKey makes an Ed25519 key pair as PEM text. */
export function newSigningKey(): { privatePem: string; publicPem: string } {
  const k = generateKeyPairSync('ed25519');
  return {
    privatePem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** signToken returns claims signed with privatePem: base64url(json).base64url(signature). */
export function signToken(privatePem: string | KeyObject, claims: NudgeClaims): string {
  const key = typeof privatePem === 'string' ? createPrivateKey(privatePem) : privatePem;
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${sign(null, Buffer.from(body), key).toString('base64url')}`;
}

/** TokenCheck is a verified token's claims, or why it is refused. */
export type TokenCheck =
  | { readonly ok: true; readonly claims: NudgeClaims }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad_signature' | 'expired' | 'other_server' };

/** verifyToken checks a token's form, signature, expiry (against nowMs) and that it names server. */
export function verifyToken(publicPem: string | KeyObject, token: unknown, server: string, nowMs: number): TokenCheck {
  if (typeof token !== 'string' || token.length > 1000 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    return { ok: false, reason: 'malformed' };
  const [body, sig] = token.split('.') as [string, string];
  const key = typeof publicPem === 'string' ? createPublicKey(publicPem) : publicPem;
  if (!verify(null, Buffer.from(body), key, Buffer.from(sig, 'base64url')))
    return { ok: false, reason: 'bad_signature' };
  let c: NudgeClaims;
  try {
    c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as NudgeClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof c.server !== 'string' || typeof c.account !== 'string' || typeof c.exp !== 'number')
    return { ok: false, reason: 'malformed' };
  if (c.exp < nowMs) return { ok: false, reason: 'expired' };
  if (c.server !== server) return { ok: false, reason: 'other_server' };
  return { ok: true, claims: c };
}
