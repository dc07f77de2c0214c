/**
 * fisFormat reads and writes the MATLAB/Octave `.fis` text format ([System], [Input1..n],
 * [Output1..m], [Rules] with lines like `1 2 3, 1 (1) : 1`), so an operator can open the
 * agent's rule base in standard fuzzy-logic tools, edit it, and load it back. Numbers are written
 * in their shortest exact form, so export → import gives back the very same spec.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';
import { validateFis } from './fis-spec.js';
import type { FisSpec, RuleSpec, TermSpec, VariableSpec } from './fis-spec.js';
import type { MfType } from './membership.js';

function num(n: number): string {
  return Object.is(n, -0) ? '0' : String(n);
}

function writeVariable(section: string, v: VariableSpec): string {
  const lines = [
    `[${section}]`,
    `Name='${v.name}'`,
    `Range=[${num(v.range[0])} ${num(v.range[1])}]`,
    `NumMFs=${v.terms.length}`,
  ];
  v.terms.forEach((t, i) => lines.push(`MF${i + 1}='${t.name}':'${t.mf}',[${t.params.map(num).join(' ')}]`));
  return lines.join('\n');
}

/** exportFis writes a spec as .fis text. */
export function exportFis(spec: FisSpec): string {
  const sys = [
    '[System]',
    `Name='${spec.name}'`,
    `Type='${spec.type}'`,
    'Version=2.0',
    `NumInputs=${spec.inputs.length}`,
    `NumOutputs=${spec.outputs.length}`,
    `NumRules=${spec.rules.length}`,
    `AndMethod='${spec.andMethod}'`,
    `OrMethod='${spec.orMethod}'`,
    `ImpMethod='${spec.impMethod}'`,
    `AggMethod='${spec.aggMethod}'`,
    `DefuzzMethod='${spec.defuzzMethod}'`,
  ].join('\n');
  const parts = [sys];
  spec.inputs.forEach((v, i) => parts.push(writeVariable(`Input${i + 1}`, v)));
  spec.outputs.forEach((v, i) => parts.push(writeVariable(`Output${i + 1}`, v)));
  const rules = spec.rules.map(
    (r) =>
      `${r.antecedent.join(' ')}, ${r.consequent.join(' ')} (${num(r.weight)}) : ${r.connection === 'and' ? 1 : 2}`,
  );
  parts.push(['[Rules]', ...rules].join('\n'));
  return parts.join('\n\n') + '\n';
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith("'") && t.endsWith("'") ? t.slice(1, -1) : t;
}

function numbers(v: string): number[] | null {
  const t = v.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  if (t === '') return [];
  const parts = t.split(/[\s,]+/);
  const out = parts.map(Number);
  return out.some((x) => !Number.isFinite(x)) ? null : out;
}

interface Section {
  readonly name: string;
  readonly line: number;
  readonly keys: Map<string, { value: string; line: number }>;
  readonly rules: { text: string; line: number }[];
}

/**
 * importFis parses .fis text into a validated spec. Problems are E_VALIDATION with fields named
 * `fis line N` (syntax) or by spec path (semantics, e.g. `inputs[2].terms[1].params`).
 */
export function importFis(text: string): FisSpec {
  const problems: FieldProblem[] = [];
  const sections: Section[] = [];
  let cur: Section | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('%') || line.startsWith('#')) return;
    const head = /^\[(\w+)\]$/.exec(line);
    if (head) {
      cur = { name: head[1] as string, line: n, keys: new Map(), rules: [] };
      sections.push(cur);
      return;
    }
    if (cur === null) {
      problems.push({
        field: `fis line ${n}`,
        problem: 'text before the first [Section]; a .fis file starts with [System]',
      });
      return;
    }
    const c: Section = cur;
    if (c.name === 'Rules') {
      c.rules.push({ text: line, line: n });
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push({ field: `fis line ${n}`, problem: `expected Key=Value in [${c.name}], got '${line}'` });
      return;
    }
    c.keys.set(line.slice(0, eq).trim(), { value: line.slice(eq + 1).trim(), line: n });
  });
  const sys = sections.find((s) => s.name === 'System');
  if (!sys) {
    problems.push({ field: 'fis', problem: 'no [System] section' });
    throw invalid(problems);
  }
  const get = (s: Section, key: string): string | undefined => s.keys.get(key)?.value;
  const intOf = (s: Section, key: string): number => {
    const v = get(s, key);
    const k = v === undefined ? NaN : Number(v);
    if (!Number.isInteger(k) || k < 0) {
      problems.push({
        field: `fis [${s.name}] ${key}`,
        problem: v === undefined ? 'missing' : `must be a whole number, got '${v}'`,
      });
      return 0;
    }
    return k;
  };
  const nIn = intOf(sys, 'NumInputs');
  const nOut = intOf(sys, 'NumOutputs');
  const type = unquote(get(sys, 'Type') ?? 'mamdani').toLowerCase();
  const readVar = (secName: string): VariableSpec => {
    const s = sections.find((x) => x.name === secName);
    if (!s) {
      problems.push({ field: `fis [${secName}]`, problem: 'section missing (NumInputs/NumOutputs promise it)' });
      return { name: secName.toLowerCase(), range: [0, 1], terms: [] };
    }
    const range = numbers(get(s, 'Range') ?? '');
    if (range === null || range.length !== 2)
      problems.push({ field: `fis [${secName}] Range`, problem: 'must be [lo hi]' });
    const nMf = intOf(s, 'NumMFs');
    const terms: TermSpec[] = [];
    for (let k = 1; k <= nMf; k++) {
      const e = s.keys.get(`MF${k}`);
      if (!e) {
        problems.push({ field: `fis [${secName}] MF${k}`, problem: 'missing (NumMFs promises it)' });
        continue;
      }
      const m = /^'([^']*)'\s*:\s*'([^']*)'\s*,\s*(\[[^\]]*\])$/.exec(e.value);
      const params = m ? numbers(m[3] as string) : null;
      if (!m || params === null) {
        problems.push({
          field: `fis line ${e.line}`,
          problem: `expected MF${k}='name':'type',[p1 p2 …], got '${e.value}'`,
        });
        continue;
      }
      terms.push({ name: m[1] as string, mf: m[2] as MfType, params });
    }
    return { name: unquote(get(s, 'Name') ?? secName), range: (range ?? [0, 1]) as [number, number], terms };
  };
  const inputs = Array.from({ length: nIn }, (_, i) => readVar(`Input${i + 1}`));
  const outputs = Array.from({ length: nOut }, (_, i) => readVar(`Output${i + 1}`));
  const rules: RuleSpec[] = [];
  const rulesSec = sections.find((s) => s.name === 'Rules');
  for (const r of rulesSec?.rules ?? []) {
    const m = /^([-+\d\s.]+?)\s*,\s*([-+\d\s.]+?)\s*\(\s*([^)]+?)\s*\)\s*:\s*(\d+)\s*$/.exec(r.text);
    const ante = m ? numbers(m[1] as string) : null;
    const cons = m ? numbers(m[2] as string) : null;
    const weight = m ? Number(m[3]) : NaN;
    const conn = m ? Number(m[4]) : NaN;
    if (!m || ante === null || cons === null || !Number.isFinite(weight) || (conn !== 1 && conn !== 2)) {
      problems.push({
        field: `fis line ${r.line}`,
        problem: `expected a rule like '1 2 3, 1 (1) : 1' (input terms, output terms, (weight) : 1 for and, 2 for or), got '${r.text}'`,
      });
      continue;
    }
    rules.push({ antecedent: ante, consequent: cons, weight, connection: conn === 1 ? 'and' : 'or' });
  }
  const declared = get(sys, 'NumRules');
  if (declared !== undefined && Number(declared) !== rules.length && problems.length === 0) {
    problems.push({ field: 'fis [System] NumRules', problem: `says ${declared} but [Rules] has ${rules.length}` });
  }
  if (problems.length > 0) throw invalid(problems);
  const spec = {
    name: unquote(get(sys, 'Name') ?? 'fis'),
    type,
    andMethod: unquote(get(sys, 'AndMethod') ?? 'min'),
    orMethod: unquote(get(sys, 'OrMethod') ?? 'max'),
    impMethod: unquote(get(sys, 'ImpMethod') ?? 'min'),
    aggMethod: unquote(get(sys, 'AggMethod') ?? 'max'),
    defuzzMethod: unquote(get(sys, 'DefuzzMethod') ?? 'centroid'),
    inputs,
    outputs,
    rules,
  } as FisSpec;
  return validateFis(spec);
}
