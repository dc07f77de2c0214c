/**
 * build bundles the console (web/src, Preact + uPlot) into web/dist with esbuild: one hashed
 * script, one hashed stylesheet and index.html. The manager serves web/dist at `/`.
 * Run it with `npm run build:web`; `hostfleet up` and the console's tests call ensureWebBuilt,
 * which rebuilds when a source is newer than the build.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const WEB = fileURLToPath(new URL('.', import.meta.url));
/** WEB_DIST is where the built console lives. */
export const WEB_DIST = join(WEB, 'dist');

/** buildWeb bundles the console and returns the files it wrote. */
export async function buildWeb(opts: { minify?: boolean } = {}): Promise<string[]> {
  rmSync(WEB_DIST, { recursive: true, force: true });
  mkdirSync(join(WEB_DIST, 'assets'), { recursive: true });
  const r = await esbuild.build({
    entryPoints: [join(WEB, 'src', 'main.tsx')],
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    outdir: join(WEB_DIST, 'assets'),
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'linked',
  });
  const outs = Object.keys(r.metafile.outputs).map((p) => basename(p));
  const js = outs.find((f) => f.endsWith('.js'));
  const css = outs.find((f) => f.endsWith('.css'));
  if (!js) throw new Error('esbuild wrote no script');
  const html = readFileSync(join(WEB, 'index.html'), 'utf8')
    .replace('<!--styles-->', css ? `<link rel="stylesheet" href="/assets/${css}">` : '')
    .replace('<!--script-->', `<script type="module" src="/assets/${js}"></script>`);
  writeFileSync(join(WEB_DIST, 'index.html'), html);
  return ['index.html', ...outs.map((f) => `assets/${f}`)];
}

/** newestSource is the latest modification time of the console's sources (web/src, index.html). */
function newestSource(dir = join(WEB, 'src')): number {
  // A copy shipped with a build and without its sources keeps that build.
  if (!existsSync(dir)) return 0;
  let t = statSync(join(WEB, 'index.html')).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * ensureWebBuilt builds the console unless web/dist holds a build at least as new as every
 * source: a build older than an edit would serve (and test, and photograph) the old page.
 */
export async function ensureWebBuilt(): Promise<boolean> {
  const built = join(WEB_DIST, 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) return false;
  await buildWeb();
  return true;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildWeb({ minify: !process.argv.includes('--dev') });
  console.log(`console built into ${WEB_DIST}: ${files.join(', ')}`);
}
