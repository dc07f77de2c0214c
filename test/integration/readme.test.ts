// The README's "Try it" commands, run as written against a fresh `hostfleet up` (only the
// ports and the way hostfleet is started are rewritten), then the operator guide's move
// examples, then the command line's manners on the same site: plain output through a pipe,
// errors that name flags, and exit codes that say whether what was asked for was found.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTS } from '../../src/cli/up.js';
import type { UpState } from '../../src/cli/client.js';
import { readUpState } from '../../src/cli/client.js';
import { BIN, freePortRange, runCli, runShell, startUp } from '../support/cli.js';
import type { CliResult, RunningUp } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MACHINES = 12; // `npx hostfleet up` as the README runs it: the default fleet.
// An escape character starts every colour code; none belongs in output read through a pipe.
const ANSI = new RegExp(String.fromCharCode(0x1b));

/** withoutComment drops a shell comment: a # at the start or after a blank, outside quotes. */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** shellBlock returns the commands of the first ```sh block in the section under heading; it throws when there is none. */
function shellBlock(doc: string, heading: string): string[] {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `no "${heading}" section`);
  const end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
  const section = lines.slice(start + 1, end === -1 ? undefined : end);
  const open = section.findIndex((l) => l.trim() === '```sh');
  assert.ok(open >= 0, `the "${heading}" section has no \`\`\`sh block`);
  const close = section.findIndex((l, i) => i > open && l.trim() === '```');
  assert.ok(close > open, `the "${heading}" section's \`\`\`sh block does not end`);
  const commands = section
    .slice(open + 1, close)
    .map(withoutComment)
    .filter((l) => l.trim() !== '');
  assert.ok(commands.length > 0, `the "${heading}" section's shell block holds no command`);
  return commands;
}

/** asRun rewrites a documented command for the test's site: its ports, and this checkout's hostfleet. */
function asRun(line: string, ports: UpState['ports']): string {
  return line
    .replace(/(^|[\s;&|(])(?:npx )?hostfleet(?=\s|$)/g, `$1${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`)
    .replace(new RegExp(`127\\.0\\.0\\.1:${DEFAULT_PORTS.edge}\\b`, 'g'), `127.0.0.1:${ports.edge}`)
    .replace(new RegExp(`127\\.0\\.0\\.1:${DEFAULT_PORTS.manager}\\b`, 'g'), `127.0.0.1:${ports.manager}`);
}

/** described says how a command ended, for an assertion's message. */
const described = (line: string, r: CliResult) =>
  `\`${line}\` exited ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

describe('the README and the operator guide, run as written', { timeout: 900_000 }, () => {
  let dir: string;
  let site: RunningUp | undefined;
  let ports: UpState['ports'];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hf-readme-'));
    chmodSync(dir, 0o711);
    // The site's data directory reaches every command as a user's shell would pass it; a
    // terminal's colour settings must not: the commands' output goes into a pipe here.
    env = { ...process.env, HOSTFLEET_DATA_DIR: dir };
    for (const k of ['NO_COLOR', 'FORCE_COLOR', 'HOSTFLEET_URL', 'HOSTFLEET_TOKEN', 'npm_command']) delete env[k];
    site = await startUp(['up', '--ports-from', String(await freePortRange(MACHINES))], env);
    ports = (readUpState(dir) as UpState).ports;
  });
  after(async () => {
    await site?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (line: string, timeoutMs = 90_000) => runShell(asRun(line, ports), { env, cwd: ROOT, timeoutMs });

  test("the operator guide's move examples run as written", async () => {
    // First: its second move takes srv-12 out of globex-web, which must still hold another server.
    for (const line of shellBlock(readFileSync(join(ROOT, 'docs/OPERATING.md'), 'utf8'), '## Moving servers')) {
      const r = await run(line);
      assert.equal(r.code, 0, described(line, r));
    }
  });

  test('every command of "Try it" exits 0, and hostfleet prints no colour into a pipe', async () => {
    const commands = shellBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Try it');
    assert.ok(
      commands.some((c) => /hostfleet load diurnal\b/.test(c)),
      'the README tells the user to run `hostfleet load diurnal`',
    );
    for (const line of commands) {
      // A load scenario without --duration runs for two minutes; the README's end by themselves.
      if (/hostfleet load /.test(line)) assert.match(line, /--duration \d+/, `\`${line}\` has no --duration`);
      const r = await run(line);
      assert.equal(r.code, 0, described(line, r));
      if (/hostfleet /.test(line))
        assert.doesNotMatch(r.out + r.err, ANSI, `\`${line}\` printed colour codes into a pipe`);
    }
  });

  test("the README's move succeeds again when the server is already there", async () => {
    const line = shellBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Try it').find((c) =>
      /hostfleet move /.test(c),
    );
    assert.ok(line, 'the README moves a server');
    const r = await run(line);
    assert.equal(r.code, 0, described(line, r));
    assert.match(r.out, /is (already|now) in globex-web/, described(line, r));
  });

  test("up's banner suggests commands the user can type", () => {
    const banner = site?.output() ?? '';
    assert.match(banner, /npx hostfleet status/, banner);
    assert.match(banner, /npx hostfleet move srv-12 --to globex-web/, banner);
    assert.match(banner, /\(12 machines\)/, banner);
  });

  test('a command that fails names the flags the user typed and exits non-zero', async () => {
    const cases = [
      {
        name: 'explain about a server that does not exist',
        args: ['explain', '--server', 'nosuch'],
        code: 1,
        want: [/server nosuch does not exist/],
      },
      {
        name: 'explain about a group that does not exist',
        args: ['explain', '--group', 'nosuch-web'],
        code: 1,
        want: [/group nosuch-web does not exist/],
      },
      {
        name: 'a customer user without an account',
        args: ['user', 'add', 'carol', '--role', 'customer'],
        code: 1,
        want: [/a customer user needs --account/, /--account: is required for role customer/],
      },
      {
        name: "a reseller user on a customer's account",
        args: ['user', 'add', 'rita', '--role', 'reseller', '--account', 'acme'],
        code: 1,
        want: [
          /account acme is a customer's account/,
          /--role: must be customer/,
          /--account: must name a reseller's account/,
        ],
      },
      {
        name: 'an operator with an account',
        args: ['user', 'add', 'olga', '--role', 'operator', '--account', 'acme'],
        code: 1,
        want: [/--account: must be absent for role operator/],
      },
      {
        name: 'a move to a group that does not exist',
        args: ['move', 'srv-11', '--to', 'nosuch-web'],
        code: 1,
        want: [/group nosuch-web does not exist/],
      },
      {
        name: 'a user name outside the grammar',
        args: ['user', 'add', 'Bad Name', '--role', 'operator'],
        code: 1,
        want: [/NAME must be/],
      },
      { name: 'an unknown load scenario', args: ['load', 'nosuch'], code: 1, want: [/unknown scenario "nosuch"/] },
    ];
    for (const c of cases) {
      const r = await runCli(c.args, { env });
      assert.equal(r.code, c.code, `${c.name}: ${described(c.args.join(' '), r)}`);
      for (const w of c.want) assert.match(r.err, w, `${c.name}: ${described(c.args.join(' '), r)}`);
      assert.doesNotMatch(r.err, /body\.|accountId/, `${c.name} names an API field: ${r.err}`);
    }
  });

  test("a customer user on a customer's account is accepted; listings print JSON with --json", async () => {
    const ok = await runCli(['user', 'add', 'dora', '--role', 'customer', '--account', 'acme'], { env });
    assert.equal(ok.code, 0, described('user add dora', ok));
    for (const args of [
      ['status', '--json'],
      ['user', 'list', '--json'],
      ['explain', '--json'],
      ['orders', '--json'],
      ['usage', 'acme', '--json'],
      ['fis', 'rules', 'default', '--json'],
    ]) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 0, described(args.join(' '), r));
      assert.doesNotThrow(() => JSON.parse(r.out), `${args.join(' ')} printed: ${r.out}`);
    }
  });
});
