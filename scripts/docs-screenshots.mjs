// docs-screenshots refreshes the console's pictures in docs/ (docs/console-*.png, listed in
// docs/CONSOLE.md and linked from the README): `npm run docs:screenshots`.
//
// The pictures come from the console's browser test (test/e2e/console.test.ts), which starts a
// whole embedded site, drives Debian's chromium through each view and photographs it into the
// folder named by HOSTFLEET_CONSOLE_SHOTS. Taking them there means each picture shows a state
// the test has just checked; docs/ is replaced only when every check passed, so a failed run
// leaves the committed pictures as they were. The tests themselves never write into docs/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const docs = join(root, 'docs');
const shots = mkdtempSync(join(tmpdir(), 'hostfleet-docs-shots-'));
try {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=dot', join(root, 'test/e2e/console.test.ts')],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, HOSTFLEET_CONSOLE_SHOTS: shots },
    },
  );
  if (r.status !== 0) {
    console.error('docs:screenshots: the console test failed; docs/ is unchanged');
    process.exit(r.status ?? 1);
  }
  const pictures = readdirSync(shots)
    .filter((f) => /^console-[a-z-]+\.png$/.test(f))
    .sort();
  if (pictures.length === 0) {
    // The test skips itself without chromium; say so rather than pretend to have refreshed.
    console.error(
      'docs:screenshots: no pictures were taken (is /usr/bin/chromium installed? apt-get install -y chromium); docs/ is unchanged',
    );
    process.exit(1);
  }
  for (const f of pictures) copyFileSync(join(shots, f), join(docs, f));
  console.log(`docs:screenshots: wrote ${pictures.map((f) => `docs/${f}`).join(', ')}`);
} finally {
  rmSync(shots, { recursive: true, force: true });
}
