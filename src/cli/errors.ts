/**
 * errors prints a failed command's error the way its user typed the command: the API names
 * the fields of its requests (`body.accountId`, `force`), the user typed flags and arguments
 * (`--account`, `--force`, NAME), so every field a command fills from one is shown as it.
 */
import { isHostfleetError } from '../core/errors.js';
import type { FieldProblem } from '../core/errors.js';
import { ApiError } from './client.js';

/**
 * FIELD_FLAGS maps, per command as typed after `hostfleet`, each API field the command fills
 * from a flag or an argument to that flag or argument. Fields a command reads from a file
 * (`config submit`) are the file's own and keep their names.
 */
export const FIELD_FLAGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  move: { server: 'SERVER', to: '--to', reason: '--reason', force: '--force' },
  'user add': { name: 'NAME', role: '--role', accountId: '--account', password: 'the password' },
  'user passwd': { name: 'NAME', password: 'the password' },
  orders: { state: '--state' },
  'order reject': { reasons: '--reason' },
  invoice: { period: '--period', at: '--at' },
  usage: { period: '--period', at: '--at' },
  'config add-component': { tier: '--tier' },
};

/**
 * BARE_FIELDS are the fields the API's messages name without their request part ("a customer
 * user needs accountId", "pass force"); other words of a message are prose and stay as they are.
 */
const BARE_FIELDS = ['accountId', 'resellerId', 'force', 'role'] as const;

const PART = /^(?:body|querystring|query|params|headers)\./;

/** flagOf names an API field as the command's user typed it, else as the field without its request part. */
export function flagOf(command: string, field: string): string {
  const name = field.replace(PART, '');
  return FIELD_FLAGS[command]?.[name] ?? name;
}

/** inWords rewrites the fields a message names (with or without their request part) into the command's flags. */
function inWords(command: string, text: string, fields: readonly FieldProblem[]): string {
  let out = text.replace(/\b(?:body|querystring|query|params)\.[A-Za-z0-9_.]+/g, (f) => flagOf(command, f));
  for (const bare of BARE_FIELDS) {
    const flag = FIELD_FLAGS[command]?.[bare];
    if (flag === undefined || !fields.some((f) => f.field.replace(PART, '') === bare)) continue;
    out = out.replace(new RegExp(`(?<![\\w.-])${bare}(?![\\w-])`, 'g'), flag);
  }
  return out;
}

/** renderError turns what a command threw into the lines it prints on standard error. */
export function renderError(e: unknown, command: string): string[] {
  if (e instanceof ApiError) {
    const fields = (e.body as { error?: { fields?: FieldProblem[] } } | null)?.error?.fields ?? [];
    return [
      `error ${e.code}: ${inWords(command, e.message, fields)}`,
      ...fields.map((f) => `  ${flagOf(command, f.field)}: ${inWords(command, f.problem, fields)}`),
    ];
  }
  // The CLI's own errors already name its flags, and their message lists their fields.
  if (isHostfleetError(e)) return [`error ${e.code}: ${e.message}`];
  return [`error: ${e instanceof Error ? e.message : String(e)}`];
}
