// Invariants of the bus's subject grammar and routing index, checked with fast-check against
// independent reference definitions (a regular expression per pattern, brute-force search).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isHostfleetError } from '../../src/core/errors.js';
import {
  SubjectIndex,
  checkPattern,
  checkToken,
  patternsOverlap,
  splitSubject,
  subjectMatches,
} from '../../src/drivers/bus/subjects.js';
import { Router } from '../../src/drivers/bus/router.js';

// A small alphabet makes patterns and subjects collide often, which is where bugs live.
const literal = fc.constantFrom('a', 'b', 'c');
const subjectArb = fc.array(literal, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const patternArb = fc
  .tuple(fc.array(fc.oneof(literal, fc.constant('*')), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([t, rest]) => (rest ? [...t.slice(0, 3), '>'] : t).join('.'));

/** reference is NATS matching restated as a regular expression. */
function reference(pattern: string): RegExp {
  const parts = pattern
    .split('.')
    .map((t) => (t === '*' ? '[^.]+' : t === '>' ? '[^.]+(?:\\.[^.]+)*' : t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('\\.')}$`);
}

test('subjectMatches agrees with the regular-expression reference', () => {
  fc.assert(
    fc.property(patternArb, subjectArb, (p, s) => subjectMatches(p, s) === reference(p).test(s)),
    { numRuns: 2000 },
  );
});

test('SubjectIndex returns exactly the matching patterns, also after removals', () => {
  fc.assert(
    fc.property(
      fc.array(patternArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.array(subjectArb, { minLength: 1, maxLength: 8 }),
      (patterns, removals, subjects) => {
        const idx = new SubjectIndex<number>();
        const live = new Map<number, string>();
        patterns.forEach((p, i) => {
          idx.add(p, i);
          live.set(i, p);
        });
        for (const r of removals) {
          const i = r % patterns.length;
          idx.remove(patterns[i] as string, i);
          live.delete(i);
        }
        assert.equal(idx.size, live.size);
        for (const s of subjects) {
          const want = [...live]
            .filter(([, p]) => reference(p).test(s))
            .map(([i]) => i)
            .sort((a, b) => a - b);
          assert.deepEqual(
            idx.match(s).sort((a, b) => a - b),
            want,
            `subject ${s}`,
          );
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('patternsOverlap holds exactly when some subject matches both (brute force up to 5 tokens)', () => {
  const alphabet = ['a', 'b', 'c', 'z'];
  const all: string[] = [];
  const grow = (prefix: string[]): void => {
    if (prefix.length > 0) all.push(prefix.join('.'));
    if (prefix.length < 5) for (const t of alphabet) grow([...prefix, t]);
  };
  grow([]);
  fc.assert(
    fc.property(patternArb, patternArb, (a, b) => {
      const ra = reference(a);
      const rb = reference(b);
      const witness = all.some((s) => ra.test(s) && rb.test(s));
      return patternsOverlap(a, b) === witness && patternsOverlap(b, a) === witness;
    }),
    { numRuns: 400 },
  );
});

test('a token with a dot, wildcard, space or control character is never accepted', () => {
  const evil = fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('.', '*', '>', ' ', '\t', '\n', '\u0000', '\u00a0'),
      fc.string({ maxLength: 10 }),
    )
    .map(([a, c, b]) => a + c + b);
  fc.assert(
    fc.property(evil, (t) => {
      assert.throws(
        () => checkToken('site', t),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
      );
    }),
    { numRuns: 1000 },
  );
  // …and every accepted token is one subject token that no pattern reads as a wildcard.
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 70 }), (t) => {
      let ok = true;
      try {
        checkToken('site', t);
      } catch {
        ok = false;
      }
      if (ok) assert.deepEqual(splitSubject(`hf.${t}.status`, false), ['hf', t, 'status']);
    }),
    { numRuns: 1000 },
  );
});

test('patterns: > only last, * only as a whole token', () => {
  const table: Array<{ name: string; pattern: string; ok: boolean }> = [
    { name: 'trailing >', pattern: 'a.b.>', ok: true },
    { name: 'lone >', pattern: '>', ok: true },
    { name: 'inner *', pattern: 'a.*.c', ok: true },
    { name: 'inner >', pattern: 'a.>.c', ok: false },
    { name: 'partial *', pattern: 'a.b*.c', ok: false },
    { name: 'partial >', pattern: 'a.b>', ok: false },
    { name: 'empty token', pattern: 'a..c', ok: false },
    { name: 'leading dot', pattern: '.a', ok: false },
    { name: 'space', pattern: 'a.b c', ok: false },
  ];
  for (const t of table) {
    if (t.ok) checkPattern(t.pattern);
    else
      assert.throws(
        () => checkPattern(t.pattern),
        (e) => isHostfleetError(e, 'E_VALIDATION'),
        t.name,
      );
  }
});

test('Router: queue groups get each message once, plain subscribers all; nobody listening answers 503', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 40 }),
      (members, plains, messages) => {
        const r = new Router();
        const counts = new Map<string, number>();
        const target = (id: string): { deliver: () => void } => ({
          deliver: () => void counts.set(id, (counts.get(id) ?? 0) + 1),
        });
        for (let i = 0; i < members; i++) r.subscribe('s.*', 'q', target(`q${i}`));
        for (let i = 0; i < plains; i++) r.subscribe('s.>', undefined, target(`p${i}`));
        for (let m = 0; m < messages; m++)
          assert.equal(r.publish({ subject: 's.x', data: new Uint8Array() }), 1 + plains);
        const queued = [...counts].filter(([k]) => k.startsWith('q')).reduce((a, [, v]) => a + v, 0);
        assert.equal(queued, messages);
        for (let i = 0; i < plains; i++) assert.equal(counts.get(`p${i}`), messages);
        // Round-robin: no member gets more than one message above another.
        const per = Array.from({ length: members }, (_, i) => counts.get(`q${i}`) ?? 0);
        assert.ok(Math.max(...per) - Math.min(...per) <= 1, `fair shares ${per.join(',')}`);
      },
    ),
  );
  const r = new Router();
  const got: Array<Record<string, string> | undefined> = [];
  r.subscribe('_INBOX.x', undefined, {
    deliver: (m) => void got.push(m.headers as Record<string, string> | undefined),
  });
  assert.equal(r.publish({ subject: 'nobody.here', data: new Uint8Array(), reply: '_INBOX.x' }), 0);
  assert.deepEqual(got, [{ 'Hf-Status': '503' }]);
});
