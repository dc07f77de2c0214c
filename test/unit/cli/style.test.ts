// The command line's manners, in process: when it colours, how it names itself, how it counts,
// how it shows an API error with the flags the user typed, and when a move is already done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostfleetError } from '../../../src/core/errors.js';
import { count } from '../../../src/core/count.js';
import { ApiError } from '../../../src/cli/client.js';
import { renderError } from '../../../src/cli/errors.js';
import { isAt } from '../../../src/cli/move.js';
import { colour, interactive, invocation, newTable } from '../../../src/cli/style.js';
import { tryLines } from '../../../src/cli/up.js';

test('colour and progress bars only on a terminal; colour never with NO_COLOR', () => {
  const cases = [
    { name: 'terminal', tty: true, env: {}, want: { colour: true, interactive: true } },
    { name: 'pipe', tty: false, env: {}, want: { colour: false, interactive: false } },
    { name: 'stream without isTTY', tty: undefined, env: {}, want: { colour: false, interactive: false } },
    { name: 'NO_COLOR=1 on a terminal', tty: true, env: { NO_COLOR: '1' }, want: { colour: false, interactive: true } },
    {
      name: 'NO_COLOR empty counts as unset',
      tty: true,
      env: { NO_COLOR: '' },
      want: { colour: true, interactive: true },
    },
    { name: 'TERM=dumb', tty: true, env: { TERM: 'dumb' }, want: { colour: false, interactive: false } },
  ];
  for (const c of cases) {
    const stream = { isTTY: c.tty };
    assert.deepEqual({ colour: colour(stream, c.env), interactive: interactive(stream, c.env) }, c.want, c.name);
  }
});

test('a table printed into a pipe carries no colour codes', () => {
  assert.equal(process.stdout.isTTY, undefined, 'the test runner pipes standard output');
  const t = newTable({ head: ['a', 'b'] }, 'red');
  t.push(['1', '2']);
  assert.ok(!t.toString().includes(String.fromCharCode(0x1b)), t.toString());
});

test('invocation names the command as the user can type it', () => {
  const cases = [
    { name: 'installed on the PATH', env: {}, onPath: true, want: 'hostfleet' },
    { name: 'not on the PATH', env: {}, onPath: false, want: 'npx hostfleet' },
    {
      name: 'started by npx, which puts the bin on the PATH for this run only',
      env: { npm_command: 'exec' },
      onPath: true,
      want: 'npx hostfleet',
    },
  ];
  for (const c of cases)
    assert.equal(
      invocation(c.env, () => c.onPath),
      c.want,
      c.name,
    );
});

test('count says 1 server and 2 servers', () => {
  const cases = [
    { n: 0, noun: 'server', want: '0 servers' },
    { n: 1, noun: 'server', want: '1 server' },
    { n: 2, noun: 'move', want: '2 moves' },
    { n: 1, noun: 'customer account', want: '1 customer account' },
    { n: 3, noun: 'policy', plural: 'policies', want: '3 policies' },
  ];
  for (const c of cases) assert.equal(count(c.n, c.noun, c.plural), c.want);
});

const apiError = (code: string, message: string, fields?: { field: string; problem: string }[]) =>
  new ApiError(400, code, message, { error: { code, message, ...(fields ? { fields } : {}) } });

test('errors name the flags and arguments the user typed, not the API fields', () => {
  const cases = [
    {
      name: 'a missing account',
      command: 'user add',
      e: apiError('E_VALIDATION', 'a customer user needs accountId, the account it belongs to', [
        { field: 'body.accountId', problem: 'is required for role customer' },
      ]),
      want: [
        'error E_VALIDATION: a customer user needs --account, the account it belongs to',
        '  --account: is required for role customer',
      ],
    },
    {
      name: 'role and account together',
      command: 'user add',
      e: apiError(
        'E_VALIDATION',
        "account acme is a customer's account, so it cannot have a user with role reseller; use role customer, or an accountId of a reseller's account",
        [
          { field: 'body.role', problem: 'must be customer for account acme' },
          { field: 'body.accountId', problem: "must name a reseller's account for role reseller" },
        ],
      ),
      want: [
        "error E_VALIDATION: account acme is a customer's account, so it cannot have a user with --role reseller; use --role customer, or an --account of a reseller's account",
        '  --role: must be customer for account acme',
        "  --account: must name a reseller's account for --role reseller",
      ],
    },
    {
      name: 'a schema error on an argument',
      command: 'user add',
      e: apiError('E_VALIDATION', 'invalid input: body.name must be 2–64 lower-case letters', [
        { field: 'body.name', problem: 'must be 2–64 lower-case letters' },
      ]),
      want: [
        'error E_VALIDATION: invalid input: NAME must be 2–64 lower-case letters',
        '  NAME: must be 2–64 lower-case letters',
      ],
    },
    {
      name: 'force, named in prose only because it is a field of this error',
      command: 'move',
      e: apiError(
        'E_CONFLICT',
        'moving srv-03 would leave group globex-web below its minimum of 1 active server; pass force to do it anyway',
        [{ field: 'body.force', problem: 'must be true to leave globex-web below its minimum' }],
      ),
      want: [
        'error E_CONFLICT: moving srv-03 would leave group globex-web below its minimum of 1 active server; pass --force to do it anyway',
        '  --force: must be true to leave globex-web below its minimum',
      ],
    },
    {
      name: 'the word role in an error about something else stays a word',
      command: 'user add',
      e: apiError('E_FORBIDDEN', 'this needs the role operator or reseller; your token has the role customer'),
      want: ['error E_FORBIDDEN: this needs the role operator or reseller; your token has the role customer'],
    },
    {
      name: 'a field of a file keeps its name, without the request part',
      command: 'config submit',
      e: apiError('E_VALIDATION', 'invalid input: body.tiers.0.name must be a slug', [
        { field: 'body.tiers.0.name', problem: 'must be a slug' },
      ]),
      want: ['error E_VALIDATION: invalid input: tiers.0.name must be a slug', '  tiers.0.name: must be a slug'],
    },
    {
      name: "the CLI's own error, which names its flags already",
      command: 'fis surface',
      e: new HostfleetError('E_VALIDATION', "invalid input: --out: must end in .svg or .png, got 'x'", {
        fields: [{ field: '--out', problem: "must end in .svg or .png, got 'x'" }],
      }),
      want: ["error E_VALIDATION: invalid input: --out: must end in .svg or .png, got 'x'"],
    },
    {
      name: 'any other error',
      command: 'status',
      e: new Error('cannot reach the manager'),
      want: ['error: cannot reach the manager'],
    },
  ];
  for (const c of cases) assert.deepEqual(renderError(c.e, c.command), c.want, c.name);
});

test('a move is already done when the server is where it should go', () => {
  const cases = [
    { name: 'in the group', s: { place: 'group', groupId: 'globex-web' }, to: 'globex-web', want: true },
    { name: 'in another group', s: { place: 'group', groupId: 'acme-web' }, to: 'globex-web', want: false },
    { name: 'in the pool, to the pool', s: { place: 'pool', groupId: null }, to: 'pool', want: true },
    { name: 'in the pool, to a group', s: { place: 'pool', groupId: null }, to: 'globex-web', want: false },
    { name: 'moving into the group', s: { place: 'moving', groupId: 'globex-web' }, to: 'globex-web', want: false },
  ];
  for (const c of cases) assert.equal(isAt(c.s, c.to), c.want, c.name);
});

test("up's suggestions are commands the user can type", () => {
  const text = tryLines(['acme.test'], 'http://127.0.0.1:8080', 'npx hostfleet --data-dir /tmp/x', 12);
  assert.match(text, /^ {2}curl -H 'Host: acme\.test' http:\/\/127\.0\.0\.1:8080\/$/m);
  assert.match(text, /^ {2}npx hostfleet --data-dir \/tmp\/x status +\(/m);
  assert.match(text, /npx hostfleet --data-dir \/tmp\/x move srv-12 --to globex-web /);
  assert.match(text, /load spike --duration 20 /);
  assert.doesNotMatch(text, /<server>|<group>/);
});
