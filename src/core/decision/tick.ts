/**
 * tick is everything a site's manager decides in one decision tick, as one function: the
 * manager's loop and the simulator's hostfleet policy both gather the same input (the agents'
 * measured and forecast rates, the resource and SLA databases, failures and operator requests),
 * call tick, and carry out what it returns. Neither keeps decision logic of its own.
 *
 * The stages, each needing the one before:
 *   1. outlook — each group's forecast errors so far give it an upper bound on its arrival rate
 *                over the time a server needs to arrive (outlook.ts), at the quantile level its
 *                SLA price asks for (cost.ts);
 *   2. size    — the group wants the servers that carry that bound within its SLA (capacity.ts).
 *                Fewer held than wanted is an add request; more active than wanted, with no
 *                join in flight and no add within the hold time, is a release request: the
 *                bound covers the time it would take to bring the server back. An agent whose
 *                fuzzy inference asks for a server when the bound does not (its response time is
 *                off target now) gets one;
 *   3. decide  — the sized requests with the failure replacements, SLA top-ups and operator
 *                requests go to `decide` (plan.ts), which ranks and sources them;
 *   4. warm    — the warm pool is sized from the adds the bound did not see coming, per cold
 *                boot, and kept by `planWarmPool`;
 *   5. ask     — demand the site could not supply (no pool, no donor) is what it asks of other
 *                sites.
 *
 * The tick's state (each group's outlook, when it last received a server, the site's surprise
 * rate) is the caller's and is changed in place; everything else is plain data, so a recorded
 * input replayed on a copy of the state gives the same plan.
 */
import { DEFAULT_COST, levelFor } from './cost.js';
import type { CostModel } from './cost.js';
import { serversNeeded, tableFor } from './capacity.js';
import type { QueueSpec } from './capacity.js';
import { DEFAULT_DECISION_SETTINGS } from './input.js';
import type {
  DecisionGroup,
  DecisionInput,
  DecisionRequest,
  DecisionServer,
  DecisionSettings,
  RecentMove,
} from './input.js';
import { DEFAULT_OUTLOOK, lookAhead, newOutlook, observe, upperRate } from './outlook.js';
import type { Outlook, OutlookSettings } from './outlook.js';
import { decide } from './plan.js';
import type { Plan } from './plan.js';
import { planWarmPool } from './pool.js';
import type { WarmAction } from './pool.js';
import { floorOf } from './tiers.js';

/** AgentAsk is what the group's agent asked this tick through its fuzzy inference, if anything. */
export interface AgentAsk {
  readonly id: string;
  readonly kind: 'add' | 'release';
  readonly urgency: number;
  readonly serverId: string | null;
}

/** TickGroup is one group as the tick sees it: its SLA levels, its servers, and what its agents measured. */
export interface TickGroup extends DecisionGroup {
  /** active is how many servers serve the group now (joining ones are `joining`). */
  readonly active: number;
  /** queue is the group's capacity model; null when unknown (the group is then not sized, only served on request). */
  readonly queue: QueueSpec | null;
  /** measuredRps is the group's arrival rate over the last tick; null when no agent reported. */
  readonly measuredRps: number | null;
  /** forecastRps is the agent's forecast at its horizon; null when it has none yet. */
  readonly forecastRps: number | null;
  readonly agent: AgentAsk | null;
}

/** ServerLister lists servers on demand: a large site lists only the groups a tick touches (and the pool). */
export interface ServerLister {
  /** pool is how many servers the site's pool holds (warm and cold); warm how many of them are warm or warming. */
  readonly pool: number;
  readonly warm: number;
  /** list returns the pool's servers and the servers of the groups named. */
  list(groups: ReadonlySet<string>): readonly DecisionServer[];
}

/** TickSettings bound a tick: decide's settings, the price list, and the move times the bound must cover. */
export interface TickSettings extends DecisionSettings {
  readonly cost: CostModel;
  /** warmPool is how many pool servers to keep warm: 'auto' sizes it from the surprises per cold boot. */
  readonly warmPool: 'auto' | number;
  /** leadMs is how long a server from the cold pool takes to serve (the horizon a bound must cover). */
  readonly leadMs: number;
  /** holdMs: a group that received a server this recently releases none (it has not yet seen what the server does). */
  readonly holdMs: number;
  readonly outlook?: OutlookSettings;
}

/**
 * DEFAULT_TICK_SETTINGS: decide's defaults, the default price, an automatic warm pool, and move
 * times of a cold join of about two minutes (callers that know their fleet's set leadMs and holdMs).
 */
export const DEFAULT_TICK_SETTINGS: TickSettings = {
  ...DEFAULT_DECISION_SETTINGS,
  cost: DEFAULT_COST,
  warmPool: 'auto',
  leadMs: 140_000,
  holdMs: 140_000,
};

/** TickInput is one tick's snapshot. */
export interface TickInput {
  readonly tickId: string;
  readonly now: number;
  readonly groups: readonly TickGroup[];
  /** servers is every server of the site, or a lister that gives the ones the tick needs. */
  readonly servers: readonly DecisionServer[] | ServerLister;
  /** requests are the tick's other requests: failure replacements, SLA top-ups, operators. */
  readonly requests: readonly DecisionRequest[];
  readonly recent: readonly RecentMove[];
  readonly settings: TickSettings;
}

/** TickState is what a tick remembers for the next one. */
export interface TickState {
  readonly outlooks: Map<string, Outlook>;
  /** lastAdd is when each group last received a server (ms). */
  readonly lastAdd: Map<string, number>;
  /** surprises is the site's rate of shortfalls the bound did not foresee, per ms (an EWMA); short holds the groups short now. */
  surprises: number;
  readonly short: Set<string>;
  lastAt: number | null;
}

/** newTickState starts a site's state. */
export function newTickState(): TickState {
  return { outlooks: new Map(), lastAdd: new Map(), surprises: 0, short: new Set(), lastAt: null };
}

/** Sizing is one group's conclusion this tick (for the explain view and the tests). */
export interface Sizing {
  readonly groupId: string;
  readonly level: number;
  readonly upperRps: number;
  readonly want: number;
}

/** TickResult is what to carry out: the plan's moves, then the warm-pool actions, and what to ask of other sites. */
export interface TickResult {
  readonly plan: Plan;
  readonly warm: readonly WarmAction[];
  /** offsite is demand the site could not supply, by group. */
  readonly offsite: readonly { readonly groupId: string; readonly count: number }[];
  /** requests are every request decide saw (sized ones first). */
  readonly requests: readonly DecisionRequest[];
  readonly sizings: readonly Sizing[];
  /** warmTarget is the warm pool size this tick aimed at. */
  readonly warmTarget: number;
  /** input is what decide saw (null when nothing needed deciding). */
  readonly input: DecisionInput | null;
}

// A rate this small against one server's capacity counts as idle when forecasts are compared.
const IDLE_FRACTION = 0.05;
// The surprise rate forgets with a time constant of about a day.
const SURPRISE_MEMORY_MS = 86_400_000;

/** NOT_OFFSITE are the reasons a demand went unmet that another site's servers would not cure. */
const NOT_OFFSITE: ReadonlySet<string> = new Set([
  'at-ceiling',
  'at-max-size',
  'unknown-group',
  'release-below-floor',
  'release-cooling',
]);

/** tick decides one tick of a site; see the module comment. */
export function tick(state: TickState, input: TickInput): TickResult {
  const { now, settings } = input;
  // A server ordered now serves after the lead, and the tick sees the need one tick late: the
  // bound must reach that far.
  const horizonMs = settings.leadMs + (state.lastAt === null ? 0 : Math.max(0, now - state.lastAt));
  const sized: DecisionRequest[] = [];
  const sizings: Sizing[] = [];
  let surprise = 0;
  for (const g of input.groups) {
    if (g.queue === null || g.measuredRps === null) {
      if (g.agent) sized.push(agentRequest(g, 1));
      continue;
    }
    const { level, upper, table } = learn(state, g, g.queue, g.measuredRps, g.forecastRps, now, horizonMs, settings);
    const want = Math.min(serversNeeded(table, upper), g.extended);
    sizings.push({ groupId: g.id, level, upperRps: upper, want });
    const held = g.active + g.joining;
    // A shortfall that begins now (the measured rate needs more than the group holds, below its
    // ceiling) is a surprise the bound missed; one that goes on is the same surprise.
    const short = serversNeeded(table, g.measuredRps) > held && held < g.extended;
    if (short && !state.short.has(g.id)) surprise++;
    if (short) state.short.add(g.id);
    else state.short.delete(g.id);
    if (want > held) {
      sized.push({
        id: `size:${g.id}:${input.tickId}`,
        groupId: g.id,
        kind: 'add',
        count: want - held,
        urgency: g.agent?.kind === 'add' ? Math.max(g.agent.urgency, 0.5) : 0.5,
        source: g.agent?.kind === 'add' ? 'agent' : 'predicted',
        serverId: g.agent?.serverId ?? null,
      });
    } else if (g.agent?.kind === 'add' && g.joining === 0) {
      sized.push(agentRequest(g, 1));
    } else if (want < g.active && g.joining === 0 && g.active > floorOf(g)) {
      const last = state.lastAdd.get(g.id);
      if (last === undefined || now - last >= settings.holdMs)
        sized.push({
          id: `size:${g.id}:${input.tickId}`,
          groupId: g.id,
          kind: 'release',
          count: g.active - Math.max(want, floorOf(g)),
          urgency: 0,
          source: 'predicted',
          serverId: g.agent?.serverId ?? null,
        });
    }
  }
  if (state.lastAt !== null && now > state.lastAt) {
    const dt = now - state.lastAt;
    const w = Math.min(1, dt / SURPRISE_MEMORY_MS);
    state.surprises += w * (surprise / dt - state.surprises);
  }
  state.lastAt = now;
  const warmTarget =
    settings.warmPool === 'auto' ? Math.round(state.surprises * settings.leadMs) : Math.max(0, settings.warmPool);

  const requests = [...sized, ...input.requests];
  const lister = Array.isArray(input.servers) ? null : (input.servers as ServerLister);
  const empty = (): TickResult => ({
    plan: { tickId: input.tickId, at: now, moves: [], unmet: [], skipped: {} },
    warm: [],
    offsite: [],
    requests,
    sizings,
    warmTarget,
    input: null,
  });
  // A tick without requests changes nothing but the warm pool, which only moves when off target.
  if (requests.length === 0 && lister !== null && lister.warm === warmTarget) return empty();

  let servers: readonly DecisionServer[];
  let groups: readonly DecisionGroup[];
  if (lister === null) {
    servers = input.servers as readonly DecisionServer[];
    groups = input.groups;
  } else {
    // Only groups that ask, and the donors when the pool cannot cover the adds, need their servers listed;
    // every other group's active servers are folded into its joining count, so its held count stays exact.
    let adds = 0;
    const listed = new Set<string>();
    for (const r of requests) {
      listed.add(r.groupId);
      if (r.kind === 'add') adds += r.count;
    }
    const donors = adds > lister.pool;
    if (donors) for (const g of input.groups) if (g.active > g.committed) listed.add(g.id);
    servers = lister.list(listed);
    // When the pool covers every add and the warm pool is on target, no other group can take part
    // in the plan (no donor is drawn on, no warm-up ranked), so only the listed groups are passed.
    groups =
      !donors && lister.warm === warmTarget
        ? input.groups.filter((g) => listed.has(g.id))
        : input.groups.map((g) => (listed.has(g.id) ? g : { ...g, joining: g.joining + g.active }));
  }
  const decideInput: DecisionInput = {
    tickId: input.tickId,
    now,
    servers,
    groups,
    requests,
    recent: input.recent,
    settings: { ...settings, warmPoolSize: warmTarget },
  };
  const plan = decide(decideInput);
  for (const m of plan.moves) if (m.toGroup !== null) state.lastAdd.set(m.toGroup, now);
  const warm = planWarmPool(decideInput, plan);
  const offsite: { groupId: string; count: number }[] = [];
  // Whatever the site could not supply goes to other sites — an empty pool, donors that may not
  // give, the tick's bound — but not what the group's own ceiling or size limit stopped.
  for (const u of plan.unmet)
    if (!NOT_OFFSITE.has(u.code) && u.wanted > u.granted)
      offsite.push({ groupId: u.groupId, count: u.wanted - u.granted });
  return { plan, warm, offsite, requests, sizings, warmTarget, input: decideInput };
}

/**
 * learn is the outlook stage for one group: it settles the group's forecast errors due by now,
 * keeps this tick's estimate, and returns the group's level and upper rate bound with its
 * capacity table. A caller with history (the simulator's warm-up days, a restarted manager's
 * recorded rates) runs it over that history first, so the bound starts from what the group did.
 */
export function learn(
  state: TickState,
  g: Pick<TickGroup, 'id' | 'priority' | 'extended' | 'maxSize'>,
  queue: QueueSpec,
  measuredRps: number,
  forecastRps: number | null,
  now: number,
  horizonMs: number,
  settings: Pick<TickSettings, 'cost' | 'outlook'>,
) {
  const level = levelFor(settings.cost, g.priority);
  const table = tableFor(queue, Math.max(g.extended, Number.isFinite(g.maxSize) ? g.maxSize : 0) + 1);
  const floorRps = IDLE_FRACTION * (table.lamMax[1] ?? 1);
  let o = state.outlooks.get(g.id);
  if (o === undefined) {
    o = newOutlook(settings.outlook);
    state.outlooks.set(g.id, o);
  }
  // A forecast the group has no record of yet (a young predictor's trend can run far ahead) is
  // trusted only up to the start-up margin above what the group measures.
  const young = o.size < (settings.outlook ?? DEFAULT_OUTLOOK).minErrors;
  const forecast =
    young && forecastRps !== null
      ? Math.min(forecastRps, measuredRps * Math.exp((settings.outlook ?? DEFAULT_OUTLOOK).initialUpper))
      : forecastRps;
  const estimate = lookAhead(o, now, measuredRps, forecast, horizonMs, settings.outlook);
  observe(o, now, measuredRps, estimate, horizonMs, level, floorRps, settings.outlook);
  return { level, upper: upperRate(o, estimate, settings.outlook), table };
}

function agentRequest(g: TickGroup, count: number): DecisionRequest {
  const a = g.agent as AgentAsk;
  return {
    id: a.id,
    groupId: g.id,
    kind: a.kind,
    count,
    urgency: a.urgency,
    source: 'agent',
    serverId: a.serverId,
  };
}
