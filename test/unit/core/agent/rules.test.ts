import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_FIS,
  DEFAULT_INPUTS,
  DEFAULT_OUTPUTS,
  DEFAULT_RULES_TEXT,
  formatRules,
  parseRule,
  parseRules,
} from '../../../../src/core/agent/index.js';
import { isHostfleetError } from '../../../../src/core/errors.js';

const I = DEFAULT_INPUTS;
const O = DEFAULT_OUTPUTS;

test('good rules parse to .fis indices', () => {
  const cases = [
    {
      name: "the seed's rule",
      line: 'if (priority is urgent) and (probability is abundant) and (response is too_high) then (need is add)',
      want: { antecedent: [3, 3, 3], consequent: [3], weight: 1, connection: 'and' },
    },
    {
      name: 'plain words',
      line: 'if priority is urgent and probability is abundant and response is too_high then need is add',
      want: { antecedent: [3, 3, 3], consequent: [3], weight: 1, connection: 'and' },
    },
    {
      name: 'subset of inputs, any order',
      line: 'if response is low and priority is low then need is release',
      want: { antecedent: [1, 0, 1], consequent: [1], weight: 1, connection: 'and' },
    },
    {
      name: 'or',
      line: 'if response is too_high or probability is abundant then need is add',
      want: { antecedent: [0, 3, 3], consequent: [3], weight: 1, connection: 'or' },
    },
    {
      name: 'is not',
      line: 'if priority is not urgent then need is none',
      want: { antecedent: [-3, 0, 0], consequent: [2], weight: 1, connection: 'and' },
    },
    {
      name: 'not before the clause',
      line: 'if not priority is low then need is none',
      want: { antecedent: [-1, 0, 0], consequent: [2], weight: 1, connection: 'and' },
    },
    {
      name: 'not conclusion',
      line: 'if priority is low then need is not add',
      want: { antecedent: [1, 0, 0], consequent: [-3], weight: 1, connection: 'and' },
    },
    {
      name: 'weight',
      line: 'if response is low then need is release (0.5)',
      want: { antecedent: [0, 0, 1], consequent: [1], weight: 0.5, connection: 'and' },
    },
    {
      name: 'upper-case keywords',
      line: 'IF response IS low THEN need IS release',
      want: { antecedent: [0, 0, 1], consequent: [1], weight: 1, connection: 'and' },
    },
  ];
  for (const c of cases) assert.deepEqual(parseRule(c.line, I, O), c.want, c.name);
});

test('bad rules fail naming the line, the token and what is allowed', () => {
  const cases = [
    {
      name: 'unknown variable',
      line: 'if prio is urgent then need is add',
      has: ["unknown input variable 'prio' at token 2", 'allowed: priority, probability, response'],
    },
    {
      name: 'unknown term',
      line: 'if priority is huge then need is add',
      has: ["unknown term 'huge' of input 'priority' at token 4", 'allowed: low, normal, urgent'],
    },
    {
      name: 'unknown output term',
      line: 'if priority is low then need is more',
      has: ["unknown term 'more' of output 'need'", 'allowed: release, none, add'],
    },
    { name: 'output used as input', line: 'if need is add then need is add', has: ["unknown input variable 'need'"] },
    { name: 'missing then', line: 'if priority is low need is add', has: ["expected 'then' at token 5 ('need')"] },
    { name: 'missing if', line: 'priority is low then need is add', has: ["expected 'if' at token 1 ('priority')"] },
    { name: 'missing is', line: 'if priority low then need is add', has: ["expected 'is' at token 3 ('low')"] },
    {
      name: 'mixed and/or',
      line: 'if priority is low and response is ok or probability is rare then need is none',
      has: ["mixed 'and' and 'or' at token 9"],
    },
    {
      name: 'same input twice',
      line: 'if priority is low and priority is urgent then need is none',
      has: ["input 'priority' is used twice"],
    },
    {
      name: 'weight out of range',
      line: 'if priority is low then need is none (1.5)',
      has: ['weight 1.5 at token 10 must be from 0 to 1'],
    },
    {
      name: 'trailing words',
      line: 'if priority is low then need is none please',
      has: ["unexpected 'please' at token 9"],
    },
    { name: 'stray character', line: 'if priority is low; then need is none', has: ["unexpected character ';'"] },
    { name: 'truncated', line: 'if priority is', has: ['expected a term of priority at the end of the line'] },
    {
      name: 'unclosed paren',
      line: 'if (priority is low then need is none',
      has: ["expected ')' at token 6 ('then')"],
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseRules(`# comment\n\n${c.line}\n`, I, O),
      (e: unknown) => {
        if (!isHostfleetError(e, 'E_VALIDATION')) return false;
        const f = e.fields?.[0];
        assert.equal(f?.field, 'rules line 3', c.name);
        for (const h of c.has) assert.ok(f?.problem.includes(h), `${c.name}: '${f?.problem}' lacks '${h}'`);
        return true;
      },
      c.name,
    );
  }
});

test('every bad line is reported at once', () => {
  assert.throws(
    () =>
      parseRules(
        'if priority is x then need is add\nif priority is low then need is none\nif y is low then need is add',
        I,
        O,
      ),
    (e: unknown) =>
      isHostfleetError(e, 'E_VALIDATION') && e.fields?.map((f) => f.field).join('|') === 'rules line 1|rules line 3',
  );
});

test('format then parse gives the rules back (default rule base)', () => {
  const text = formatRules(DEFAULT_FIS.rules, I, O);
  assert.deepEqual(parseRules(text, I, O), DEFAULT_FIS.rules);
  assert.equal(parseRules(DEFAULT_RULES_TEXT, I, O).length, 27);
  // all 27 combinations of the three inputs' terms appear exactly once
  const keys = new Set(DEFAULT_FIS.rules.map((r) => r.antecedent.join(',')));
  assert.equal(keys.size, 27);
});
