/**
 * sessions are the console's logins: a person logs in with name and password and gets a
 * session in an HttpOnly, SameSite=Strict cookie; the page asks whether its cookie names a live
 * session; people change their own password (which ends their other sessions). Failed logins
 * are counted per name and client address and per address (FailureThrottle): past the
 * configured limits an attempt is refused without checking the password.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import { newSecret } from '../../../../drivers/clock/index.js';
import * as users from '../../../../drivers/store/users.js';
import { SESSION_COOKIE, hashToken, sameOrigin, sessionSecretOf } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { checkPassword, hashPassword } from '../../passwords.js';
import { principalOf } from '../../principal.js';
import type { FailureThrottle } from '../../throttle.js';

/** SESSION_TTL_MS is how long a console login lasts (a working day). */
export const SESSION_TTL_MS = 12 * 3600_000;

/** SessionDeps are what logins read and write. */
export type SessionDeps = Pick<ManagerContext, 'cfg' | 'store' | 'clock'>;

const Login = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, description: 'the login name' }),
    password: Type.String({ minLength: 1, maxLength: 200, description: 'the password' }),
  },
  { additionalProperties: false },
);

/** ChangePassword is the body of POST /v1/session/password. */
const ChangePassword = Type.Object(
  {
    current: Type.String({ minLength: 1, maxLength: 200, description: 'the current password' }),
    password: Type.String({ minLength: 12, maxLength: 200, description: 'the new password: at least 12 characters' }),
  },
  { additionalProperties: false },
);

function cookie(ctx: Pick<ManagerContext, 'cfg'>, req: FastifyRequest, value: string, maxAgeS: number): string {
  const secure = ctx.cfg.publicUrl?.startsWith('https://') === true || req.protocol === 'https';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

/** loginKey is what failed logins of one name from one client address are counted under. */
const loginKey = (ip: string, name: string): string => `${ip}\n${name.toLowerCase()}`;

/** tooMany is the E_RATE_LIMITED error of a throttled attempt, with its Retry-After header set. */
function tooMany(reply: FastifyReply, waitMs: number, what: string): HostfleetError {
  const retryAfterS = Math.ceil(waitMs / 1000);
  reply.header('retry-after', String(retryAfterS));
  return new HostfleetError('E_RATE_LIMITED', `too many ${what}; try again in ${retryAfterS} s`, {
    details: { retryAfterS },
  });
}

/** sessionRoutes adds login, logout, the session's state and changing one's own password. */
export function sessionRoutes(app: FastifyInstance, ctx: SessionDeps, failures: FailureThrottle): void {
  const pub = { public: true };
  app.post(
    '/v1/session',
    {
      schema: { tags: ['console'], summary: 'log in to the console; sets the session cookie', body: Login },
      config: pub,
    },
    async (req, reply) => {
      if (req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host))
        throw new HostfleetError('E_FORBIDDEN', 'log in from the console page itself');
      const b = req.body as typeof Login.static;
      const now = ctx.clock.now().getTime();
      const byName = loginKey(req.ip, b.name);
      const waitMs = Math.max(
        failures.blockedFor(byName, ctx.cfg.login.maxFailures, now),
        failures.blockedFor(req.ip, ctx.cfg.login.maxFailuresPerAddress, now),
      );
      if (waitMs > 0) {
        req.log.warn({ user: b.name, ip: req.ip }, 'console login refused: too many failures');
        throw tooMany(reply, waitMs, 'failed logins');
      }
      const u = await users.findUserByName(ctx.store, b.name);
      const ok = await checkPassword(u && !u.disabled ? u.passwordHash : null, b.password);
      if (!u || !ok) {
        failures.fail(byName, now);
        failures.fail(req.ip, now);
        throw new HostfleetError('E_UNAUTHENTICATED', 'the name or the password is wrong');
      }
      failures.forget(byName);
      const secret = newSecret(32);
      await users.insertSession(ctx.store, {
        tokenHash: hashToken(secret),
        userId: u.id,
        expiresAt: new Date(ctx.clock.now().getTime() + SESSION_TTL_MS),
      });
      req.log.info({ user: u.name, role: u.role }, 'console login');
      return reply
        .header('set-cookie', cookie(ctx, req, secret, SESSION_TTL_MS / 1000))
        .send({ user: users.publicUser(u) });
    },
  );
  app.get('/v1/session', { schema: { tags: ['console'], summary: 'who the caller is' } }, async (req) => {
    const p = principalOf(req);
    return { user: { name: p.name, role: p.role, accountId: p.accountId } };
  });
  // The page cannot read its HttpOnly cookie, so it asks here before choosing between the login
  // and the console. Not being logged in is an expected answer (200), not a failure: a fresh
  // visitor's browser logs no 401. It tells only whether this cookie names a live session;
  // GET /v1/session stays strict (401) for API callers.
  app.get(
    '/v1/session/state',
    {
      schema: {
        tags: ['console'],
        summary: "whether the caller's cookie names a live console session: {authenticated, user}, 200 either way",
      },
      config: pub,
    },
    async (req, reply) => {
      const secret = sessionSecretOf(req.headers.cookie);
      const u = secret === null ? null : await users.findSession(ctx.store, hashToken(secret), ctx.clock.now());
      if (u === null) {
        // A cookie of an ended session is dropped, so the browser stops sending it.
        if (secret !== null) void reply.header('set-cookie', cookie(ctx, req, '', 0));
        return { authenticated: false, user: null };
      }
      return { authenticated: true, user: { name: u.name, role: u.role, accountId: u.accountId } };
    },
  );
  app.delete(
    '/v1/session',
    { schema: { tags: ['console'], summary: 'log out: ends the session and clears the cookie' } },
    async (req, reply) => {
      const secret = sessionSecretOf(req.headers.cookie);
      if (secret) await users.deleteSession(ctx.store, hashToken(secret));
      return reply
        .header('set-cookie', cookie(ctx, req, '', 0))
        .status(204)
        .send();
    },
  );

  app.post(
    '/v1/session/password',
    {
      schema: {
        tags: ['console'],
        summary: "change the logged-in person's own password; ends their other sessions",
        body: ChangePassword,
      },
    },
    async (req, reply) => {
      // Only a console session names a person; an API token is not a password's holder.
      const secret = sessionSecretOf(req.headers.cookie);
      const me =
        secret && req.headers.authorization === undefined
          ? await users.findSession(ctx.store, hashToken(secret), ctx.clock.now())
          : null;
      if (!me)
        throw new HostfleetError(
          'E_FORBIDDEN',
          'log in to the console to change your password (an API token has no password)',
        );
      const b = req.body as typeof ChangePassword.static;
      // Wrong current passwords count as failed logins: a borrowed session cannot guess its way on.
      const now = ctx.clock.now().getTime();
      const byName = loginKey(req.ip, me.name);
      const waitMs = failures.blockedFor(byName, ctx.cfg.login.maxFailures, now);
      if (waitMs > 0) throw tooMany(reply, waitMs, 'wrong passwords');
      const stored = await users.findUserByName(ctx.store, me.name);
      if (!(await checkPassword(stored?.passwordHash ?? null, b.current))) {
        failures.fail(byName, now);
        throw new HostfleetError('E_VALIDATION', 'the current password is wrong', {
          fields: [{ field: 'body.current', problem: 'is not your current password' }],
        });
      }
      if (b.password === b.current)
        throw new HostfleetError('E_VALIDATION', 'the new password is the current one', {
          fields: [{ field: 'body.password', problem: 'must differ from the current password' }],
        });
      const passwordHash = await hashPassword(b.password);
      await ctx.store.transaction((tx) => users.setPassword(tx, me.id, passwordHash, hashToken(secret as string)));
      req.log.info({ user: me.name }, 'password changed');
      return reply.status(204).send();
    },
  );
}
