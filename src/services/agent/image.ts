/**
 * image bundles the agent into one plain JavaScript file next to the runtime's boot image, so a
 * machine starts its agent with node alone (no TypeScript loader, fast) and the agent's uid can
 * read it.
 */
import { fileURLToPath } from 'node:url';
import { bundleImage } from '../bmc/image.js';

/** AGENT_SOURCE is the agent's process entry in the source tree. */
export const AGENT_SOURCE = fileURLToPath(new URL('./main.ts', import.meta.url));

/** buildAgentImage bundles the agent into dir/agent.mjs (world-readable) and returns its path. */
export function buildAgentImage(dir: string): Promise<string> {
  return bundleImage(AGENT_SOURCE, dir, 'agent.mjs');
}
