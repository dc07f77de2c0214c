/**
 * svg holds what the report's hand-drawn SVG charts share: the policies' colours, escaping,
 * round axis limits and the opening tag (self-contained: no library, no script).
 */
import type { PolicyName } from './scenario.js';

/** POLICY_COLOURS gives each policy one colour in every chart (the bounds: two greens). */
export const POLICY_COLOURS: Readonly<Record<PolicyName, string>> = {
  static: '#8c8c8c',
  hpa: '#d9822b',
  hostfleet: '#2b6cd9',
  optimum: '#2ca05a',
  'optimum-cold': '#0f5c2e',
};

/** esc escapes text for SVG and HTML. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STEPS = [1, 1.2, 1.6, 2, 2.4, 3, 4, 6, 8, 10];

/** niceCeil is the smallest round number (1, 1.2, 1.6, 2, 2.4, 3, 4, 6, 8 × a power of ten) at or above v > 0. */
export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of STEPS) if (m * p >= v) return m * p;
  return 10 * p;
}

/** niceFloor is the largest such round number at or below v > 0. */
export function niceFloor(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (let i = STEPS.length - 1; i >= 0; i--) if ((STEPS[i] as number) * p <= v) return (STEPS[i] as number) * p;
  return p;
}

/** niceTicks are round axis values covering [lo, hi] in about n steps (1, 2, 2.5 or 5 × a power of ten apart). */
export function niceTicks(lo: number, hi: number, n: number): number[] {
  const raw = Math.max(hi - lo, 1e-9) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step - 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

/** tickLabel prints an axis value: whole numbers with thousands separators, others with one decimal. */
export function tickLabel(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(1);
}

/** Frame is a chart's size and its plot area's margins (left, right, top, bottom), in pixels. */
export interface Frame {
  readonly W: number;
  readonly H: number;
  readonly L: number;
  readonly R: number;
  readonly T: number;
  readonly B: number;
}

/** svgOpen is a chart's opening tag, its title and the y axis' name. */
export function svgOpen(f: Frame, title: string, yLabel: string): string {
  return (
    `<svg viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" height="${f.H}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12"><text x="${f.L}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>` +
    `<text transform="translate(16 ${(f.T + f.H - f.B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`
  );
}

/** gridY is a horizontal grid line at pixel y, labelled on the left. */
export function gridY(f: Frame, y: number, label: string): string {
  return `<line x1="${f.L}" x2="${f.W - f.R}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/><text x="${f.L - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(label)}</text>`;
}

/** gridX is a vertical grid line at pixel x, labelled below the plot. */
export function gridX(f: Frame, x: number, label: string): string {
  return `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${f.T}" y2="${f.H - f.B}" stroke="#f0f0f0"/><text x="${x.toFixed(1)}" y="${f.H - f.B + 16}" text-anchor="middle">${esc(label)}</text>`;
}

/** svgClose draws the plot area's border and closes the chart. */
export function svgClose(f: Frame): string {
  return `<rect x="${f.L}" y="${f.T}" width="${f.W - f.L - f.R}" height="${f.H - f.T - f.B}" fill="none" stroke="#999"/></svg>`;
}
