/**
 * rsync-options checks what the rsync client and daemon are configured with, so that bad
 * configuration fails at start-up (E_CONFIG) and no value can reach rsyncd.conf or the
 * command line as anything but itself.
 */
import { isAbsolute } from 'node:path';
import { HostfleetError, type FieldProblem } from '../../core/errors.js';

/** RSYNC_USER_RE is the grammar of the replication user both sides share. */
export const RSYNC_USER_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/** RSYNC_MODULE_RE is the grammar of the daemon's module name. */
export const RSYNC_MODULE_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/** MIN_SECRET is the shortest shared secret accepted (newSecret() gives 43 characters). */
export const MIN_SECRET = 16;

/** credentialProblems checks the shared user and secret. */
export function credentialProblems(user: unknown, secret: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (typeof user !== 'string' || !RSYNC_USER_RE.test(user)) {
    problems.push({ field: 'user', problem: `must match ${RSYNC_USER_RE.source}, got ${JSON.stringify(user)}` });
  }
  // Printable ASCII without spaces: rsync reads the secrets file line by line and trims.
  if (typeof secret !== 'string' || secret.length < MIN_SECRET || !/^[\x21-\x7e]+$/.test(secret)) {
    problems.push({
      field: 'secret',
      problem: `must be at least ${MIN_SECRET} printable characters without spaces (e.g. from newSecret())`,
    });
  }
  return problems;
}

/** pathProblem checks that a directory option is an absolute path rsyncd.conf can hold. */
export function pathProblem(field: string, path: unknown): FieldProblem[] {
  if (typeof path === 'string' && isAbsolute(path) && !/[\n\r\\]/.test(path) && path.trim() === path) return [];
  return [
    {
      field,
      problem: `must be an absolute path without line breaks, backslashes or edge spaces, got ${JSON.stringify(path)}`,
    },
  ];
}

/** refuseConfig throws E_CONFIG for subject when there are problems. */
export function refuseConfig(subject: string, problems: readonly FieldProblem[]): void {
  if (problems.length === 0) return;
  const text = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
  throw new HostfleetError('E_CONFIG', `invalid ${subject}: ${text}`, { fields: problems });
}
