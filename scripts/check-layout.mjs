// The tree's layout rules, checked by npm test beside the type-check, lint and format checks:
// - file names are kebab-case (lower-case words joined by hyphens) in src/, web/src/, test/,
//   bench/ and scripts/, so a name is spelt one way whatever the file holds;
// - no source file in src/ is longer than MAX_LINES: a longer one does several jobs;
// - unit tests mirror the source: test/unit/X/name.test.ts tests something in src/X/ (web/src
//   for test/unit/web), so a reader finds a file's tests by its path.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** MAX_LINES is the longest a source file in src/ may be. */
const MAX_LINES = 400;
const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
const CODE = /\.(?:ts|tsx|mjs|js)$/;

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

const problems = [];
for (const root of ['src', 'web/src', 'test', 'bench', 'scripts']) {
  for (const f of files(root)) {
    if (!CODE.test(f)) continue;
    const name = f.split(sep).pop();
    if (!NAME.test(name)) problems.push(`${f}: the file name must be kebab-case (lower-case words joined by hyphens)`);
    if (root === 'src') {
      const lines = readFileSync(f, 'utf8').split('\n').length - 1;
      if (lines > MAX_LINES) problems.push(`${f}: ${lines} lines; split it by job (at most ${MAX_LINES})`);
    }
  }
}
for (const f of files('test/unit')) {
  if (!f.endsWith('.test.ts')) continue;
  const folder = relative('test/unit', f).split(sep).slice(0, -1).join('/');
  const mirrored = folder.startsWith('web') ? join('web/src', folder.slice(3)) : join('src', folder);
  if (folder === '' || !existsSync(mirrored))
    problems.push(`${f}: unit tests mirror the source; no folder ${mirrored}`);
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
