/**
 * fisSpec is the data form of a Mamdani fuzzy inference system: variables with their terms,
 * rules, and the operators. It mirrors the MATLAB/Octave .fis file field for field (rule indices
 * are 1-based, 0 means "don't care", a negative index means "not"), so import and export are
 * exact. Specs are validated once (validateFis) and then compiled for evaluation.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';
import { checkMfParams, isMfType, MF_TYPES } from './membership.js';
import type { MfType } from './membership.js';

/** AND_METHODS combine the clauses of an `and` rule. */
export const AND_METHODS = ['min', 'prod'] as const;
/** OR_METHODS combine the clauses of an `or` rule (probor: a + b − ab). */
export const OR_METHODS = ['max', 'probor'] as const;
/** IMP_METHODS shape a rule's output term by its firing strength. */
export const IMP_METHODS = ['min', 'prod'] as const;
/** AGG_METHODS combine the rules' shaped output terms; Mamdani systems use max. */
export const AGG_METHODS = ['max'] as const;
/** DEFUZZ_METHODS turn the aggregated output set into one number. */
export const DEFUZZ_METHODS = ['centroid', 'bisector', 'mom', 'som', 'lom'] as const;
/** CONNECTIONS join a rule's clauses. */
export const CONNECTIONS = ['and', 'or'] as const;

/** AndMethod is one of AND_METHODS. */
export type AndMethod = (typeof AND_METHODS)[number];
/** OrMethod is one of OR_METHODS. */
export type OrMethod = (typeof OR_METHODS)[number];
/** ImpMethod is one of IMP_METHODS. */
export type ImpMethod = (typeof IMP_METHODS)[number];
/** AggMethod is one of AGG_METHODS. */
export type AggMethod = (typeof AGG_METHODS)[number];
/** DefuzzMethod is one of DEFUZZ_METHODS. */
export type DefuzzMethod = (typeof DEFUZZ_METHODS)[number];
/** Connection is one of CONNECTIONS. */
export type Connection = (typeof CONNECTIONS)[number];

/** TermSpec is one linguistic term of a variable: a name and its membership function. */
export interface TermSpec {
  readonly name: string;
  readonly mf: MfType;
  readonly params: readonly number[];
}

/** VariableSpec is an input or output variable: its universe [lo, hi] and its terms. */
export interface VariableSpec {
  readonly name: string;
  readonly range: readonly [number, number];
  readonly terms: readonly TermSpec[];
}

/** RuleSpec is one rule in .fis form: 1-based term index per input/output, 0 = any, negative = not. */
export interface RuleSpec {
  readonly antecedent: readonly number[];
  readonly consequent: readonly number[];
  readonly weight: number;
  readonly connection: Connection;
}

/** FisSpec is a whole Mamdani system. */
export interface FisSpec {
  readonly name: string;
  readonly type: 'mamdani';
  readonly andMethod: AndMethod;
  readonly orMethod: OrMethod;
  readonly impMethod: ImpMethod;
  readonly aggMethod: AggMethod;
  readonly defuzzMethod: DefuzzMethod;
  readonly inputs: readonly VariableSpec[];
  readonly outputs: readonly VariableSpec[];
  readonly rules: readonly RuleSpec[];
}

/** NAME_RE is the grammar of variable and term names: the rule language's identifiers. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** RESERVED_WORDS cannot be names: the rule language uses them. */
export const RESERVED_WORDS = ['if', 'then', 'is', 'not', 'and', 'or'] as const;

function oneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

function checkVariable(v: VariableSpec, field: string, problems: FieldProblem[]): void {
  if (typeof v.name !== 'string' || !NAME_RE.test(v.name) || (RESERVED_WORDS as readonly string[]).includes(v.name)) {
    problems.push({
      field: `${field}.name`,
      problem: `must be a name of letters, digits and _ starting with a letter, not one of ${RESERVED_WORDS.join(', ')}`,
    });
  }
  const r = v.range;
  if (!Array.isArray(r) || r.length !== 2 || !Number.isFinite(r[0]) || !Number.isFinite(r[1]) || !(r[0] < r[1])) {
    problems.push({ field: `${field}.range`, problem: 'must be [lo hi] with finite lo < hi' });
  }
  if (!Array.isArray(v.terms) || v.terms.length === 0) {
    problems.push({ field: `${field}.terms`, problem: 'needs at least one term' });
    return;
  }
  const seen = new Set<string>();
  v.terms.forEach((t, i) => {
    const f = `${field}.terms[${i + 1}]`;
    if (typeof t.name !== 'string' || !NAME_RE.test(t.name) || (RESERVED_WORDS as readonly string[]).includes(t.name)) {
      problems.push({
        field: `${f}.name`,
        problem: 'must be a name of letters, digits and _ starting with a letter, not a reserved word',
      });
    } else if (seen.has(t.name)) {
      problems.push({ field: `${f}.name`, problem: `duplicate term '${t.name}' in ${v.name}` });
    }
    seen.add(t.name);
    if (!isMfType(t.mf)) {
      problems.push({
        field: `${f}.mf`,
        problem: `unknown membership function '${String(t.mf)}'; allowed: ${MF_TYPES.join(', ')}`,
      });
      return;
    }
    const p = checkMfParams(t.mf, t.params);
    if (p !== null) problems.push({ field: `${f}.params`, problem: p });
  });
}

/** fisProblems returns everything wrong with a spec (empty when valid). */
export function fisProblems(spec: FisSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (spec.type !== 'mamdani') problems.push({ field: 'type', problem: "only 'mamdani' systems are supported" });
  if (!oneOf(AND_METHODS, spec.andMethod))
    problems.push({ field: 'andMethod', problem: `allowed: ${AND_METHODS.join(', ')}` });
  if (!oneOf(OR_METHODS, spec.orMethod))
    problems.push({ field: 'orMethod', problem: `allowed: ${OR_METHODS.join(', ')}` });
  if (!oneOf(IMP_METHODS, spec.impMethod))
    problems.push({ field: 'impMethod', problem: `allowed: ${IMP_METHODS.join(', ')}` });
  if (!oneOf(AGG_METHODS, spec.aggMethod))
    problems.push({ field: 'aggMethod', problem: `allowed: ${AGG_METHODS.join(', ')}` });
  if (!oneOf(DEFUZZ_METHODS, spec.defuzzMethod))
    problems.push({ field: 'defuzzMethod', problem: `allowed: ${DEFUZZ_METHODS.join(', ')}` });
  if (spec.inputs.length === 0) problems.push({ field: 'inputs', problem: 'needs at least one input' });
  if (spec.outputs.length === 0) problems.push({ field: 'outputs', problem: 'needs at least one output' });
  spec.inputs.forEach((v, i) => checkVariable(v, `inputs[${i + 1}]`, problems));
  spec.outputs.forEach((v, i) => checkVariable(v, `outputs[${i + 1}]`, problems));
  const names = [...spec.inputs, ...spec.outputs].map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) problems.push({ field: 'variables', problem: `duplicate variable name '${dup}'` });
  if (spec.rules.length === 0) problems.push({ field: 'rules', problem: 'needs at least one rule' });
  spec.rules.forEach((r, i) => {
    const f = `rules[${i + 1}]`;
    if (r.antecedent.length !== spec.inputs.length)
      problems.push({
        field: `${f}.antecedent`,
        problem: `needs ${spec.inputs.length} indices (one per input), got ${r.antecedent.length}`,
      });
    if (r.consequent.length !== spec.outputs.length)
      problems.push({
        field: `${f}.consequent`,
        problem: `needs ${spec.outputs.length} indices (one per output), got ${r.consequent.length}`,
      });
    r.antecedent.forEach((k, j) => {
      const n = spec.inputs[j]?.terms.length ?? 0;
      if (!Number.isInteger(k) || Math.abs(k) > n)
        problems.push({
          field: `${f}.antecedent[${j + 1}]`,
          problem: `must be 0 (any) or ±1..${n} (a term of ${spec.inputs[j]?.name ?? '?'})`,
        });
    });
    r.consequent.forEach((k, j) => {
      const n = spec.outputs[j]?.terms.length ?? 0;
      if (!Number.isInteger(k) || Math.abs(k) > n)
        problems.push({
          field: `${f}.consequent[${j + 1}]`,
          problem: `must be 0 (none) or ±1..${n} (a term of ${spec.outputs[j]?.name ?? '?'})`,
        });
    });
    if (r.antecedent.length > 0 && r.antecedent.every((k) => k === 0))
      problems.push({ field: `${f}.antecedent`, problem: 'a rule needs at least one clause' });
    if (r.consequent.length > 0 && r.consequent.every((k) => k === 0))
      problems.push({ field: `${f}.consequent`, problem: 'a rule needs at least one conclusion' });
    if (!(typeof r.weight === 'number' && r.weight >= 0 && r.weight <= 1))
      problems.push({ field: `${f}.weight`, problem: 'must be a number from 0 to 1' });
    if (!oneOf(CONNECTIONS, r.connection))
      problems.push({ field: `${f}.connection`, problem: `allowed: ${CONNECTIONS.join(', ')}` });
  });
  return problems;
}

/** validateFis throws E_VALIDATION naming every bad field, or returns the spec unchanged. */
export function validateFis(spec: FisSpec): FisSpec {
  const problems = fisProblems(spec);
  if (problems.length > 0) throw invalid(problems);
  return spec;
}
