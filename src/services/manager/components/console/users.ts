/**
 * users are the console's people: operators list and create them, resellers create their
 * customers' users, and both set a person's password (which ends that person's sessions). A
 * user's role and account are checked together: no reseller login on a customer's account.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';
import { roleAccountMismatch } from '../../../../core/model/account-kind.js';
import { API_ROLES } from '../../../../core/model/records.js';
import type { ApiRole } from '../../../../core/model/records.js';
import { newId } from '../../../../drivers/clock/index.js';
import { accountFacts } from '../../../../drivers/store/account-facts.js';
import * as db from '../../../../drivers/store/resources.js';
import * as users from '../../../../drivers/store/users.js';
import { canSee, requireRole, visibleAccounts } from '../../auth.js';
import type { ManagerContext } from '../../context.js';
import { hashPassword } from '../../passwords.js';
import { principalOf } from '../../principal.js';

/** SetPassword is the body of POST /v1/users/:name/password. */
const SetPassword = Type.Object(
  {
    password: Type.String({ minLength: 12, maxLength: 200, description: 'the new password: at least 12 characters' }),
  },
  { additionalProperties: false },
);

/** CreateUser is the body of POST /v1/users. */
export const CreateUser = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z][a-z0-9._@-]{1,63}$',
      description: '2–64 lower-case letters, digits and . _ @ -, starting with a letter',
    }),
    password: Type.String({ minLength: 12, maxLength: 200, description: 'at least 12 characters' }),
    role: Type.Unsafe<ApiRole>({ type: 'string', enum: [...API_ROLES], description: `one of ${API_ROLES.join(', ')}` }),
    accountId: Type.Optional(
      Type.String({
        pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$',
        description: 'the account a reseller or customer belongs to',
      }),
    ),
  },
  { additionalProperties: false },
);

/** userRoutes adds the console users' routes. */
export function userRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'store'>): void {
  app.post(
    '/v1/users/:name/password',
    {
      schema: {
        tags: ['console'],
        summary:
          "set another person's password (operator: anyone; reseller: its customers' users); ends all their sessions",
        params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
        body: SetPassword,
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      requireRole(p, ['operator', 'reseller']);
      const name = (req.params as { name: string }).name;
      const u = await users.findUserByName(ctx.store, name);
      // A reseller may reset the users of the customers it sees, never an operator's or another reseller's.
      const mayReset =
        u !== null &&
        (p.role === 'operator' ||
          (u.role === 'customer' && u.accountId !== null && canSee(await visibleAccounts(ctx.store, p), u.accountId)));
      if (!u || !mayReset) throw new HostfleetError('E_NOT_FOUND', `user ${name} does not exist`);
      await users.setPassword(ctx.store, u.id, await hashPassword((req.body as typeof SetPassword.static).password));
      req.log.info({ user: u.name, by: p.name }, 'password set');
      return reply.status(204).send();
    },
  );

  app.get('/v1/users', { schema: { tags: ['console'], summary: 'console users' } }, async (req) => {
    requireRole(principalOf(req), ['operator']);
    return { users: await users.listUsers(ctx.store) };
  });
  app.post(
    '/v1/users',
    { schema: { tags: ['console'], summary: 'create a console user', body: CreateUser } },
    async (req, reply) => {
      const p = principalOf(req);
      requireRole(p, ['operator', 'reseller']);
      const b = req.body as typeof CreateUser.static;
      if (p.role === 'reseller' && b.role !== 'customer')
        throw new HostfleetError('E_FORBIDDEN', 'a reseller creates customer users only');
      if (b.role !== 'operator' && b.accountId === undefined)
        throw new HostfleetError('E_VALIDATION', `a ${b.role} user needs accountId, the account it belongs to`, {
          fields: [{ field: 'body.accountId', problem: `is required for role ${b.role}` }],
        });
      if (b.role === 'operator' && b.accountId !== undefined)
        throw new HostfleetError('E_VALIDATION', 'an operator has no account', {
          fields: [{ field: 'body.accountId', problem: 'must be absent for role operator' }],
        });
      const account =
        b.accountId !== undefined && canSee(await visibleAccounts(ctx.store, p), b.accountId)
          ? await db.getAccount(ctx.store, b.accountId)
          : null;
      if (b.accountId !== undefined && !account) {
        throw new HostfleetError('E_VALIDATION', `account ${b.accountId} does not exist`, {
          fields: [{ field: 'body.accountId', problem: 'must name an existing account you manage' }],
        });
      }
      // Role and account together: no reseller login on a customer's account, nor the reverse.
      const mismatch = account ? roleAccountMismatch(b.role, await accountFacts(ctx.store, account)) : null;
      if (mismatch) throw mismatch;
      try {
        const u = await users.insertUser(ctx.store, {
          id: newId(),
          name: b.name,
          passwordHash: await hashPassword(b.password),
          role: b.role,
          accountId: b.accountId ?? null,
        });
        return await reply.status(201).send({ user: u });
      } catch (e) {
        if (db.isUniqueViolation(e))
          throw new HostfleetError('E_CONFLICT', `the user name ${b.name} is taken; choose another`, {
            fields: [{ field: 'body.name', problem: 'is taken' }],
          });
        throw e;
      }
    },
  );
}
