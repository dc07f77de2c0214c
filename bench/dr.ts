// `npm run bench -- dr [lostAfterMs=10000]`: the disaster drill (test/support/dr.ts). Two
// embedded sites, eight hours apart, with the global coordinator; site a's customer's data is
// copied to b by rsync; every process of a is killed at once. Prints the recovery time (kill →
// the customer's page answered at b from the replica), the data-loss window (the replica's lag
// when a was lost; a is killed 5 s after the first copy, copies every 10 s), and the failed
// requests of 10 s of load at b after recovery.
// The last line is JSON.
import { runDisasterDrill } from '../test/support/dr.js';

const lostAfterMs = Number(process.argv[2] ?? 10_000);
// Killed half a copy interval after the first copy, so the data-loss window is a typical one,
// not the smallest.
const killAfterMs = 5000;
if (!Number.isInteger(lostAfterMs) || lostAfterMs < 1000 || lostAfterMs > 600_000) {
  console.error('usage: npm run bench -- dr [lostAfterMs 1000–600000]');
  process.exit(2);
}
// Copies every 10 s: the configuration's default (global.replication.everyMs).
const replicationEveryMs = 10_000;
const r = await runDisasterDrill({
  lostAfterMs,
  replicationEveryMs,
  killAfterMs,
  log: (s) => process.stderr.write(s + '\n'),
});
console.log(
  JSON.stringify({
    bench: 'dr',
    rto_ms: r.rto_ms,
    rpo_s: r.rpo_s,
    failed_requests_after_recovery: r.failed_requests_after_recovery,
    requests_after_recovery: r.requests_after_recovery,
    lost_after_ms: lostAfterMs,
    replication_every_ms: replicationEveryMs,
    kill_after_first_copy_ms: killAfterMs,
    takeover_site: r.takeoverSite,
  }),
);
