import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPlans, renderReason } from '../../../src/cli/explain.js';
import { decide, DEFAULT_DECISION_SETTINGS } from '../../../src/core/decision/index.js';

test('explain renders a real plan: the move, its request, tier, source and donor, and the unmet demand', () => {
  const plan = decide({
    tickId: 't1',
    now: 1_000_000,
    settings: DEFAULT_DECISION_SETTINGS,
    recent: [],
    groups: [
      { id: 'a', minSize: 0, maxSize: 10, committed: 2, burst: 4, extended: 4, priority: 0.9, joining: 0 },
      { id: 'b', minSize: 0, maxSize: 10, committed: 2, burst: 4, extended: 4, priority: 0.1, joining: 0 },
    ],
    servers: [
      { id: 'a1', spot: 'group', groupId: 'a', temp: null, movedAt: null },
      { id: 'a2', spot: 'group', groupId: 'a', temp: null, movedAt: null },
      { id: 'b1', spot: 'group', groupId: 'b', temp: null, movedAt: null },
      { id: 'b2', spot: 'group', groupId: 'b', temp: null, movedAt: null },
      { id: 'b3', spot: 'group', groupId: 'b', temp: null, movedAt: null },
    ],
    requests: [{ id: 'r1', groupId: 'a', kind: 'add', count: 2, urgency: 0.75, source: 'predicted' }],
  });
  const stored = {
    id: 'p1',
    at: '2026-01-01T00:00:00.000Z',
    plan: { plan, outcomes: [{ serverId: 'b1', moveId: 'abcdef0123', error: null }], failures: [] },
  };
  const text = renderPlans([stored as never], {});
  assert.match(text, /b1: b → a {3}\[move abcdef01\]/);
  assert.match(text, /request: predicted asked for 2 \(urgency 0\.75\)/);
  assert.match(text, /tier: burst — the group held 2; committed 2, burst 4/);
  assert.match(text, /source: donor \(b\)/);
  assert.match(text, /donor: b held 3 above its committed 2, priority 0\.1/);
  assert.match(text, /unmet: a wanted 2, got 1 \(donor-at-committed\)/);
  assert.equal(renderPlans([stored as never], { server: 'a1' }), 'no recorded decision matches');
  assert.match(renderPlans([stored as never], { group: 'b' }), /b1: b → a/);
  assert.equal(renderReason({ kind: 'source', source: 'cold-pool', group: null }), 'source: cold-pool');
});
