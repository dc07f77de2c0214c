/**
 * surface samples the FIS's output over two of its inputs with the others held fixed, and draws
 * it as an SVG heat map with contour lines — the seed's decision surface (Figure 17): the need to
 * add (red) or release (blue) a server over expected response time × probability, at one
 * priority. Pure: it returns the SVG text; the CLI writes it (and rasterises it to PNG).
 */
import { invalid } from '../errors.js';
import { evaluateFisInto } from './fis-engine.js';
import type { CompiledFis } from './fis-engine.js';

/** SurfaceOptions choose the axes and the fixed inputs. */
export interface SurfaceOptions {
  /** x is the input on the horizontal axis (default: the third input, response). */
  readonly x?: string;
  /** y is the input on the vertical axis (default: the second input, probability). */
  readonly y?: string;
  /** fixed holds the value of every other input (default: the middle of its range). */
  readonly fixed?: Readonly<Record<string, number>>;
  /** nx and ny are the grid sizes (default 61 × 61). */
  readonly nx?: number;
  readonly ny?: number;
  /** output is the 0-based output to sample (default 0). */
  readonly output?: number;
}

/** Surface is a sampled output over a grid; z[j * nx + i] is at (xs[i], ys[j]). */
export interface Surface {
  readonly xName: string;
  readonly yName: string;
  readonly outName: string;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly z: Float64Array;
  readonly zRange: readonly [number, number];
  readonly fixed: Readonly<Record<string, number>>;
}

/** sampleSurface evaluates the FIS on the grid. */
export function sampleSurface(f: CompiledFis, opts: SurfaceOptions = {}): Surface {
  const names = f.spec.inputs.map((v) => v.name);
  if (names.length < 2) throw invalid([{ field: 'inputs', problem: 'a surface needs a FIS with at least two inputs' }]);
  const xName = opts.x ?? ((names[2] ?? names[0]) as string);
  const yName = opts.y ?? (names[1] as string);
  const xi = names.indexOf(xName);
  const yi = names.indexOf(yName);
  if (xi < 0) throw invalid([{ field: 'x', problem: `unknown input '${xName}'; inputs: ${names.join(', ')}` }]);
  if (yi < 0) throw invalid([{ field: 'y', problem: `unknown input '${yName}'; inputs: ${names.join(', ')}` }]);
  if (xi === yi) throw invalid([{ field: 'y', problem: 'must differ from x' }]);
  const o = opts.output ?? 0;
  const out = f.spec.outputs[o];
  if (out === undefined) throw invalid([{ field: 'output', problem: `must be 0..${f.nOut - 1}` }]);
  const nx = opts.nx ?? 61;
  const ny = opts.ny ?? 61;
  if (!Number.isInteger(nx) || nx < 2 || nx > 1000 || !Number.isInteger(ny) || ny < 2 || ny > 1000)
    throw invalid([{ field: 'nx/ny', problem: 'must be whole numbers from 2 to 1000' }]);
  const fixed: Record<string, number> = {};
  const input = new Float64Array(f.nIn);
  f.spec.inputs.forEach((v, i) => {
    if (i === xi || i === yi) return;
    const given = opts.fixed?.[v.name];
    const val = given ?? (v.range[0] + v.range[1]) / 2;
    if (!Number.isFinite(val)) throw invalid([{ field: `fixed.${v.name}`, problem: 'must be a finite number' }]);
    fixed[v.name] = val;
    input[i] = val;
  });
  for (const k of Object.keys(opts.fixed ?? {})) {
    if (!(k in fixed))
      throw invalid([
        {
          field: `fixed.${k}`,
          problem: `not an input held fixed; fixed inputs: ${Object.keys(fixed).join(', ') || 'none'}`,
        },
      ]);
  }
  const xv = f.spec.inputs[xi]!.range;
  const yv = f.spec.inputs[yi]!.range;
  const xs = new Float64Array(nx).map((_, i) => xv[0] + ((xv[1] - xv[0]) * i) / (nx - 1));
  const ys = new Float64Array(ny).map((_, j) => yv[0] + ((yv[1] - yv[0]) * j) / (ny - 1));
  const z = new Float64Array(nx * ny);
  const res = new Float64Array(f.nOut);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      input[xi] = xs[i] as number;
      input[yi] = ys[j] as number;
      evaluateFisInto(f, input, res);
      z[j * nx + i] = res[o] as number;
    }
  }
  return { xName, yName, outName: out.name, xs, ys, z, zRange: [out.range[0], out.range[1]], fixed };
}

/** colourOf maps t ∈ [0, 1] to a diverging blue–white–red colour (ColorBrewer RdBu ends). */
export function colourOf(t: number): string {
  const c = t < 0 ? 0 : t > 1 ? 1 : t;
  const lo = [33, 102, 172];
  const mid = [247, 247, 247];
  const hi = [178, 24, 43];
  const [a, b, u] = c < 0.5 ? [lo, mid, c / 0.5] : [mid, hi, (c - 0.5) / 0.5];
  const ch = (k: number): string =>
    Math.round((a[k] as number) + ((b[k] as number) - (a[k] as number)) * u)
      .toString(16)
      .padStart(2, '0');
  return `#${ch(0)}${ch(1)}${ch(2)}`;
}

/** contourSegments returns the marching-squares segments of level `lv` in grid coordinates (i, j). */
export function contourSegments(s: Surface, lv: number): [number, number, number, number][] {
  const nx = s.xs.length;
  const ny = s.ys.length;
  const segs: [number, number, number, number][] = [];
  const at = (i: number, j: number): number => s.z[j * nx + i] as number;
  for (let j = 0; j + 1 < ny; j++) {
    for (let i = 0; i + 1 < nx; i++) {
      const v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)] as const;
      const pts: [number, number][] = [];
      const corner = [
        [i, j],
        [i + 1, j],
        [i + 1, j + 1],
        [i, j + 1],
      ] as const;
      for (let e = 0; e < 4; e++) {
        const a = v[e] as number;
        const b = v[(e + 1) % 4] as number;
        if (a < lv !== b < lv) {
          const t = (lv - a) / (b - a);
          const [x0, y0] = corner[e] as readonly [number, number];
          const [x1, y1] = corner[(e + 1) % 4] as readonly [number, number];
          pts.push([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t]);
        }
      }
      for (let k = 0; k + 1 < pts.length; k += 2) segs.push([pts[k]![0], pts[k]![1], pts[k + 1]![0], pts[k + 1]![1]]);
    }
  }
  return segs;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function ticks(lo: number, hi: number, n = 5): number[] {
  const out: number[] = [];
  for (let k = 0; k <= n; k++) out.push(lo + ((hi - lo) * k) / n);
  return out;
}

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/** RenderOptions style the SVG. */
export interface RenderOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** contours are output levels drawn as lines (default: the decision thresholds −0.3 and 0.3; 0 itself is noise on flat 'none' plateaus). */
  readonly contours?: readonly number[];
}

/** renderSurfaceSvg draws a surface: heat map, contour lines, axes with ticks, labels, title and a colour bar. */
export function renderSurfaceSvg(s: Surface, opts: RenderOptions = {}): string {
  const W = opts.width ?? 760;
  const H = opts.height ?? 600;
  const m = { l: 80, r: 130, t: 70, b: 70 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const nx = s.xs.length;
  const ny = s.ys.length;
  const [zlo, zhi] = s.zRange;
  const x0 = s.xs[0] as number;
  const x1 = s.xs[nx - 1] as number;
  const y0 = s.ys[0] as number;
  const y1 = s.ys[ny - 1] as number;
  const cw = pw / nx;
  const chh = ph / ny;
  // a sample sits at the centre of its cell; ticks and contours use the same mapping
  const px = (x: number): number => m.l + cw / 2 + ((x - x0) / (x1 - x0)) * (pw - cw);
  const py = (y: number): number => m.t + ph - chh / 2 - ((y - y0) / (y1 - y0)) * (ph - chh);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const title =
    opts.title ??
    `Decision surface: ${s.outName} over ${s.xName} × ${s.yName}${
      Object.keys(s.fixed).length
        ? ` (${Object.entries(s.fixed)
            .map(([k, v]) => `${k} = ${fmt(v)}`)
            .join(', ')})`
        : ''
    }`;
  parts.push(`<text x="${W / 2}" y="32" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>`);
  // heat map: one cell per sample, centred on it
  parts.push('<g shape-rendering="crispEdges">');
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const t = ((s.z[j * nx + i] as number) - zlo) / (zhi - zlo);
      const cx = m.l + (i / (nx - 1)) * (pw - cw);
      const cy = m.t + ph - chh - (j / (ny - 1)) * (ph - chh);
      parts.push(
        `<rect x="${cx.toFixed(2)}" y="${cy.toFixed(2)}" width="${(cw + 0.6).toFixed(2)}" height="${(chh + 0.6).toFixed(2)}" fill="${colourOf(t)}"/>`,
      );
    }
  }
  parts.push('</g>');
  // contours
  const gx = (i: number): number => m.l + cw / 2 + (i / (nx - 1)) * (pw - cw);
  const gy = (j: number): number => m.t + ph - chh / 2 - (j / (ny - 1)) * (ph - chh);
  for (const lv of opts.contours ?? [-0.3, 0.3]) {
    const d = contourSegments(s, lv)
      .map(([a, b, c, e]) => `M${gx(a).toFixed(1)} ${gy(b).toFixed(1)}L${gx(c).toFixed(1)} ${gy(e).toFixed(1)}`)
      .join('');
    if (d)
      parts.push(
        `<path d="${d}" fill="none" stroke="#222" stroke-width="1.2" stroke-dasharray="${lv < 0 ? '5 3' : 'none'}"><title>${s.outName} = ${fmt(lv)}</title></path>`,
      );
  }
  // frame and axes
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`);
  for (const v of ticks(x0, x1)) {
    const x = px(v);
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${m.t + ph}" x2="${x.toFixed(1)}" y2="${m.t + ph + 6}" stroke="#000"/><text x="${x.toFixed(1)}" y="${m.t + ph + 22}" text-anchor="middle">${fmt(v)}</text>`,
    );
  }
  for (const v of ticks(y0, y1)) {
    const y = py(v);
    parts.push(
      `<line x1="${m.l - 6}" y1="${y.toFixed(1)}" x2="${m.l}" y2="${y.toFixed(1)}" stroke="#000"/><text x="${m.l - 10}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 22}" text-anchor="middle">${esc(opts.xLabel ?? s.xName)}</text>`);
  parts.push(
    `<text transform="translate(24 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel ?? s.yName)}</text>`,
  );
  // colour bar
  const bx = m.l + pw + 30;
  const steps = 50;
  for (let k = 0; k < steps; k++) {
    const t = k / (steps - 1);
    const y = m.t + ph - ((k + 1) * ph) / steps;
    parts.push(
      `<rect x="${bx}" y="${y.toFixed(2)}" width="20" height="${(ph / steps + 0.6).toFixed(2)}" fill="${colourOf(t)}" shape-rendering="crispEdges"/>`,
    );
  }
  parts.push(`<rect x="${bx}" y="${m.t}" width="20" height="${ph}" fill="none" stroke="#000"/>`);
  for (const v of ticks(zlo, zhi, 4)) {
    const y = m.t + ph - ((v - zlo) / (zhi - zlo)) * ph;
    parts.push(
      `<line x1="${bx + 20}" y1="${y.toFixed(1)}" x2="${bx + 26}" y2="${y.toFixed(1)}" stroke="#000"/><text x="${bx + 30}" y="${(y + 4).toFixed(1)}">${fmt(v)}</text>`,
    );
  }
  parts.push(`<text x="${bx + 10}" y="${m.t - 12}" text-anchor="middle">${esc(s.outName)}</text>`);
  parts.push(`<text x="${bx + 10}" y="${m.t + ph + 40}" text-anchor="middle" font-size="11">−1 release</text>`);
  parts.push(`<text x="${bx + 10}" y="${m.t + ph + 54}" text-anchor="middle" font-size="11">+1 add</text>`);
  parts.push(
    `<text x="${m.l + pw}" y="${H - 6}" text-anchor="end" font-size="11">lines: ${(opts.contours ?? [-0.3, 0.3]).map((v) => `${s.outName} = ${fmt(v)}`).join(', ')} (dashed below 0)</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
