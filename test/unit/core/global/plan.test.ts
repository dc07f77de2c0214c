// planGlobal, the seed's global routine: east first, a current replica, the extended ceiling,
// loans back when asks fall, lenders recall or replicas go stale, lost sites taken over by their
// freshest replica and handed back once restored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_GLOBAL_SETTINGS,
  eastOf,
  newGlobalState,
  planGlobal,
  type GlobalPlan,
  type GlobalState,
  type HomeAccount,
  type Loan,
  type OffsiteAsk,
  type SiteReport,
  type SiteSeen,
} from '../../../../src/core/global/index.js';

const NOW = 1_000_000;
const LAG = 60_000;
const STALE = DEFAULT_GLOBAL_SETTINGS.maxLagMs + 1;

// Figure 13: three sites eight hours apart.
const OFFSET: Record<string, number> = { london: 0, singapore: 480, seattle: -480 };

/** site builds a report with defaults: no spare, no asks, no accounts, no loans. */
function site(id: string, o: Partial<SiteReport> = {}): SiteReport {
  return {
    site: id,
    utcOffsetMinutes: OFFSET[id] ?? 0,
    at: NOW,
    spare: 0,
    recall: 0,
    asks: [],
    accounts: [],
    lending: [],
    restored: [],
    ...o,
  };
}

/** account builds one account with one group of its name, replicated where lags says (lag null: never synced). */
function account(id: string, lags: Record<string, number | null>, held = 4, extended = 20): HomeAccount {
  return {
    account: id,
    groups: [{ group: id, held, extended }],
    replicas: Object.entries(lags).map(([s, lagMs]) => ({ site: s, lagMs })),
  };
}

function ask(group: string, count: number, priority = 0.5): OffsiteAsk {
  return { group, account: group, count, priority };
}

/** borrower is london asking `count` for shop, replicated to the other two at lags. */
function borrower(count: number, lags: Record<string, number | null>, o: Partial<SiteReport> = {}): SiteReport {
  return site('london', { asks: [ask('shop', count)], accounts: [account('shop', lags)], ...o });
}

function seen(reports: readonly SiteReport[], receivedAt = NOW): SiteSeen[] {
  return reports.map((report) => ({ report, receivedAt }));
}

function loan(id: string, lender: string, count: number, since = NOW - 60_000, group = 'shop'): Loan {
  return { id, lender, to: { home: 'london', group }, account: group, count, since };
}

function stateWith(loans: Loan[], o: Partial<GlobalState> = {}): GlobalState {
  return { ...newGlobalState(), loans, nextId: 10, ...o };
}

const lends = (p: GlobalPlan) => p.lend.map((l) => `${l.lender}→${l.to.home}/${l.to.group} ${l.count}`);
const returns = (p: GlobalPlan) => p.returns.map((r) => `${r.lender}←${r.to.group} ${r.count} ${r.code}`);
const codes = (p: GlobalPlan) => p.reasons.map((r) => r.code);

test('east first: each site of three eight hours apart borrows first from the one eight hours east', () => {
  assert.equal(eastOf(OFFSET['singapore'] as number, OFFSET['london'] as number), 480);
  assert.equal(eastOf(OFFSET['seattle'] as number, OFFSET['singapore'] as number), 480);
  assert.equal(eastOf(OFFSET['london'] as number, OFFSET['seattle'] as number), 480);
  const cases = [
    { name: 'london borrows from singapore', home: 'london', others: ['singapore', 'seattle'], want: 'singapore' },
    { name: 'singapore borrows from seattle', home: 'singapore', others: ['london', 'seattle'], want: 'seattle' },
    { name: 'seattle borrows from london', home: 'seattle', others: ['london', 'singapore'], want: 'london' },
  ];
  for (const c of cases) {
    const lags = Object.fromEntries(c.others.map((s) => [s, LAG]));
    const reports = [
      site(c.home, { asks: [ask('shop', 3)], accounts: [account('shop', lags)] }),
      // The west site has more spare: the order is by time zone, not by size.
      ...c.others.map((s) => site(s, { spare: s === c.want ? 5 : 50 })),
    ];
    const p = planGlobal(newGlobalState(), seen(reports), NOW);
    assert.deepEqual(lends(p), [`${c.want}→${c.home}/shop 3`], c.name);
    assert.deepEqual(
      p.reasons.filter((r) => r.code === 'lend').map((r) => [r.lender, r.rank]),
      [[c.want, 0]],
      c.name,
    );
  }
});

test('the east site passed over: no spare, no current replica or none at all, and the west site lends', () => {
  const cases: { name: string; east: SiteReport; lags: Record<string, number | null>; want: string }[] = [
    {
      name: 'east has no spare',
      east: site('singapore', { spare: 0 }),
      lags: { singapore: LAG, seattle: LAG },
      want: 'no-offer',
    },
    {
      name: "east's replica is stale",
      east: site('singapore', { spare: 9 }),
      lags: { singapore: STALE, seattle: LAG },
      want: 'replica-stale',
    },
    {
      name: 'east has no replica',
      east: site('singapore', { spare: 9 }),
      lags: { seattle: LAG },
      want: 'no-replica',
    },
    {
      name: 'east never synced',
      east: site('singapore', { spare: 9 }),
      lags: { singapore: null, seattle: LAG },
      want: 'no-replica',
    },
  ];
  for (const c of cases) {
    const p = planGlobal(newGlobalState(), seen([borrower(2, c.lags), c.east, site('seattle', { spare: 9 })]), NOW);
    assert.deepEqual(lends(p), ['seattle→london/shop 2'], c.name);
    const passed = p.reasons.find((r) => r.lender === 'singapore');
    assert.equal(passed?.code, c.want, c.name);
    assert.equal(passed?.rank, 0, c.name);
    assert.equal(p.reasons.find((r) => r.code === 'lend')?.rank, 1, c.name);
  }
});

test('a group holds up to its extended level with loans', () => {
  const reports = [
    site('london', { asks: [ask('shop', 6)], accounts: [account('shop', { singapore: LAG }, 15, 20)] }),
    site('singapore', { spare: 50 }),
  ];
  // 15 held at home and 2 lent: room for 3 of the 4 missing.
  const p = planGlobal(stateWith([loan('loan-1', 'singapore', 2)]), seen(reports), NOW);
  assert.deepEqual(lends(p), ['singapore→london/shop 3']);
  assert.deepEqual(
    p.reasons.filter((r) => r.code === 'at-extended').map((r) => r.count),
    [1],
  );
});

test('a falling ask sends loans back from the least preferred lender, youngest first', () => {
  const loans = [
    loan('loan-1', 'singapore', 3, NOW - 300_000),
    loan('loan-2', 'seattle', 2, NOW - 300_000),
    loan('loan-3', 'seattle', 2, NOW - 60_000),
  ];
  const reports = (count: number) => [
    borrower(count, { singapore: LAG, seattle: LAG }),
    site('singapore'),
    site('seattle'),
  ];
  const cases = [
    { name: 'ask unchanged', count: 7, want: [] },
    { name: 'ask falls by one', count: 6, want: ['seattle←shop 1 return-ask-fell'] },
    {
      name: 'ask falls by three',
      count: 4,
      want: ['seattle←shop 2 return-ask-fell', 'seattle←shop 1 return-ask-fell'],
    },
    {
      name: 'ask ends',
      count: 0,
      want: ['seattle←shop 2 return-ask-fell', 'seattle←shop 2 return-ask-fell', 'singapore←shop 3 return-ask-fell'],
    },
  ];
  for (const c of cases) {
    const p = planGlobal(stateWith(loans), seen(reports(c.count)), NOW);
    assert.deepEqual(returns(p), c.want, c.name);
    assert.equal(
      p.state.loans.reduce((n, l) => n + l.count, 0),
      c.count,
      c.name,
    );
    if (c.count === 6)
      assert.deepEqual(p.returns[0]?.loanId, 'loan-3', 'the youngest loan of the least preferred lender');
  }
});

test('a lender recalls its servers, youngest loan first, and offers nothing while it does', () => {
  const loans = [loan('loan-1', 'singapore', 3, NOW - 300_000), loan('loan-2', 'singapore', 2, NOW - 60_000)];
  const reports = [
    borrower(5, { singapore: LAG, seattle: LAG }),
    site('singapore', { recall: 3, spare: 10 }),
    site('seattle', { spare: 10 }),
  ];
  const p = planGlobal(stateWith(loans), seen(reports), NOW);
  assert.deepEqual(returns(p), ['singapore←shop 2 return-recall', 'singapore←shop 1 return-recall']);
  assert.deepEqual(
    p.returns.map((r) => r.loanId),
    ['loan-2', 'loan-1'],
  );
  // The borrower still asks for 5: what was recalled comes from the next lender, not the recalling one.
  assert.deepEqual(lends(p), ['seattle→london/shop 3']);
});

test('a loan whose replica went stale goes back', () => {
  const p = planGlobal(
    stateWith([loan('loan-1', 'singapore', 3), loan('loan-2', 'seattle', 1)]),
    seen([borrower(4, { singapore: STALE, seattle: LAG }), site('singapore', { spare: 5 }), site('seattle')]),
    NOW,
  );
  assert.deepEqual(returns(p), ['singapore←shop 3 return-replica-stale']);
  assert.ok(codes(p).includes('replica-stale'), 'and it is not lent again from the stale copy');
});

test('servers a lender was told to lend and has not handed over are not offered again', () => {
  // singapore reports 6 idle servers, 4 of which are loan-1's, ordered last round and not yet handed over.
  const reports = [
    site('london', {
      asks: [ask('shop', 5), ask('blog', 4)],
      accounts: [account('shop', { singapore: LAG }), account('blog', { singapore: LAG, seattle: LAG })],
    }),
    site('singapore', { spare: 6, lending: [{ loanId: 'loan-1', servers: 1 }] }),
    site('seattle', { spare: 10 }),
  ];
  const p = planGlobal(stateWith([loan('loan-1', 'singapore', 5)]), seen(reports), NOW);
  assert.deepEqual(lends(p), ['singapore→london/blog 2', 'seattle→london/blog 2']);
});

test('a lost site: its accounts are taken over by the freshest replica, its loans end; back and restored, handed back', () => {
  const lost = site('london', {
    at: NOW - 60_000,
    accounts: [account('shop', { singapore: 120_000, seattle: 30_000 }, 6), account('blog', { singapore: null })],
  });
  const state = stateWith([loan('loan-1', 'singapore', 2)]);
  const p = planGlobal(
    state,
    [
      { report: lost, receivedAt: NOW - DEFAULT_GLOBAL_SETTINGS.lostAfterMs - 1 },
      ...seen([site('singapore'), site('seattle')]),
    ],
    NOW,
  );
  assert.deepEqual(p.state.lost, ['london']);
  assert.deepEqual(
    p.takeovers.map((t) => [t.account, t.site, t.rpoMs, t.groups]),
    [['shop', 'seattle', 30_000, [{ group: 'shop', count: 6 }]]],
  );
  assert.deepEqual(returns(p), ['singapore←shop 2 return-site-lost']);
  assert.deepEqual(
    codes(p).filter((c) => c !== 'return-site-lost'),
    ['site-lost', 'takeover', 'takeover-no-replica'],
  );
  // The next round, still silent: nothing new.
  const again = planGlobal(
    p.state,
    [{ report: lost, receivedAt: NOW - 20_000 }, ...seen([site('singapore'), site('seattle')], NOW + 1000)],
    NOW + 1000,
  );
  assert.deepEqual(again.takeovers, []);
  assert.deepEqual(again.state.takeovers, p.state.takeovers);

  // Back, not yet restored: the takeover stays; restored: handed back.
  const back = planGlobal(p.state, seen([site('london'), site('singapore'), site('seattle')]), NOW + 2000);
  assert.deepEqual(back.state.lost, []);
  assert.equal(back.state.takeovers.length, 1);
  assert.deepEqual(codes(back), ['site-back']);
  const restored = planGlobal(
    back.state,
    seen([site('london', { restored: ['shop'] }), site('singapore'), site('seattle')]),
    NOW + 3000,
  );
  assert.deepEqual(
    restored.handbacks.map((t) => t.account),
    ['shop'],
  );
  assert.deepEqual(restored.state.takeovers, []);
  assert.deepEqual(codes(restored), ['restored']);
});

test('a round lends at most maxLendPerRound servers; the rest waits for the next round', () => {
  const settings = { ...DEFAULT_GLOBAL_SETTINGS, maxLendPerRound: 3 };
  const reports = [borrower(5, { singapore: LAG }), site('singapore', { spare: 10 })];
  const p = planGlobal(newGlobalState(), seen(reports), NOW, settings);
  assert.deepEqual(lends(p), ['singapore→london/shop 3']);
  assert.deepEqual(
    p.reasons.filter((r) => r.code === 'round-limit').map((r) => r.count),
    [2],
  );
  const next = planGlobal(
    p.state,
    seen([reports[0] as SiteReport, site('singapore', { spare: 7, lending: [{ loanId: 'loan-1', servers: 3 }] })]),
    NOW + 1000,
    settings,
  );
  assert.deepEqual(lends(next), ['singapore→london/shop 2']);
  assert.deepEqual(
    next.state.loans.map((l) => [l.id, l.count]),
    [
      ['loan-1', 3],
      ['loan-2', 2],
    ],
  );
});

// ---- properties ----------------------------------------------------------------------------

const SITES = ['london', 'singapore', 'seattle'] as const;
const GROUPS: readonly string[] = ['a', 'b', 'c', 'd'];

const lagArb = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 * DEFAULT_GLOBAL_SETTINGS.maxLagMs }));
const groupArb = fc.record({
  home: fc.constantFrom(...SITES),
  held: fc.nat(12),
  extended: fc.nat(24),
  ask: fc.nat(15),
  priority: fc.double({ min: 0, max: 1, noNaN: true }),
  lags: fc.record({ london: lagArb, singapore: lagArb, seattle: lagArb }),
});
const worldArb = fc.record({
  groups: fc.uniqueArray(fc.tuple(fc.constantFrom(...GROUPS), groupArb), { selector: (g) => g[0], maxLength: 4 }),
  spare: fc.tuple(fc.nat(15), fc.nat(15), fc.nat(15)),
  recall: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)),
  loans: fc.array(
    fc.record({
      lender: fc.constantFrom(...SITES),
      group: fc.constantFrom(...GROUPS),
      count: fc.integer({ min: 1, max: 5 }),
      handed: fc.nat(5),
    }),
    { maxLength: 5 },
  ),
  maxLendPerRound: fc.integer({ min: 1, max: 20 }),
});

test('property: a round never lends past spare, past extended, without a current replica, nor leaves a loan at zero', () => {
  fc.assert(
    fc.property(worldArb, (w) => {
      const groups = new Map(w.groups);
      const loans: Loan[] = [];
      const handed = new Map<string, number>();
      w.loans.forEach((l, i) => {
        const g = groups.get(l.group);
        if (g === undefined || g.home === l.lender) return;
        const id = `loan-${i + 1}`;
        loans.push({
          id,
          lender: l.lender,
          to: { home: g.home, group: l.group },
          account: l.group,
          count: l.count,
          since: NOW - 1000 * i,
        });
        handed.set(id, Math.min(l.count, l.handed));
      });
      const reports = SITES.map((s, i) =>
        site(s, {
          spare: w.spare[i] as number,
          recall: w.recall[i] as number,
          asks: w.groups.filter(([, g]) => g.home === s).map(([id, g]) => ask(id, g.ask, g.priority)),
          accounts: w.groups
            .filter(([, g]) => g.home === s)
            .map(([id, g]) => ({
              account: id,
              groups: [{ group: id, held: g.held, extended: g.extended }],
              replicas: Object.entries(g.lags)
                .filter(([r]) => r !== s)
                .map(([r, lagMs]) => ({ site: r, lagMs })),
            })),
          lending: loans.filter((l) => l.lender === s).map((l) => ({ loanId: l.id, servers: handed.get(l.id) ?? 0 })),
        }),
      );
      const settings = { ...DEFAULT_GLOBAL_SETTINGS, maxLendPerRound: w.maxLendPerRound };
      const p = planGlobal(stateWith(loans), seen(reports), NOW, settings);

      assert.ok(p.lend.reduce((n, l) => n + l.count, 0) <= w.maxLendPerRound, 'round limit');
      for (const [i, s] of SITES.entries()) {
        const lent = p.lend.filter((l) => l.lender === s).reduce((n, l) => n + l.count, 0);
        const pending = loans.filter((l) => l.lender === s).reduce((n, l) => n + l.count - (handed.get(l.id) ?? 0), 0);
        assert.ok(lent <= Math.max(0, (w.spare[i] as number) - pending), `${s} lends ${lent} of its spare`);
        if ((w.recall[i] as number) > 0) assert.equal(lent, 0, `${s} recalls and lends`);
      }
      for (const l of p.lend) {
        const g = groups.get(l.to.group);
        assert.ok(g);
        const lag = g.lags[l.lender as keyof typeof g.lags];
        assert.ok(lag !== null && lag <= DEFAULT_GLOBAL_SETTINGS.maxLagMs, `lent from ${l.lender} at lag ${lag}`);
        assert.notEqual(l.lender, l.to.home);
        const total = p.state.loans.filter((x) => x.to.group === l.to.group).reduce((n, x) => n + x.count, 0);
        assert.ok(
          total <= Math.max(0, g.extended - g.held),
          `${l.to.group} holds ${g.held} + ${total} lent, extended ${g.extended}`,
        );
        assert.ok(total <= g.ask, `${l.to.group} lent ${total}, asked ${g.ask}`);
      }
      for (const l of p.state.loans) assert.ok(l.count > 0, `loan ${l.id} at ${l.count}`);
      for (const r of p.returns) assert.ok(r.count > 0);
      // Conservation: before + lent − returned = after, per group.
      for (const id of GROUPS) {
        const sum = (ls: readonly Loan[]) => ls.filter((l) => l.to.group === id).reduce((n, l) => n + l.count, 0);
        const lent = p.lend.filter((l) => l.to.group === id).reduce((n, l) => n + l.count, 0);
        const back = p.returns.filter((r) => r.to.group === id).reduce((n, r) => n + r.count, 0);
        assert.equal(sum(loans) + lent - back, sum(p.state.loans), id);
      }
    }),
    { numRuns: 500 },
  );
});
