/**
 * passwords is how the manager stores and checks people's passwords: argon2id with OWASP's
 * minimum parameters (m=19 MiB, t=2, p=1), the encoded form Dovecot and Pure-FTPd verify too,
 * so one hash serves the console login and the services an account's password opens.
 */
import { hash, verify } from '@node-rs/argon2';
import { newSecret } from '../../drivers/clock/index.js';

/** hashPassword returns the encoded argon2id hash of a password. */
export const hashPassword = (password: string): Promise<string> =>
  hash(password, { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 });

let dummyHash: Promise<string> | null = null;

/** checkPassword verifies a password against a stored hash, spending the same effort when there is none (no user to find by timing). */
export async function checkPassword(stored: string | null, password: string): Promise<boolean> {
  dummyHash ??= hashPassword(newSecret(16));
  const h = stored ?? (await dummyHash);
  const ok = await verify(h, password).catch(() => false);
  return stored !== null && ok;
}
