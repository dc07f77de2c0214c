/**
 * users holds `hostfleet user add`, `user passwd` and `user list`: the people who log in to the
 * console. Passwords travel to the manager, which stores only their argon2id hash; without
 * --password-stdin a strong password is generated and printed once.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { API_ROLES } from '../core/model/records.js';
import type { ApiRole } from '../core/model/records.js';
import { newSecret } from '../drivers/clock/index.js';
import type { Client } from './client.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const role = (v: string): ApiRole => {
  if (!(API_ROLES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`--role must be one of ${API_ROLES.join(', ')}`);
  return v as ApiRole;
};

/** registerUserCommands adds `user add`, `user passwd` and `user list` to the program. */
export function registerUserCommands(program: Command, client: () => Client): void {
  const user = program
    .command('user')
    .description('people who log in to the console (operators, resellers, customers)');
  user
    .command('add <name>')
    .description('create a console user; prints a generated password unless --password-stdin is given')
    .requiredOption('--role <role>', `one of ${API_ROLES.join(', ')}`, role)
    .option('--account <id>', 'the account of a reseller or customer')
    .option('--password-stdin', 'read the password from standard input (at least 12 characters)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { role: ApiRole; account?: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = o.passwordStdin ? await readStdin() : newSecret(15);
      const { user: u } = await client().call<{ user: { name: string; role: string; accountId: string | null } }>(
        'POST',
        '/v1/users',
        {
          name,
          password,
          role: o.role,
          ...(o.account !== undefined ? { accountId: o.account } : {}),
        },
      );
      if (o.json) console.log(JSON.stringify({ user: u, ...(o.passwordStdin ? {} : { password }) }));
      else
        console.log(
          `user ${u.name} (${u.role}${u.accountId ? ` of ${u.accountId}` : ''}) created${o.passwordStdin ? '' : `; password: ${password}  (shown once)`}`,
        );
    });
  user
    .command('passwd <name>')
    .description(
      "set a console user's password (operators: anyone; resellers: their customers' users) and end their sessions; prints a generated password unless --password-stdin is given",
    )
    .option('--password-stdin', 'read the password from standard input (at least 12 characters)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { passwordStdin?: boolean; json?: boolean }) => {
      const password = o.passwordStdin ? await readStdin() : newSecret(15);
      await client().call('POST', `/v1/users/${encodeURIComponent(name)}/password`, { password });
      if (o.json) console.log(JSON.stringify({ user: name, ...(o.passwordStdin ? {} : { password }) }));
      else
        console.log(
          `password of ${name} set; their sessions ended${o.passwordStdin ? '' : `; password: ${password}  (shown once)`}`,
        );
    });
  user
    .command('list')
    .description('console users')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { users } = await client().call<{
        users: { name: string; role: string; accountId: string | null; disabled: boolean }[];
      }>('GET', '/v1/users');
      if (o.json) console.log(JSON.stringify({ users }));
      else
        for (const u of users)
          console.log(
            `${u.name.padEnd(24)} ${u.role.padEnd(9)} ${u.accountId ?? '-'}${u.disabled ? '  (disabled)' : ''}`,
          );
    });
}
