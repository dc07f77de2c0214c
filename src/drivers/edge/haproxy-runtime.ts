/**
 * haproxy-runtime is a minimal client of HAProxy's Runtime API (the stats socket at level
 * admin): one connection per command, the way `socat` is used by hand, because HAProxy closes a
 * non-interactive connection after answering. Commands are built only from validated values
 * (see validate.ts); this module refuses any command with a line break or `;` so that no value
 * can smuggle a second command.
 */
import { connect } from 'node:net';
import { HostfleetError } from '../../core/errors.js';

/** RuntimeTarget is where the Runtime API listens: a Unix socket path, or host and port. */
export type RuntimeTarget = string | { readonly host: string; readonly port: number };

/** runtimeCommand sends one command and resolves with HAProxy's whole answer (E_EDGE if it cannot). */
export function runtimeCommand(target: RuntimeTarget, command: string, timeoutMs: number): Promise<string> {
  if (/[\r\n;#]/.test(command)) {
    return Promise.reject(
      new HostfleetError('E_INTERNAL', 'refusing to send a Runtime API command with a line break, ; or #'),
    );
  }
  return new Promise((resolve, reject) => {
    const socket =
      typeof target === 'string' ? connect({ path: target }) : connect({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const where = typeof target === 'string' ? target : `${target.host}:${target.port}`;
      reject(
        new HostfleetError(
          'E_EDGE',
          `HAProxy's Runtime API at ${where} did not answer "${command.split(' ').slice(0, 2).join(' ')}": ${err.message}; check that HAProxy runs with "stats socket … level admin"`,
          { cause: err },
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', fail);
    socket.on('close', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** parseCsvStat parses `show stat` output into rows keyed by the header's column names. */
export function parseCsvStat(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    const row: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h) row[h] = cells[i] ?? '';
    });
    return row;
  });
}

/** parseServersState parses `show servers state <backend>` into rows keyed by the header's names. */
export function parseServersState(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const headerLine = lines.find((l) => l.startsWith('# be_id'));
  if (!headerLine) return [];
  const header = headerLine.replace(/^# /, '').split(' ');
  return (
    lines
      // Skip the format-version line ("1") that precedes the header.
      .filter((l) => !l.startsWith('#') && /^\d+ \S+ \d+ \S+ /.test(l))
      .map((l) => {
        const cells = l.split(' ');
        const row: Record<string, string> = {};
        header.forEach((h, i) => (row[h] = cells[i] ?? ''));
        return row;
      })
  );
}

/** parseMap parses `show map <file>` into key → value pairs (lines are `<id> <key> <value>`). */
export function parseMap(text: string): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 3 && parts[0]!.startsWith('0x')) out.push({ key: parts[1]!, value: parts[2]! });
  }
  return out;
}
