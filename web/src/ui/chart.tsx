/**
 * Chart draws time series with uPlot: one line per series over a shared time axis, resized with
 * its container. Lines marked dashed are references (an SLA target), not measurements.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Series is one line of a chart. */
export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly (number | null)[];
  readonly dashed?: boolean;
  readonly stepped?: boolean;
}

/** PALETTE gives each group a stable colour. */
export const PALETTE = [
  '#0e7490',
  '#c2410c',
  '#7c3aed',
  '#15803d',
  '#be123c',
  '#a16207',
  '#1d4ed8',
  '#4d7c0f',
] as const;

/** Chart is a uPlot time-series chart; times are in milliseconds. */
export function Chart(props: {
  title: string;
  unit: string;
  times: readonly number[];
  series: readonly Series[];
  height?: number;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => `${s.label}|${s.colour}|${s.dashed ? 1 : 0}`).join(',');
  const data: uPlot.AlignedData = [
    props.times.map((t) => t / 1000),
    ...props.series.map((s) => s.values as (number | null)[]),
  ];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: props.height ?? 220,
        // The legend names the lines; values under a cursor add nothing to a live view (and read '--' without one).
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, lo, hi) => [Math.min(0, lo), Math.max(1, hi * 1.1)] } },
        axes: [
          { stroke: '#64748b', grid: { stroke: '#eef2f6' } },
          { stroke: '#64748b', grid: { stroke: '#eef2f6' }, label: props.unit, size: 56 },
        ],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: s.dashed ? 1.5 : 2,
            ...(s.dashed ? { dash: [6, 4] } : {}),
            ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
            points: { show: false },
            spanGaps: true,
          })),
        ],
      },
      data,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(300, el.clientWidth), height: props.height ?? 220 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The plot is rebuilt only when its series change; new points go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <div class="chart" data-testid={props.testId}>
      <div class="chart-title">{props.title}</div>
      <div ref={box} />
    </div>
  );
}
