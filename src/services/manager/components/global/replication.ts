/**
 * replication builds the site's side of copying customers' data between sites from the
 * configuration: its rsync daemon, which receives the other sites' copies into its volume root,
 * and one replicator per replica site, writing there as `<this site>-<account>`.
 */
import { join } from 'node:path';
import { rsyncReplicator, startRsyncDaemon } from '../../../../drivers/replication/index.js';
import type { Replicator } from '../../../../drivers/replication/index.js';
import type { Clock } from '../../../../drivers/clock/index.js';
import type { ManagerConfig } from '../../config.js';

/** configuredReplication starts the site's rsync daemon (copies from other sites) and a replicator per target. */
export async function configuredReplication(
  cfg: ManagerConfig,
  clock: Clock,
  owned: Array<() => Promise<unknown>>,
): Promise<Map<string, Replicator>> {
  const out = new Map<string, Replicator>();
  const rep = cfg.global?.replication;
  if (!rep) return out;
  if (rep.daemon) {
    const daemon = await startRsyncDaemon({
      root: cfg.volumes.root,
      host: rep.daemon.host,
      port: rep.daemon.port,
      user: rep.daemon.user,
      secret: rep.daemon.secret,
      pidFile: join(cfg.dataDir, 'rsyncd.pid'),
    });
    owned.push(() => daemon.close());
  }
  for (const t of rep.targets)
    out.set(
      t.site,
      rsyncReplicator({
        homeRoot: cfg.volumes.root,
        target: { url: t.url, user: t.user, secret: t.secret },
        replicaRoot: cfg.volumes.root,
        replicaPrefix: `${cfg.site.id}-`,
        clock,
      }),
    );
  return out;
}
