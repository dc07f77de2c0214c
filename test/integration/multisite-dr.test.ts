// Losing a site: every process of site a is killed at once; a's customer answers from its
// replica at site b (its own page, from the copy of its data), and nothing fails once it does.
// When a comes back, b stops serving, a copies the data back (b's copy wins), and a write made
// at b while a was lost is in a's copy.
// The recovery time and data-loss window are measured by `npm run bench -- dr`, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDisasterDrill } from '../support/dr.js';

test(
  'a lost site’s customer answers from its replica site with no failed request after recovery, and the writes made there come home',
  { timeout: 300_000 },
  async () => {
    const r = await runDisasterDrill({ lostAfterMs: 4000, afterRecoveryMs: 5000, comeBack: true });
    assert.equal(r.takeoverSite, 'b');
    assert.match(r.page, /Acme Shop/, 'the page comes from the customer’s own data');
    assert.ok(r.rpo_s !== null, 'the data-loss window is stated');
    assert.ok(r.requests_after_recovery > 50);
    assert.equal(r.failed_requests_after_recovery, 0);
    // Back home: the write taken at the replica site while a was lost is in a's copy.
    assert.equal(r.writeCameHome, true);
  },
);
