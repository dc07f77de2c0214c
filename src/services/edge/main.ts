/**
 * main runs the built-in edge as a process, configured from the environment, and stops it
 * cleanly on SIGTERM or SIGINT (in-flight requests finish, bounded by the grace period).
 *
 *   HOSTFLEET_EDGE_HOST=0.0.0.0          data plane address      HOSTFLEET_EDGE_PORT=8080
 *   HOSTFLEET_EDGE_ADMIN_HOST=127.0.0.1  admin API address       HOSTFLEET_EDGE_ADMIN_PORT=8081
 *   HOSTFLEET_EDGE_TOKEN (required, ≥ 16 characters)
 *   HOSTFLEET_EDGE_HEALTH_INTERVAL_MS=1000   HOSTFLEET_EDGE_HEALTH_PATH=/healthz
 *   HOSTFLEET_EDGE_STATE_FILE (optional)     HOSTFLEET_EDGE_LOG_LEVEL=info
 */
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { isHostfleetError } from '../../core/errors.js';
import { startEdge } from './edge.js';
import type { EdgeOptions } from './edge.js';

/** edgeOptionsFromEnv reads the edge's options from environment variables (see the module comment). */
export function edgeOptionsFromEnv(env: NodeJS.ProcessEnv): Omit<EdgeOptions, 'logger'> {
  const num = (v: string | undefined, d: number): number => (v === undefined || v === '' ? d : Number(v));
  return {
    host: env.HOSTFLEET_EDGE_HOST ?? '0.0.0.0',
    port: num(env.HOSTFLEET_EDGE_PORT, 8080),
    adminHost: env.HOSTFLEET_EDGE_ADMIN_HOST ?? '127.0.0.1',
    adminPort: num(env.HOSTFLEET_EDGE_ADMIN_PORT, 8081),
    token: env.HOSTFLEET_EDGE_TOKEN ?? '',
    healthIntervalMs: num(env.HOSTFLEET_EDGE_HEALTH_INTERVAL_MS, 1000),
    healthPath: env.HOSTFLEET_EDGE_HEALTH_PATH ?? '/healthz',
    ...(env.HOSTFLEET_EDGE_STATE_FILE ? { stateFile: env.HOSTFLEET_EDGE_STATE_FILE } : {}),
  };
}

async function main(): Promise<void> {
  const logger = pino({ level: process.env.HOSTFLEET_EDGE_LOG_LEVEL ?? 'info' });
  let edge;
  try {
    edge = await startEdge({ ...edgeOptionsFromEnv(process.env), logger });
  } catch (err) {
    logger.fatal({ code: isHostfleetError(err) ? err.code : undefined }, (err as Error).message);
    process.exit(2);
  }
  logger.info({ url: edge.url, adminUrl: edge.adminUrl }, 'edge: started');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'edge: stopping');
    edge.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'edge: error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// Run only as a program, so tests can import edgeOptionsFromEnv.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
