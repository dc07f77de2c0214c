/**
 * build bundles the console (web/src, Preact + uPlot) into web/dist with esbuild: one hashed
 * script, one hashed stylesheet and index.html. The manager serves web/dist at `/`.
 * Run it with `npm run build:web`; `hostfleet up` and `npm test` call ensureWebBuilt.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** ensureWebBuilt builds the console unless web/dist already holds a build. */
export async function ensureWebBuilt(): Promise<boolean> {
  if (existsSync(join(WEB_DIST, 'index.html'))) return false;
  await buildWeb();
  return true;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildWeb({ minify: !process.argv.includes('--dev') });
  console.log(`console built into ${WEB_DIST}: ${files.join(', ')}`);
}
