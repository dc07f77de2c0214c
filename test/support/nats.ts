/**
 * nats starts and stops private nats-server processes (Debian package nats-server) for the tests
 * that drive the real server: started with the arguments given, ready once it says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** NATS_BIN is the nats-server binary (NATS_SERVER_BIN overrides). */
export const NATS_BIN = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** natsAvailable tells whether nats-server runs here. */
export const natsAvailable = spawnSync(NATS_BIN, ['--version']).status === 0;

/** startNatsServer runs nats-server with args and resolves once it reports ready (bounded to 15 s). */
export async function startNatsServer(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(NATS_BIN, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server not ready within 15 s:\n${log}`));
    }, 15_000);
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`nats-server exited with ${code}:\n${log}`));
    });
  });
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  return child;
}

/** stopNatsServer stops it (SIGTERM, SIGKILL after 10 s). */
export async function stopNatsServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
