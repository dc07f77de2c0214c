/**
 * process holds the lifecycle every hostfleet process shares: start, report readiness to a
 * parent (`hostfleet up`) over IPC, and stop cleanly on SIGTERM, SIGINT, or when the parent
 * goes away — so that no process the product starts outlives it.
 */

/** runService starts a service and closes it on the first signal or parent disconnect. */
export async function runService<T extends { close(): Promise<void>; url?: string }>(
  name: string,
  start: () => Promise<T>,
): Promise<T> {
  const svc = await start();
  let closing = false;
  const stop = (why: string) => {
    if (closing) return;
    closing = true;
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    svc
      .close()
      .catch((e: unknown) => console.error(`${name}: error while stopping (${why}):`, e))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (process.send) {
    process.on('disconnect', () => stop('parent gone'));
    process.send({ kind: 'ready', service: name, url: svc.url ?? null });
  }
  return svc;
}
