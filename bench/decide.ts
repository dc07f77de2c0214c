// bench decide: one decision tick over 10,000 servers and 1,000 groups with random requests
// (seeded, so runs are comparable). Prints the tick's p50/p95 over many ticks; last line JSON.
import { performance } from 'node:perf_hooks';
import { DEFAULT_DECISION_SETTINGS, checkPlan, decide, planWarmPool } from '../src/core/decision/index.js';
import type { DecisionGroup, DecisionInput, DecisionRequest, DecisionServer } from '../src/core/decision/index.js';

const SERVERS = 10_000;
const GROUPS = 1_000;
const TICKS = Number(process.env.TICKS ?? 200);

/** mulberry32 is a small seeded generator: the same seed gives the same fleets. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fleet(seed: number): DecisionInput {
  const r = rng(seed);
  const now = 1_700_000_000_000;
  const groups: DecisionGroup[] = [];
  for (let i = 0; i < GROUPS; i++) {
    const committed = 2 + Math.floor(r() * 6);
    const burst = committed * 2;
    groups.push({
      id: `g${i}`,
      committed,
      burst,
      extended: burst * 2,
      minSize: 1,
      maxSize: 100,
      priority: Math.round(r() * 10) / 10,
      joining: r() < 0.02 ? 1 : 0,
    });
  }
  const servers: DecisionServer[] = [];
  for (let i = 0; i < SERVERS; i++) {
    const x = r();
    const movedAt = r() < 0.1 ? now - Math.floor(r() * 60_000) : null;
    if (x < 0.9)
      servers.push({ id: `s${i}`, spot: 'group', groupId: `g${Math.floor(r() * GROUPS)}`, temp: null, movedAt });
    else if (x < 0.95)
      servers.push({
        id: `s${i}`,
        spot: 'pool',
        groupId: r() < 0.3 ? `g${Math.floor(r() * GROUPS)}` : null,
        temp: r() < 0.3 ? 'warm' : 'cold',
        movedAt,
      });
    else if (x < 0.98) servers.push({ id: `s${i}`, spot: 'moving', groupId: null, temp: null, movedAt });
    else servers.push({ id: `s${i}`, spot: 'failed', groupId: null, temp: null, movedAt });
  }
  const requests: DecisionRequest[] = [];
  for (let i = 0; i < GROUPS; i++) {
    const x = r();
    const source = r() < 0.05 ? 'failure' : r() < 0.2 ? 'predicted' : 'agent';
    if (x < 0.3)
      requests.push({
        id: `q${i}`,
        groupId: `g${i}`,
        kind: 'add',
        count: 1 + Math.floor(r() * 3),
        urgency: r(),
        source,
      });
    else if (x < 0.5)
      requests.push({ id: `q${i}`, groupId: `g${i}`, kind: 'release', count: 1, urgency: r(), source: 'agent' });
  }
  const recent = Array.from({ length: 200 }, (_, i) => ({
    serverId: `s${i * 7}`,
    fromGroup: `g${Math.floor(r() * GROUPS)}`,
    toGroup: `g${Math.floor(r() * GROUPS)}`,
    at: now - Math.floor(r() * 300_000),
  }));
  // A tick with a budget large enough that sourcing, not the limit, dominates.
  return {
    tickId: `bench-${seed}`,
    now,
    servers,
    groups,
    requests,
    recent,
    settings: { ...DEFAULT_DECISION_SETTINGS, maxMovesPerTick: 200, warmPoolSize: 20 },
  };
}

const inputs = Array.from({ length: 8 }, (_, i) => fleet(i + 1));
for (const inp of inputs) {
  const v = checkPlan(inp, decide(inp));
  if (v.length > 0) throw new Error(`plan broke its invariants: ${JSON.stringify(v.slice(0, 3))}`);
}
for (let i = 0; i < 20; i++) decide(inputs[i % inputs.length] as DecisionInput);
const times: number[] = [];
let moves = 0;
for (let i = 0; i < TICKS; i++) {
  const inp = inputs[i % inputs.length] as DecisionInput;
  const t0 = performance.now();
  const plan = decide(inp);
  planWarmPool(inp, plan);
  times.push(performance.now() - t0);
  moves += plan.moves.length;
}
times.sort((a, b) => a - b);
const q = (p: number) =>
  Math.round((times[Math.min(times.length - 1, Math.floor(p * times.length))] as number) * 100) / 100;
console.log(
  `${TICKS} ticks; moves per tick ${(moves / TICKS).toFixed(1)}; p50 ${q(0.5)} ms p95 ${q(0.95)} ms max ${q(1 - 1e-9)} ms`,
);
console.log(
  JSON.stringify({
    bench: 'decide',
    servers: SERVERS,
    groups: GROUPS,
    p50_ms: q(0.5),
    p95_ms: q(0.95),
    moves_per_tick: Math.round((moves / TICKS) * 10) / 10,
  }),
);
