// glpk: the exact optimum of the scheduler's objective (docs/SCHEDULER.md) for one
// configuration on a small fleet, found by glpsol (Debian package glpk-utils). The MIP is
// written in CPLEX LP format to a temporary file; glpsol's printable solution is parsed back.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RESOURCES,
  componentsOf,
  isRisky,
  usedOf,
  pairValue,
  type Configuration,
  type HardwareNode,
  type SchedulerSettings,
} from '../../src/core/scheduler/index.js';

/** ExactSolution is glpsol's optimal assignment and its objective value. */
export interface ExactSolution {
  readonly objective: number;
  readonly assignment: ReadonlyMap<string, string>;
}

/** glpsolAvailable tells whether glpsol can be run. */
export function glpsolAvailable(): boolean {
  const r = spawnSync('glpsol', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

const num = (x: number): string => (Math.abs(x) < 1e-12 ? '0' : x.toPrecision(15));

/**
 * buildLp writes the MIP: binary x_c_n for every pair the static filters allow (node up,
 * isolation class, the component alone fits the node's unallocated resources), y_n ≤ 1 for
 * nodes that may newly hold the configuration (spread), z_n_o ≤ 1 for licences a node would
 * newly open. Maximise Σ pairValue·x + w_s·100·Σ y − w_l·100·Σ z subject to: every component
 * on exactly one node; per node and resource the new requests fit the unallocated amount;
 * per anti-affinity tier and node at most one component; y_n ≤ Σ_c x_cn; x_cn ≤ z_n_o.
 * Returns null when some component has no allowed node (the instance is infeasible).
 */
export function buildLp(
  nodes: readonly HardwareNode[],
  config: Configuration,
  settings: SchedulerSettings,
): { lp: string; components: string[]; nodes: string[] } | null {
  const items = componentsOf(config);
  const risky = isRisky(config.risk, settings.riskThreshold);
  const w = settings.weights;
  const obj: string[] = [];
  const rows: string[] = [];
  const bins: string[] = [];
  const bounds: string[] = [];
  const byNode = new Map<number, { c: number; v: string }[]>();
  const used = nodes.map(usedOf);
  items.forEach((it, c) => {
    const vars: string[] = [];
    nodes.forEach((node, n) => {
      if (node.state !== 'up' || node.isolated !== risky) return;
      if (RESOURCES.some((r) => it.component.resources[r] > node.capacity[r] - used[n]![r] + 1e-9)) return;
      const v = `x_${c}_${n}`;
      vars.push(v);
      bins.push(v);
      obj.push(`+ ${num(pairValue(node, it.component, settings))} ${v}`);
      const l = byNode.get(n) ?? [];
      l.push({ c, v });
      byNode.set(n, l);
    });
    if (vars.length === 0) return;
    rows.push(` one_${c}: ${vars.join(' + ')} = 1`);
  });
  if (rows.length < items.length) return null;
  for (const [n, vs] of byNode) {
    const node = nodes[n]!;
    RESOURCES.forEach((r, k) => {
      const terms = vs
        .filter((x) => items[x.c]!.component.resources[r] > 0)
        .map((x) => `${num(items[x.c]!.component.resources[r])} ${x.v}`);
      if (terms.length > 1) rows.push(` cap_${n}_${k}: ${terms.join(' + ')} <= ${num(node.capacity[r] - used[n]![r])}`);
    });
    config.tiers.forEach((tier, t) => {
      if (!tier.antiAffinity) return;
      const ids = new Set(tier.components.map((x) => x.id));
      const terms = vs.filter((x) => ids.has(items[x.c]!.component.id)).map((x) => x.v);
      if (terms.length > 1) rows.push(` aa_${t}_${n}: ${terms.join(' + ')} <= 1`);
    });
    if (!node.hosted.some((h) => h.configuration === config.id)) {
      obj.push(`+ ${num(w.spread * 100)} y_${n}`);
      rows.push(` sp_${n}: y_${n} - ${vs.map((x) => x.v).join(' - ')} <= 0`);
      bounds.push(` 0 <= y_${n} <= 1`);
    }
    const opened = new Set<number>();
    for (const x of vs) {
      const os = items[x.c]!.component.os;
      if (!settings.licensedOs.includes(os) || node.hosted.some((h) => h.os === os)) continue;
      const o = settings.licensedOs.indexOf(os);
      if (!opened.has(o)) {
        opened.add(o);
        obj.push(`- ${num(w.licence * 100)} z_${n}_${o}`);
        bounds.push(` 0 <= z_${n}_${o} <= 1`);
      }
      rows.push(` lic_${x.c}_${n}: ${x.v} - z_${n}_${o} <= 0`);
    }
  }
  // CPLEX LP lines must stay under 255 characters in some readers: break the objective.
  const objLines: string[] = [];
  for (let i = 0; i < obj.length; i += 6) objLines.push(`   ${obj.slice(i, i + 6).join(' ')}`);
  const wrap = (row: string): string => row.replace(/((?:\S+\s+){12})/g, '$1\n   ');
  const lp = [
    'Maximize',
    ' obj:',
    ...objLines,
    'Subject To',
    ...rows.map(wrap),
    'Bounds',
    ...bounds,
    'Binary',
    ...bins.map((b) => ` ${b}`),
    'End',
    '',
  ].join('\n');
  return { lp, components: items.map((x) => x.component.id), nodes: nodes.map((x) => x.id) };
}

/** solveExact solves the MIP with glpsol; null when infeasible or not proven optimal within the time limit. */
export function solveExact(
  nodes: readonly HardwareNode[],
  config: Configuration,
  settings: SchedulerSettings,
  timeLimitS = 60,
): ExactSolution | null {
  const model = buildLp(nodes, config, settings);
  if (!model) return null;
  const dir = mkdtempSync(join(tmpdir(), 'hostfleet-glpk-'));
  try {
    const lpFile = join(dir, 'model.lp');
    const outFile = join(dir, 'solution.txt');
    writeFileSync(lpFile, model.lp);
    const r = spawnSync('glpsol', ['--lp', lpFile, '-o', outFile, '--tmlim', String(timeLimitS)], {
      encoding: 'utf8',
      timeout: (timeLimitS + 30) * 1000,
    });
    if (r.status !== 0) throw new Error(`glpsol failed (${r.status}): ${r.stderr || r.stdout}`);
    const out = readFileSync(outFile, 'utf8');
    if (!/Status:\s+INTEGER OPTIMAL/.test(out)) return null;
    const m = /Objective:\s+obj = ([-+0-9.eE]+)/.exec(out);
    if (!m) throw new Error('glpsol output has no objective line');
    const assignment = new Map<string, string>();
    for (const line of out.split('\n')) {
      const x = /^\s*\d+\s+x_(\d+)_(\d+)\s+\*?\s*([-+0-9.eE]+)/.exec(line);
      if (x && Number(x[3]) > 0.5) assignment.set(model.components[Number(x[1])]!, model.nodes[Number(x[2])]!);
    }
    return { objective: Number(m[1]), assignment };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
