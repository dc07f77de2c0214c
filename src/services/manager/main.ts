/**
 * main runs the manager as its own process: `hostfleet manager --config FILE` (or env only).
 * It stops cleanly on SIGTERM/SIGINT, and when started by `hostfleet up`, also when `up` goes.
 */
import { loadManagerConfig } from './config.js';
import { startManager } from './manager.js';
import { runService } from '../shared/process.js';

/** runManager loads the configuration, starts the manager and keeps it until a signal. */
export async function runManager(configFile: string | undefined): Promise<void> {
  const cfg = loadManagerConfig(configFile);
  await runService('manager', () => startManager(cfg));
}
