/**
 * main runs one emulated hardware node as its own process (see node.ts), so that killing the
 * process is a node failure: its components go with it.
 *
 *   HOSTFLEET_NODE_ID        node id (required)
 *   HOSTFLEET_NODE_CAPACITY  JSON { ram, cpu, disk, bandwidth } (required)
 *   HOSTFLEET_NODE_TOKEN     bearer token of the node API (required, ≥ 16 characters)
 *   HOSTFLEET_NODE_IMAGE     the bundled server runtime (required; buildRuntimeImage)
 *   HOSTFLEET_NODE_DIR       scratch directory of the components (required)
 *   HOSTFLEET_NODE_HOST / _PORT  where the API listens (default 127.0.0.1, 0)
 *
 * It tells a parent connected over IPC `{ kind: 'ready', url }`, and exits when that channel
 * closes or on SIGTERM/SIGINT (stopping its components first).
 */
import { parseNode } from '../../core/scheduler/index.js';
import { startNode } from './node.js';

function need(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') {
    console.error(`hypervisor: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

let capacity;
try {
  capacity = parseNode({
    id: need('HOSTFLEET_NODE_ID'),
    capacity: JSON.parse(need('HOSTFLEET_NODE_CAPACITY')),
  }).capacity;
} catch (e) {
  console.error(`hypervisor: HOSTFLEET_NODE_CAPACITY: ${(e as Error).message}`);
  process.exit(2);
}
const token = need('HOSTFLEET_NODE_TOKEN');
if (token.length < 16) {
  console.error('hypervisor: HOSTFLEET_NODE_TOKEN must be at least 16 characters');
  process.exit(2);
}
const node = await startNode({
  id: need('HOSTFLEET_NODE_ID'),
  capacity,
  host: process.env.HOSTFLEET_NODE_HOST || '127.0.0.1',
  port: Number(process.env.HOSTFLEET_NODE_PORT || 0),
  token,
  image: need('HOSTFLEET_NODE_IMAGE'),
  dir: need('HOSTFLEET_NODE_DIR'),
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  node.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
process.send?.({ kind: 'ready', url: node.url });
