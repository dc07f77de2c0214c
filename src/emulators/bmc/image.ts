/**
 * image builds the embedded fleet's boot images: the server runtime and the agent, each bundled
 * by esbuild into one plain JavaScript file that every machine runs with node alone. A machine
 * then boots without a TypeScript loader (faster, and nothing in the workload's or the agent's
 * process needs write access to a compiler cache), and every customer's uid can read them.
 */
import { build } from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** RUNTIME_SOURCE is the server runtime's process entry in the source tree. */
export const RUNTIME_SOURCE = fileURLToPath(new URL('../server/main.ts', import.meta.url));

/** AGENT_SOURCE is the product's agent process entry (src/services/agent), which every machine runs beside its workload. */
export const AGENT_SOURCE = fileURLToPath(new URL('../../services/agent/main.ts', import.meta.url));

/**
 * bundleImage bundles one process entry and everything it imports into dir/name, a
 * world-readable plain JavaScript file that node runs alone. Bundled CommonJS dependencies
 * (undici, nats) call require, so the ESM bundle gets one.
 */
export async function bundleImage(entry: string, dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const out = join(dir, name);
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __hfCreateRequire } from 'node:module'; const require = __hfCreateRequire(import.meta.url);",
    },
  });
  await chmod(out, 0o644);
  return out;
}

/** buildRuntimeImage bundles the runtime into dir/demo-runtime.mjs and returns its path. */
export function buildRuntimeImage(dir: string): Promise<string> {
  return bundleImage(RUNTIME_SOURCE, dir, 'demo-runtime.mjs');
}

/** buildAgentImage bundles the agent into dir/agent.mjs (world-readable) and returns its path. */
export function buildAgentImage(dir: string): Promise<string> {
  return bundleImage(AGENT_SOURCE, dir, 'agent.mjs');
}
