/**
 * rules is the readable rule language of the FIS, one rule a line:
 *
 *   if priority is urgent and probability is abundant and response is too_high then need is add
 *   if (response is low) or (probability is not abundant) then need is release (0.5)
 *
 * Clauses join with `and` or `or` (not both in one rule, as in a .fis file), `not` negates a
 * clause (`x is not t` or `not x is t`), parentheses around a clause are allowed, several
 * conclusions join with `and` or `,`, and an optional `(w)` at the end weighs the rule (0..1).
 * Blank lines and lines starting with `#` or `%` are skipped. Errors name the line, the token
 * and the names that are allowed there.
 */
import { invalid } from '../errors.js';
import type { FieldProblem } from '../errors.js';
import type { Connection, RuleSpec, VariableSpec } from './fis-spec.js';

interface Token {
  readonly text: string;
  readonly kind: 'word' | 'number' | 'lparen' | 'rparen' | 'comma';
  /** pos is the 1-based token number on its line, for error messages. */
  readonly pos: number;
}

function tokenize(line: string): Token[] | string {
  const out: Token[] = [];
  const re = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)|(\()|(\))|(,)|(\S))/y;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < line.length && (m = re.exec(line)) !== null) {
    const pos = out.length + 1;
    if (m[1] !== undefined) out.push({ text: m[1], kind: 'word', pos });
    else if (m[2] !== undefined) out.push({ text: m[2], kind: 'number', pos });
    else if (m[3] !== undefined) out.push({ text: '(', kind: 'lparen', pos });
    else if (m[4] !== undefined) out.push({ text: ')', kind: 'rparen', pos });
    else if (m[5] !== undefined) out.push({ text: ',', kind: 'comma', pos });
    else if (m[6] !== undefined) return `unexpected character '${m[6]}' at token ${pos}`;
    else break;
  }
  return out;
}

class LineParser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly inputs: readonly VariableSpec[],
    private readonly outputs: readonly VariableSpec[],
  ) {}

  private peek(): Token | undefined {
    return this.toks[this.i];
  }

  private where(t: Token | undefined): string {
    return t === undefined ? 'at the end of the line' : `at token ${t.pos} ('${t.text}')`;
  }

  private isWord(t: Token | undefined, w: string): boolean {
    return t !== undefined && t.kind === 'word' && t.text.toLowerCase() === w;
  }

  private expectWord(w: string, hint: string): void {
    const t = this.peek();
    if (!this.isWord(t, w)) throw new Error(`expected '${w}' ${this.where(t)}; ${hint}`);
    this.i++;
  }

  private clause(
    vars: readonly VariableSpec[],
    role: 'input' | 'output',
    allowNot: boolean,
  ): { v: number; term: number } {
    let t = this.peek();
    if (t?.kind === 'lparen') {
      this.i++;
      const c = this.clause(vars, role, allowNot);
      t = this.peek();
      if (t?.kind !== 'rparen') throw new Error(`expected ')' ${this.where(t)}`);
      this.i++;
      return c;
    }
    let neg = false;
    if (this.isWord(t, 'not')) {
      if (!allowNot) throw new Error(`'not' is not allowed ${this.where(t)}`);
      neg = true;
      this.i++;
      t = this.peek();
    }
    const names = vars.map((v) => v.name);
    if (t?.kind !== 'word') throw new Error(`expected ${role} variable ${this.where(t)}; allowed: ${names.join(', ')}`);
    const v = names.indexOf(t.text);
    if (v < 0) throw new Error(`unknown ${role} variable '${t.text}' at token ${t.pos}; allowed: ${names.join(', ')}`);
    this.i++;
    const variable = vars[v] as VariableSpec;
    this.expectWord('is', `write '${variable.name} is <term>'`);
    t = this.peek();
    if (this.isWord(t, 'not')) {
      neg = !neg;
      this.i++;
      t = this.peek();
    }
    const terms = variable.terms.map((x) => x.name);
    if (t?.kind !== 'word')
      throw new Error(`expected a term of ${variable.name} ${this.where(t)}; allowed: ${terms.join(', ')}`);
    const k = terms.indexOf(t.text);
    if (k < 0)
      throw new Error(
        `unknown term '${t.text}' of ${role} '${variable.name}' at token ${t.pos}; allowed: ${terms.join(', ')}`,
      );
    this.i++;
    return { v, term: neg ? -(k + 1) : k + 1 };
  }

  parse(): RuleSpec {
    this.expectWord('if', 'a rule reads: if <input> is <term> [and|or …] then <output> is <term> [(weight)]');
    const antecedent = new Array<number>(this.inputs.length).fill(0);
    let connection: Connection | null = null;
    for (;;) {
      const start = this.peek();
      const c = this.clause(this.inputs, 'input', true);
      if (antecedent[c.v] !== 0)
        throw new Error(
          `input '${this.inputs[c.v]?.name}' is used twice ${this.where(start)}; a rule tests each input once`,
        );
      antecedent[c.v] = c.term;
      const t = this.peek();
      if (this.isWord(t, 'and') || this.isWord(t, 'or')) {
        const conn = (t as Token).text.toLowerCase() as Connection;
        if (connection !== null && connection !== conn)
          throw new Error(`mixed 'and' and 'or' ${this.where(t)}; a rule uses one of them (split it into two rules)`);
        connection = conn;
        this.i++;
        continue;
      }
      break;
    }
    this.expectWord('then', "join the clauses with 'and' or 'or', then write 'then <output> is <term>'");
    const consequent = new Array<number>(this.outputs.length).fill(0);
    for (;;) {
      const start = this.peek();
      const c = this.clause(this.outputs, 'output', false);
      if (consequent[c.v] !== 0)
        throw new Error(`output '${this.outputs[c.v]?.name}' is set twice ${this.where(start)}`);
      consequent[c.v] = c.term;
      const t = this.peek();
      if (this.isWord(t, 'and') || t?.kind === 'comma') {
        this.i++;
        continue;
      }
      break;
    }
    let weight = 1;
    let t = this.peek();
    if (t?.kind === 'lparen') {
      this.i++;
      t = this.peek();
      if (t?.kind !== 'number') throw new Error(`expected a weight from 0 to 1 ${this.where(t)}`);
      weight = Number(t.text);
      if (!(weight >= 0 && weight <= 1)) throw new Error(`weight ${t.text} at token ${t.pos} must be from 0 to 1`);
      this.i++;
      t = this.peek();
      if (t?.kind !== 'rparen') throw new Error(`expected ')' after the weight ${this.where(t)}`);
      this.i++;
    }
    t = this.peek();
    if (t !== undefined) throw new Error(`unexpected '${t.text}' at token ${t.pos}; the rule ended before it`);
    return { antecedent, consequent, weight, connection: connection ?? 'and' };
  }
}

/** parseRule parses one rule line against the variables; it throws a plain Error with the reason. */
export function parseRule(line: string, inputs: readonly VariableSpec[], outputs: readonly VariableSpec[]): RuleSpec {
  const toks = tokenize(line);
  if (typeof toks === 'string') throw new Error(toks);
  return new LineParser(toks, inputs, outputs).parse();
}

/**
 * parseRules parses a block of rule lines. Every bad line is reported at once, as E_VALIDATION
 * with fields named `rules line N`.
 */
export function parseRules(
  text: string,
  inputs: readonly VariableSpec[],
  outputs: readonly VariableSpec[],
): RuleSpec[] {
  const rules: RuleSpec[] = [];
  const problems: FieldProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('%')) return;
    try {
      rules.push(parseRule(line, inputs, outputs));
    } catch (e) {
      problems.push({ field: `rules line ${i + 1}`, problem: (e as Error).message });
    }
  });
  if (problems.length > 0) throw invalid(problems);
  return rules;
}

function clauseText(v: VariableSpec, k: number): string {
  const term = v.terms[Math.abs(k) - 1]?.name ?? '?';
  return `${v.name} is ${k < 0 ? 'not ' : ''}${term}`;
}

/** formatRule writes a rule back in the rule language (parseRule(formatRule(r)) gives r back). */
export function formatRule(r: RuleSpec, inputs: readonly VariableSpec[], outputs: readonly VariableSpec[]): string {
  const ante = r.antecedent
    .flatMap((k, i) => (k === 0 ? [] : [clauseText(inputs[i] as VariableSpec, k)]))
    .join(` ${r.connection} `);
  const cons = r.consequent
    .flatMap((k, o) => (k === 0 ? [] : [clauseText(outputs[o] as VariableSpec, k)]))
    .join(' and ');
  return `if ${ante} then ${cons}${r.weight !== 1 ? ` (${r.weight})` : ''}`;
}

/** formatRules writes every rule of a system, one a line. */
export function formatRules(
  rules: readonly RuleSpec[],
  inputs: readonly VariableSpec[],
  outputs: readonly VariableSpec[],
): string {
  return rules.map((r) => formatRule(r, inputs, outputs)).join('\n') + '\n';
}
