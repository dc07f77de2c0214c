/**
 * replication keeps a backup copy of every customer account's volume at a chosen remote site
 * (the seed's claim 3, "replication of customer data"), so that when the home site is lost a
 * server lent by the remote site can mount the account's data there. Copies travel over a
 * replication channel of their own — an rsync daemon at the replica site, reached over the
 * network the operator sets aside for it — never over customer traffic.
 *
 * Two implementations: `rsyncReplicator` drives Debian's rsync against the daemon that
 * `startRsyncDaemon` runs at the replica site; `localReplicator` copies between two local
 * directories with Node's fs and serves the in-process tests. One contract suite
 * (test/contract/replication.test.ts) runs against both. The contract is on Replicator
 * (types.ts); replicationLagMs turns a replica's status into its data-loss window.
 */
export { DIRECTIONS, REPLICATION_FAILED } from './types.js';
export type { Direction, Owner, ReplicaStatus, Replicator, SyncResult } from './types.js';
export { replicationLagMs } from './lag.js';
export { localReplicator } from './local.js';
export type { LocalReplicatorOptions } from './local.js';
export { rsyncReplicator } from './rsync.js';
export type { RsyncReplicatorOptions, RsyncTarget } from './rsync.js';
export { endStaleDaemon, startRsyncDaemon } from './rsync-daemon.js';
export type { RsyncDaemon, RsyncDaemonOptions } from './rsync-daemon.js';
