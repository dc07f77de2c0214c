/**
 * report-sweep draws a sweep (sweep.ts) as one SVG: server-hours across, SLA-violating minutes
 * up on a log(1 + minutes) scale (they run from none to thousands, and the few matter), one
 * curve per policy with a dial through its points in dial order, each policy's default point
 * filled and labelled, policies without a dial as single points and the bounds as vertical
 * lines (they never violate). Down and to the left is better; a curve below another over the
 * same server-hours buys fewer violations with them.
 */
import { BOUND_NOTES, isBound } from './optimum.js';
import type { PolicyName } from './scenario.js';
import { esc, gridX, gridY, niceTicks, POLICY_COLOURS, svgClose, svgOpen, tickLabel } from './svg.js';
import type { Frame } from './svg.js';
import type { SweepPoint, SweepResult } from './sweep.js';

const DIAL_LABELS: Readonly<Record<string, string>> = {
  'hpa.targetUtilisation': 'target utilisation',
  'hostfleet.violationCost': 'violation cost (server-hours a minute)',
};

/** DASH tells the two bounds' lines apart. */
const DASH: Readonly<Record<string, string>> = { optimum: '6 4', 'optimum-cold': '2 3' };

/** MINUTE_TICKS are the violating-minute axis' candidate ticks: decades and the 3s between them. */
const MINUTE_TICKS = [0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000];

/** sweepChart is the sweep's picture as an SVG string. */
export function sweepChart(title: string, sweep: SweepResult): string {
  const frame: Frame = { W: 1100, H: 560, L: 80, R: 330, T: 34, B: 56 };
  const { W, H, L, R, T, B } = frame;
  const pts = sweep.points;
  const lo = Math.min(...pts.map((p) => p.serverHours));
  const hi = Math.max(...pts.map((p) => p.serverHours));
  const pad = Math.max(1, (hi - lo) * 0.04);
  const xt = niceTicks(Math.max(0, lo - pad), hi + pad, 6);
  const x0 = xt[0] as number;
  const x1 = xt[xt.length - 1] as number;
  const top = 10 ** Math.max(1, Math.ceil(Math.log10(1 + Math.max(...pts.map((p) => p.violationMinutes)))));
  const x = (v: number) => L + ((W - L - R) * (v - x0)) / (x1 - x0);
  const y = (v: number) => T + (H - T - B) * (1 - Math.log10(1 + v) / Math.log10(1 + top));
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [svgOpen(frame, title, 'SLA-violating minutes, log scale (fewer: down)')];
  for (const v of MINUTE_TICKS.filter((m) => m <= top)) out.push(gridY(frame, y(v), tickLabel(v)));
  for (const v of xt) out.push(gridX(frame, x(v), tickLabel(v)));
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">server-hours (fewer: left)</text>`);
  const legend: string[] = [];
  for (const policy of [...new Set(pts.map((p) => p.policy))]) {
    const mine = pts.filter((p) => p.policy === policy);
    const colour = POLICY_COLOURS[policy];
    const first = mine[0] as SweepPoint;
    const row = (text: string) => legendRow(W - R + 14, legend.length, colour, text, policy);
    if (isBound(policy)) {
      const xx = f(x(first.serverHours));
      const tip = `${policy}: ${first.serverHours.toLocaleString('en')} server-hours — ${BOUND_NOTES[policy].note}`;
      out.push(
        `<line x1="${xx}" x2="${xx}" y1="${T}" y2="${H - B}" stroke="${colour}" stroke-width="2" stroke-dasharray="${DASH[policy]}"><title>${esc(tip)}</title></line>`,
      );
      legend.push(row(`${policy} (${BOUND_NOTES[policy].label})`));
      continue;
    }
    if (mine.length > 1) {
      const d = mine.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(x(p.serverHours))} ${f(y(p.violationMinutes))}`);
      out.push(`<path data-policy="${policy}" d="${d.join('')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    }
    for (const p of mine) out.push(dot(p, colour, x(p.serverHours), y(p.violationMinutes)));
    legend.push(row(first.dial === null ? policy : `${policy}: ${DIAL_LABELS[first.dial]}`));
  }
  out.push(...legend);
  out.push(svgClose(frame));
  return out.join('');
}

/** dot is one point with its dial value (the default point bigger, filled and named). */
function dot(p: SweepPoint, colour: string, cx: number, cy: number): string {
  const at = `${p.serverHours.toLocaleString('en')} server-hours, ${p.violationMinutes.toLocaleString('en')} violating minutes`;
  const value = p.value === null ? '' : String(p.value);
  const label = p.dial === null ? p.policy : p.isDefault ? `${p.policy} default (${value})` : value;
  const tip = p.dial === null ? `${p.policy}: ${at}` : `${p.policy}, ${p.dial} = ${value}: ${at}`;
  const r = p.isDefault ? 6 : 3.5;
  const bold = p.isDefault ? ' font-weight="bold"' : '';
  return (
    `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r}" fill="${p.isDefault ? colour : '#fff'}" stroke="${colour}" stroke-width="2"><title>${esc(tip)}</title></circle>` +
    `<text x="${(cx + r + 3).toFixed(1)}" y="${(cy - r - 2).toFixed(1)}" font-size="${p.isDefault ? 12 : 10}"${bold} fill="${colour}">${esc(label)}</text>`
  );
}

/** legendRow is one line of the legend: a dot for a policy, the line's dash for a bound. */
function legendRow(x0: number, i: number, colour: string, text: string, policy: PolicyName): string {
  const yy = 44 + i * 20;
  const sym = isBound(policy)
    ? `<line x1="${x0}" x2="${x0 + 20}" y1="${yy}" y2="${yy}" stroke="${colour}" stroke-width="2" stroke-dasharray="${DASH[policy]}"/>`
    : `<circle cx="${x0 + 10}" cy="${yy}" r="5" fill="${colour}"/>`;
  return `${sym}<text x="${x0 + 26}" y="${yy + 4}">${esc(text)}</text>`;
}
