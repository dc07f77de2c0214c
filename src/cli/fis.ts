/**
 * fis holds the `hostfleet fis` commands: evaluate a rule base (.fis file, or `default` for the
 * one the agent ships) on given inputs, print its rules in the rule language, and draw its
 * decision surface as SVG or PNG.
 */
import type { Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { invalid } from '../core/errors.js';
import {
  DEFAULT_FIS,
  DEFAULT_RESOLUTION,
  compileFis,
  evaluateFisInto,
  exportFis,
  formatRule,
  importFis,
  renderSurfaceSvg,
  ruleStrengths,
  sampleSurface,
} from '../core/agent/index.js';
import type { CentroidRule, CompileOptions, FisSpec } from '../core/agent/index.js';

/** loadFisSpec reads a .fis file, or returns the shipped default for the name `default`. */
export async function loadFisSpec(file: string): Promise<FisSpec> {
  if (file === 'default') return DEFAULT_FIS;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw invalid([
      { field: 'FILE', problem: `cannot read ${file}: ${(e as Error).message}; give a .fis file or 'default'` },
    ]);
  }
  return importFis(text);
}

function parseNumber(field: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw invalid([{ field, problem: `must be a number, got '${v}'` }]);
  return n;
}

function resolution(v: string | undefined): number {
  return v === undefined ? DEFAULT_RESOLUTION : parseNumber('--resolution', v);
}

/** CliCompile is the options of `fis eval` and `fis surface` that reach compileFis. */
interface CliCompile {
  readonly resolution?: string;
  readonly centroid?: string;
}

/** compileOptions reads --resolution and --centroid; compileFis checks their values. */
function compileOptions(o: CliCompile): CompileOptions {
  return { resolution: resolution(o.resolution), centroid: (o.centroid ?? 'trapezoid') as CentroidRule };
}

/** CENTROID_HELP says what --centroid chooses: the default agrees with Octave's evalfis. */
const CENTROID_HELP =
  "how the centroid integrates: 'trapezoid' (default, as Octave's evalfis) or 'sum' (MATLAB's Σxμ/Σμ)";

/** SURFACE_LABELS describe the default system's axes for a reader of the picture. */
const SURFACE_LABELS: Readonly<Record<string, string>> = {
  response: 'expected response time (B scale: −50 = 0 ms, 0 = SLA target, +50 = 2 × target)',
  probability: 'probability of missing the SLA target',
  priority: 'priority (0 best effort … 1 urgent)',
};

/** svgToPng rasterises SVG text with resvg (fonts from the system). */
export async function svgToPng(svg: string, width: number): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    fitTo: { mode: 'width', value: width },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** registerFisCommands adds `fis eval`, `fis rules`, `fis export` and `fis surface` to the program. */
export function registerFisCommands(program: Command): void {
  const fis = program
    .command('fis')
    .description("the agent's fuzzy inference system: evaluate a rule base, print it, draw its decision surface");

  fis
    .command('eval <file> <inputs...>')
    .description("evaluate a .fis file (or 'default') on one value per input, in the file's input order")
    .option('--json', 'print JSON')
    .option('--explain', 'also print every rule that fired and its strength')
    .option('--resolution <n>', `points over each output range (default ${DEFAULT_RESOLUTION})`)
    .option('--centroid <rule>', CENTROID_HELP)
    .action(async (file: string, inputs: string[], o: { json?: boolean; explain?: boolean } & CliCompile) => {
      const spec = await loadFisSpec(file);
      if (inputs.length !== spec.inputs.length) {
        throw invalid([
          {
            field: 'inputs',
            problem: `${spec.name} takes ${spec.inputs.length} inputs (${spec.inputs.map((v) => `${v.name} ${v.range[0]}..${v.range[1]}`).join(', ')}); got ${inputs.length}`,
          },
        ]);
      }
      const x = inputs.map((v, i) => parseNumber(spec.inputs[i]!.name, v));
      const f = compileFis(spec, compileOptions(o));
      const out = new Float64Array(f.nOut);
      evaluateFisInto(f, x, out);
      const strengths = o.explain ? ruleStrengths(f, x) : [];
      const fired = strengths
        .flatMap((s, r) =>
          s > 0 ? [{ rule: r + 1, strength: s, text: formatRule(spec.rules[r]!, spec.inputs, spec.outputs) }] : [],
        )
        .sort((a, b) => b.strength - a.strength);
      if (o.json) {
        const body: Record<string, unknown> = {
          fis: spec.name,
          inputs: Object.fromEntries(spec.inputs.map((v, i) => [v.name, x[i]])),
          outputs: Object.fromEntries(spec.outputs.map((v, i) => [v.name, out[i]])),
        };
        if (o.explain) body.fired = fired;
        console.log(JSON.stringify(body));
        return;
      }
      spec.outputs.forEach((v, i) => console.log(`${v.name} = ${(out[i] as number).toFixed(4)}`));
      for (const r of fired) console.log(`  rule ${r.rule} (${r.strength.toFixed(3)}): ${r.text}`);
    });

  fis
    .command('rules <file>')
    .description("print a rule base's rules in the rule language")
    .option('--json', "print JSON: the rule base's name and its rules, numbered from 1")
    .action(async (file: string, o: { json?: boolean }) => {
      const spec = await loadFisSpec(file);
      const rules = spec.rules.map((r) => formatRule(r, spec.inputs, spec.outputs));
      if (o.json)
        console.log(JSON.stringify({ fis: spec.name, rules: rules.map((text, i) => ({ rule: i + 1, text })) }));
      else for (const r of rules) console.log(r);
    });

  fis
    .command('export <file>')
    .description("print a rule base as .fis text (e.g. 'default', to edit it in MATLAB or Octave)")
    .action(async (file: string) => {
      process.stdout.write(exportFis(await loadFisSpec(file)));
    });

  fis
    .command('surface <file>')
    .description('draw the decision surface: output over two inputs with the others fixed (SVG, or PNG by extension)')
    .option('--priority <p>', 'value of the priority input (default system)', '0.9')
    .option('--x <input>', 'input on the horizontal axis (default: response)')
    .option('--y <input>', 'input on the vertical axis (default: probability)')
    .option('--set <name=value...>', 'value of any other fixed input')
    .option('--grid <n>', 'samples per axis', '61')
    .option('--resolution <n>', `points over the output range (default ${DEFAULT_RESOLUTION})`)
    .option('--centroid <rule>', CENTROID_HELP)
    .option('--out <file>', 'write to FILE (.svg or .png) instead of printing SVG')
    .action(
      async (
        file: string,
        o: {
          priority: string;
          x?: string;
          y?: string;
          set?: string[];
          grid: string;
          out?: string;
        } & CliCompile,
      ) => {
        const spec = await loadFisSpec(file);
        const f = compileFis(spec, compileOptions(o));
        const fixed: Record<string, number> = {};
        const xName = o.x ?? spec.inputs[2]?.name ?? spec.inputs[0]!.name;
        const yName = o.y ?? spec.inputs[1]!.name;
        if (spec.inputs.some((v) => v.name === 'priority') && xName !== 'priority' && yName !== 'priority')
          fixed.priority = parseNumber('--priority', o.priority);
        for (const kv of o.set ?? []) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw invalid([{ field: '--set', problem: `expected name=value, got '${kv}'` }]);
          fixed[kv.slice(0, eq)] = parseNumber(`--set ${kv.slice(0, eq)}`, kv.slice(eq + 1));
        }
        const n = parseNumber('--grid', o.grid);
        const s = sampleSurface(f, { x: xName, y: yName, fixed, nx: n, ny: n });
        const svg = renderSurfaceSvg(s, {
          xLabel: SURFACE_LABELS[s.xName] ?? s.xName,
          yLabel: SURFACE_LABELS[s.yName] ?? s.yName,
        });
        if (o.out === undefined) {
          process.stdout.write(svg);
          return;
        }
        if (o.out.endsWith('.png')) await writeFile(o.out, await svgToPng(svg, 1520));
        else if (o.out.endsWith('.svg')) await writeFile(o.out, svg);
        else throw invalid([{ field: '--out', problem: `must end in .svg or .png, got '${o.out}'` }]);
        console.error(`wrote ${o.out}`);
      },
    );
}
