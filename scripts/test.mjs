// The whole test suite: type-check, lint, the formatter's check, then every *.test.ts under test/ and src/ with Node's
// own test runner (through tsx). `--only unit|contract|integration|e2e` narrows the set.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
const skipChecks = args.includes('--no-checks') || only !== undefined;

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

if (!skipChecks) {
  console.log('# type-check');
  run('npx', ['tsc', '-p', 'tsconfig.json']);
  run('npx', ['tsc', '-p', 'web/tsconfig.json']);
  console.log('# lint');
  run('npx', ['eslint', '.']);
  console.log('# format (npx prettier --write . fixes it)');
  run('npx', ['prettier', '--check', '--log-level', 'warn', '.']);
  console.log('# layout');
  run(process.execPath, ['scripts/check-layout.mjs']);
}
// The console's end-to-end tests and the manager serve web/dist: build it when it is missing.
if (!existsSync('web/dist/index.html')) run(process.execPath, ['--import', 'tsx', 'web/build.ts']);
let files = [...find('test'), ...find('src')].sort();
if (only) files = files.filter((f) => f.startsWith(join('test', only)) || (only === 'unit' && f.startsWith('src')));
const extra = args.filter((a, i) => a !== '--no-checks' && a !== '--only' && i !== onlyIdx + 1);
if (extra.length > 0) files = files.filter((f) => extra.some((e) => f.includes(e)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Fast, self-contained tests run two files at a time; the ones that start whole sites (real
// processes, closed loops measured in wall-clock time, a browser) run one file at a time, so
// they never compete with each other for this machine's two cores.
const heavy = (f) => f.startsWith(join('test', 'integration')) || f.startsWith(join('test', 'e2e'));
const phases = [
  { files: files.filter((f) => !heavy(f)), concurrency: 2 },
  { files: files.filter(heavy), concurrency: 1 },
].filter((p) => p.files.length > 0);
const totals = { pass: 0, fail: 0, skipped: 0 };
let failed = false;
for (const phase of phases) {
  // Streamed as it comes (a phase can run for minutes); the summary lines are read at the end.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${phase.concurrency}`, '--test-timeout=300000', ...phase.files],
    { stdio: ['inherit', 'pipe', 'inherit'] },
  );
  let tail = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    tail = (tail + d.toString()).slice(-4096);
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  for (const k of Object.keys(totals)) {
    const m = new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tail);
    if (m) totals[k] += Number(m[1]);
  }
  if (code !== 0) failed = true;
}
// One closing line for the whole suite.
console.log(`tests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failed ? 1 : 0);
