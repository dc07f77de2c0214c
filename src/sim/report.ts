/**
 * report turns a run into a JSON summary and a self-contained HTML page with SVG charts drawn
 * here (no library, no script): demand against allocated servers per chart customer as in the
 * seed's Figure 10, powered servers and pool size per policy, customers in violation, and with
 * a sweep its trade-off picture (report-sweep.ts), also written alone as sweep.svg.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BOUND_NOTES, isBound } from './optimum.js';
import { sweepChart } from './report-sweep.js';
import type { PolicyResult, SimResult } from './run.js';
import { esc, gridX, gridY, niceCeil, POLICY_COLOURS, svgClose, svgOpen, tickLabel } from './svg.js';
import type { Frame } from './svg.js';
import type { SweepPoint, SweepResult } from './sweep.js';

export { POLICY_COLOURS } from './svg.js';

/** PolicySummary is one policy's line of the JSON summary. */
export interface PolicySummary extends Pick<
  PolicyResult,
  'policy' | 'serverHours' | 'violationMinutes' | 'moves' | 'crossSiteMoves' | 'releases' | 'failures' | 'revenue'
> {
  readonly peakPoweredServers: number;
  /** bound is a bound's one-line explanation (null for a simulated policy). */
  readonly bound: string | null;
  /** serverHoursVsStaticPct is how many % fewer server-hours than static peak (null without static). */
  readonly serverHoursVsStaticPct: number | null;
  readonly wallMs: number;
  readonly customers: readonly {
    readonly id: string;
    readonly serverHours: number;
    readonly violationMinutes: number;
    readonly revenue: number | null;
  }[];
}

/** Summary is the JSON report. */
export interface Summary {
  readonly scenario: string;
  readonly description: string;
  readonly seed: number;
  readonly days: number;
  readonly tickSeconds: number;
  readonly sites: number;
  readonly servers: number;
  readonly customers: number;
  readonly policies: readonly PolicySummary[];
  /** checks are the issue's acceptance comparisons, where the policies they name were run. */
  readonly checks: {
    readonly hostfleetSavesVsStaticPct: number | null;
    readonly hostfleetAtLeast30PctBelowStatic: boolean | null;
    /** The decision policy's targets (docs/BENCHMARKS.md, policy): against HPA at its default, and against the optimum. */
    readonly hostfleet10PctFewerServerHoursThanHpa: boolean | null;
    readonly hostfleet25PctFewerViolationsThanHpa: boolean | null;
    readonly hostfleetWithin125PctOfOptimum: boolean | null;
  };
  /** sweep has every point of `hostfleet sim --sweep` (absent without it). */
  readonly sweep?: { readonly runs: number; readonly points: readonly SweepPoint[] };
  readonly wallMs: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** summarise builds the JSON summary of a run (and of its sweep). */
export function summarise(res: SimResult, sweep?: SweepResult): Summary {
  const by = new Map(res.policies.map((p) => [p.policy, p]));
  const st = by.get('static');
  const hf = by.get('hostfleet');
  const hpa = by.get('hpa');
  const opt = by.get('optimum');
  const vsStatic = (p: PolicyResult) => (st ? r1((100 * (st.serverHours - p.serverHours)) / st.serverHours) : null);
  const s = res.scenario;
  return {
    scenario: s.name,
    description: s.description.trim(),
    seed: s.seed,
    days: s.days,
    tickSeconds: s.tickSeconds,
    sites: s.sites.length,
    servers: res.fleetSize,
    customers: s.customers.length,
    policies: res.policies.map((p) => ({
      policy: p.policy,
      serverHours: r1(p.serverHours),
      violationMinutes: r1(p.violationMinutes),
      moves: p.moves,
      crossSiteMoves: p.crossSiteMoves,
      releases: p.releases,
      failures: p.failures,
      revenue: p.revenue === null ? null : Math.round(p.revenue * 100) / 100,
      peakPoweredServers: p.peakPowered,
      bound: isBound(p.policy) ? `${BOUND_NOTES[p.policy].label}: ${BOUND_NOTES[p.policy].note}` : null,
      serverHoursVsStaticPct: vsStatic(p),
      wallMs: Math.round(p.wallMs),
      customers: p.customers.map((c) => ({
        id: c.id,
        serverHours: r1(c.serverHours),
        violationMinutes: r1(c.violationMinutes),
        revenue: c.revenue === null ? null : Math.round(c.revenue * 100) / 100,
      })),
    })),
    checks: {
      hostfleetSavesVsStaticPct: hf ? vsStatic(hf) : null,
      hostfleetAtLeast30PctBelowStatic: hf && st ? hf.serverHours <= 0.7 * st.serverHours : null,
      hostfleet10PctFewerServerHoursThanHpa: hf && hpa ? hf.serverHours <= 0.9 * hpa.serverHours : null,
      hostfleet25PctFewerViolationsThanHpa: hf && hpa ? hf.violationMinutes <= 0.75 * hpa.violationMinutes : null,
      hostfleetWithin125PctOfOptimum: hf && opt ? hf.serverHours <= 1.25 * opt.serverHours : null,
    },
    ...(sweep ? { sweep: { runs: sweep.runs, points: sweep.points } } : {}),
    wallMs: Math.round(res.wallMs),
  };
}

/** downsample reduces a series to at most `points` by bucket mean (or max). */
export function downsample(v: ArrayLike<number>, points: number, how: 'mean' | 'max' = 'mean'): number[] {
  const k = Math.max(1, Math.ceil(v.length / points));
  const out: number[] = [];
  for (let i = 0; i < v.length; i += k) {
    let a = how === 'max' ? -Infinity : 0;
    const end = Math.min(v.length, i + k);
    for (let j = i; j < end; j++) a = how === 'max' ? Math.max(a, v[j] as number) : a + (v[j] as number);
    out.push(how === 'max' ? a : a / (end - i));
  }
  return out;
}

interface Series {
  readonly name: string;
  readonly colour: string;
  readonly values: ArrayLike<number>;
  readonly dash?: boolean;
  readonly width?: number;
}

/** lineChart draws series over the run's time axis as an SVG string. */
export function lineChart(
  title: string,
  yLabel: string,
  series: readonly Series[],
  startMs: number,
  spanMs: number,
  how: 'mean' | 'max' = 'mean',
): string {
  const frame: Frame = { W: 1260, H: 260, L: 60, R: 200, T: 28, B: 34 };
  const { W, H, L, R, T, B } = frame;
  const pts = 700;
  const ds = series.map((s) => downsample(s.values, pts, how));
  let ymax = 0;
  for (const d of ds) for (const x of d) if (x > ymax) ymax = x;
  ymax = ymax <= 0 ? 1 : niceCeil(ymax);
  const x = (i: number, n: number) => L + ((W - L - R) * i) / Math.max(1, n - 1);
  const y = (v: number) => T + (H - T - B) * (1 - v / ymax);
  const out: string[] = [svgOpen(frame, title, yLabel)];
  for (let k = 0; k <= 4; k++) out.push(gridY(frame, y((ymax * k) / 4), tickLabel((ymax * k) / 4)));
  const days = Math.round(spanMs / 86_400_000);
  for (let d = 0; d <= days; d++) {
    const label = new Date(startMs + d * 86_400_000).toISOString().slice(5, 10);
    out.push(gridX(frame, L + ((W - L - R) * d) / Math.max(1, days), label));
  }
  ds.forEach((d, si) => {
    const s = series[si] as Series;
    const path = d.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i, d.length).toFixed(1)} ${y(v).toFixed(1)}`).join('');
    out.push(
      `<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="${s.width ?? 1.4}"${s.dash ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    out.push(
      `<line x1="${W - R + 12}" x2="${W - R + 36}" y1="${T + 10 + si * 18}" y2="${T + 10 + si * 18}" stroke="${s.colour}" stroke-width="3"${s.dash ? ' stroke-dasharray="4 3"' : ''}/><text x="${W - R + 42}" y="${T + 14 + si * 18}">${esc(s.name)}</text>`,
    );
  });
  out.push(svgClose(frame));
  return out.join('');
}

/** renderHtml is the report page (with the sweep's picture when there is one). */
export function renderHtml(res: SimResult, sum: Summary = summarise(res), sweep?: SweepResult): string {
  const s = res.scenario;
  const span = res.ticks * s.tickSeconds * 1000;
  const sim = res.policies.filter((p) => !isBound(p.policy));
  const rows = sum.policies
    .map(
      (p) =>
        `<tr><td><span class="dot" style="background:${POLICY_COLOURS[p.policy]}"></span>${p.policy}</td><td>${p.serverHours.toLocaleString('en')}</td><td>${p.serverHoursVsStaticPct ?? ''}</td><td>${p.violationMinutes.toLocaleString('en')}</td><td>${p.moves}</td><td>${p.crossSiteMoves}</td><td>${p.failures}</td><td>${p.peakPoweredServers}</td><td>${p.revenue === null ? '—' : p.revenue.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}</td><td class="what">${esc(p.bound ?? '')}</td></tr>`,
    )
    .join('');
  const charts = res.chartCustomers.map((id, k) => {
    const series: Series[] = [
      { name: 'needed for the SLA', colour: '#111', values: res.demandServers[k] as Float32Array, width: 2.2 },
    ];
    for (const p of res.policies)
      if (!isBound(p.policy))
        series.push({ name: p.policy, colour: POLICY_COLOURS[p.policy], values: p.chart[k] as Float32Array });
    const c = s.customers.find((x) => x.id === id);
    return lineChart(
      `${id} (${c?.site ?? ''}): demand against active servers`,
      'servers',
      series,
      s.start,
      span,
      'max',
    );
  });
  const check = (b: boolean | null) => (b === null ? '—' : b ? '✔ yes' : '✘ no');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hostfleet sim: ${esc(s.name)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1300px}table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child,td.what{text-align:left}td.what{color:#555;font-size:90%;max-width:420px}th{background:#f4f4f4}.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}h2{margin-top:26px}p.note{color:#555;max-width:1100px}</style></head><body>
<h1>hostfleet simulation: ${esc(s.name)}</h1>
<p class="note">${esc(s.description)}</p>
<p class="note">${sum.customers} customers, ${sum.servers} servers in ${sum.sites} sites (${s.sites.map((x) => `${esc(x.id)} UTC${x.utcOffsetHours >= 0 ? '+' : ''}${x.utcOffsetHours}: ${x.servers}`).join(', ')}), ${s.days} days at ${s.tickSeconds}-second ticks, seed ${s.seed}. A minute violates the SLA when its p95 response time (M/M/c per customer, ${s.server.workers} workers × ${s.server.serviceMs} ms per server) is above the target. Server-hours count every powered server: warm pool, booting, serving and draining.</p>
<h2>Summary</h2>
<table><tr><th>policy</th><th>server-hours</th><th>% fewer than static</th><th>SLA-violating minutes</th><th>moves</th><th>between sites</th><th>failures</th><th>peak powered</th><th>revenue (${esc(s.billing.currency)})</th><th>bound</th></tr>${rows}</table>
<table><tr><th>check</th><th>result</th></tr>
<tr><td>hostfleet uses ≥ 30 % fewer server-hours than static peak (${sum.checks.hostfleetSavesVsStaticPct ?? '—'} %)</td><td>${check(sum.checks.hostfleetAtLeast30PctBelowStatic)}</td></tr>
<tr><td>hostfleet uses ≥ 10 % fewer server-hours than HPA</td><td>${check(sum.checks.hostfleet10PctFewerServerHoursThanHpa)}</td></tr>
<tr><td>… and misses ≥ 25 % fewer SLA minutes than HPA</td><td>${check(sum.checks.hostfleet25PctFewerViolationsThanHpa)}</td></tr>
<tr><td>hostfleet uses at most 1.25 × the optimum's server-hours</td><td>${check(sum.checks.hostfleetWithin125PctOfOptimum)}</td></tr></table>
<p class="note">The bounds know the future, ignore failures and the fleet's size, and never violate. optimum bounds every policy; optimum-cold, tighter, bounds those that add servers only from the cold pool and release them to it (static, HPA) — hostfleet's warm pool and moves straight between customers can take it below optimum-cold.</p>
${
  sweep
    ? `<h2>Trade-off: each policy across its dial</h2>
<p class="note">${sweep.runs} runs besides the one above, same seed. HPA's target utilisation and hostfleet's price of a violating minute (server-hours) are swept; filled, labelled points are the settings this report's other figures use; the dashed lines are the bounds.</p>
${sweepChart(`${s.name}: server-hours against SLA-violating minutes`, sweep)}`
    : ''
}
<h2>Demand against allocated capacity (Figure 10)</h2>
${charts.join('\n')}
<h2>Fleet</h2>
${lineChart(
  'Powered servers',
  'servers',
  res.policies.map((p) => ({ name: p.policy, colour: POLICY_COLOURS[p.policy], values: p.powered })),
  s.start,
  span,
)}
${lineChart(
  'Pool size (cold + warm)',
  'servers',
  sim.map((p) => ({ name: p.policy, colour: POLICY_COLOURS[p.policy], values: p.pool })),
  s.start,
  span,
)}
${lineChart(
  'Customers in SLA violation (most in each interval)',
  'customers',
  sim.map((p) => ({ name: p.policy, colour: POLICY_COLOURS[p.policy], values: p.violating })),
  s.start,
  span,
  'max',
)}
</body></html>`;
}

/** writeReport writes summary.json and report.html into dir, and sweep.svg with a sweep. */
export async function writeReport(
  res: SimResult,
  dir: string,
  sweep?: SweepResult,
): Promise<{ summary: Summary; html: string; json: string; svg: string | null }> {
  await mkdir(dir, { recursive: true });
  const summary = summarise(res, sweep);
  const json = join(dir, 'summary.json');
  const html = join(dir, 'report.html');
  const svg = sweep ? join(dir, 'sweep.svg') : null;
  await writeFile(json, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(html, renderHtml(res, summary, sweep));
  if (svg !== null && sweep)
    await writeFile(svg, sweepChart(`${res.scenario.name}: server-hours against SLA-violating minutes`, sweep));
  return { summary, html, json, svg };
}
