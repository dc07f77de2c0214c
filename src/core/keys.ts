/**
 * keys checks that a mapping read from a file (a scenario, a configuration, a placement
 * submission) holds only the keys its reader knows. Readers fill defaults, so a misspelt
 * setting would otherwise be ignored without a word and its default used instead; here it
 * fails, naming the key, where it is, and the known key it most likely meant.
 */
import { distance } from 'fastest-levenshtein';
import type { FieldProblem } from './errors.js';

/** KeyProblem is an unknown key's problem; meant is the field it most likely stood for, when one is near enough. */
export interface KeyProblem extends FieldProblem {
  readonly unknownKey: true;
  readonly meant?: string;
}

function isKeyProblem(p: FieldProblem | KeyProblem): p is KeyProblem {
  return 'unknownKey' in p;
}

/** isMapping tells whether a parsed value is a mapping (a YAML mapping, a JSON object), not a list or a scalar. */
export function isMapping(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** fieldOf joins a field path and a key the way problems name fields (`customers[3].trace` + `peakRps`). */
export function fieldOf(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

/**
 * nearestName is the allowed name closest to key, ignoring case, or undefined when none is
 * near enough to be a slip: at most a third of the shorter name's letters, rounded up, may
 * differ (a swap of two letters counts two), so `dayz` and `prot` suggest `days` and `port`,
 * but `id` does not suggest `kind`. Ties go to the earlier name.
 */
export function nearestName(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const name of allowed) {
    const d = distance(key.toLowerCase(), name.toLowerCase());
    if (d < bestD && d <= Math.ceil(Math.min(key.length, name.length) / 3)) {
      best = name;
      bestD = d;
    }
  }
  return best;
}

/**
 * unknownKeys lists one problem for each key of value that allowed does not name, as
 * `at.key: unknown key; did you mean …? allowed: …`. A value that is not a mapping has no keys
 * to check: its reader reports the wrong type.
 */
export function unknownKeys(value: unknown, allowed: readonly string[], at: string): KeyProblem[] {
  if (!isMapping(value)) return [];
  const out: KeyProblem[] = [];
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const near = nearestName(key, allowed);
    const hint = near === undefined ? '' : `did you mean ${near}? `;
    // Only a key standing in for an absent one explains that one's problems away.
    const meant = near === undefined || near in value ? {} : { meant: fieldOf(at, near) };
    out.push({
      field: fieldOf(at, key),
      problem: `unknown key; ${hint}allowed: ${allowed.join(', ')}`,
      unknownKey: true,
      ...meant,
    });
  }
  return out;
}

/**
 * settleProblems orders a reader's problems, unknown keys among them, so that each cause is
 * told once: a problem about the field a misspelt key meant (`scenario.customers: needs at
 * least one customer` after `scenario.custmers: … did you mean customers?`) is left out, since
 * fixing the spelling fixes both; so is the reader's own word on an unknown key (a schema's
 * "unexpected property"); and a problem repeated word for word (a customer expanded `count`
 * times) is told once. Unknown keys come first: they are usually the cause.
 */
export function settleProblems(problems: readonly (FieldProblem | KeyProblem)[]): FieldProblem[] {
  const keys = problems.filter(isKeyProblem);
  const others = problems.filter((p) => !isKeyProblem(p));
  const meant = keys.flatMap((k) => (k.meant === undefined ? [] : [k.meant]));
  const told = new Set(keys.map((k) => k.field));
  const shadowed = (field: string) =>
    told.has(field) || meant.some((m) => field === m || field.startsWith(`${m}.`) || field.startsWith(`${m}[`));
  const seen = new Set<string>();
  const out: FieldProblem[] = [];
  for (const p of [...keys, ...others.filter((o) => !shadowed(o.field))]) {
    const id = `${p.field}\u0000${p.problem}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ field: p.field, problem: p.problem });
  }
  return out;
}
