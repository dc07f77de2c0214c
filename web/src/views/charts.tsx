/**
 * charts turns the sampled history of groups into the three live charts: load, p95 against the
 * SLA target, and servers per group over time.
 */
import type { Sample } from '../api.js';
import { Chart, PALETTE } from '../ui/chart.js';
import type { Series } from '../ui/chart.js';

/** GroupCharts draws load, p95 and servers for the given groups on one time axis. */
export function GroupCharts(props: {
  samples: Readonly<Record<string, readonly Sample[]>>;
  groups: readonly string[];
  compact?: boolean;
}) {
  const groups = props.groups;
  const times = [...new Set(groups.flatMap((g) => (props.samples[g] ?? []).map((s) => s.t)))].sort((a, b) => a - b);
  const col = (g: string) => PALETTE[groups.indexOf(g) % PALETTE.length] as string;
  const at = (g: string, f: (s: Sample) => number | null) => {
    const by = new Map((props.samples[g] ?? []).map((s) => [s.t, s]));
    return times.map((t) => {
      const s = by.get(t);
      return s ? f(s) : null;
    });
  };
  const load: Series[] = groups.map((g) => ({ label: g, colour: col(g), values: at(g, (s) => s.rps) }));
  // Each group's target is its SLA's, as sampled; a group whose samples carry none gets no
  // dashed line rather than a made-up one.
  const target = (g: string): number | null => props.samples[g]?.findLast((s) => s.targetMs !== null)?.targetMs ?? null;
  const p95: Series[] = groups.flatMap((g) => [
    { label: `${g} p95`, colour: col(g), values: at(g, (s) => s.p95Ms) },
    ...(target(g) === null
      ? []
      : [{ label: `${g} target`, colour: col(g), values: at(g, (s) => s.targetMs), dashed: true }]),
  ]);
  const targets = groups.flatMap((g) => {
    const t = target(g);
    return t === null ? [] : [{ g, t }];
  });
  const servers: Series[] = groups.map((g) => ({
    label: g,
    colour: col(g),
    values: at(g, (s) => s.servers),
    stepped: true,
  }));
  const h = props.compact ? 170 : 210;
  return (
    <div class={props.compact ? 'charts compact' : 'charts'}>
      <Chart
        title="Load (requests per second)"
        unit="req/s"
        times={times}
        series={load}
        height={h}
        testId="chart-load"
      />
      <div>
        <Chart
          title="p95 response time against the SLA target (dashed)"
          unit="ms"
          times={times}
          series={p95}
          height={h}
          testId="chart-p95"
        />
        {targets.length > 0 ? (
          <p class="chart-note" data-testid="sla-targets">
            SLA p95 targets:{' '}
            {targets.map(({ g, t }, i) => (
              <>
                {i > 0 ? ' · ' : ''}
                <span data-testid={`target-${g}`} data-target-ms={t}>
                  <span class="mono">{g}</span> {t} ms
                </span>
              </>
            ))}
          </p>
        ) : null}
      </div>
      <Chart
        title="Servers per group"
        unit="servers"
        times={times}
        series={servers}
        height={h}
        testId="chart-servers"
      />
    </div>
  );
}
