/**
 * config loads a process's configuration from an optional YAML or JSON file, then environment
 * variables over it, and validates the result against a TypeBox schema at start-up. Bad
 * configuration stops the process with one E_CONFIG error naming every wrong field, unknown
 * keys included: a misspelt setting would otherwise be dropped and its default used unseen.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HostfleetError } from '../../core/errors.js';
import { fieldOf, isMapping, settleProblems, unknownKeys } from '../../core/keys.js';
import type { KeyProblem } from '../../core/keys.js';
import { readDocument } from './document.js';

/** EnvBinding maps one environment variable to a dotted path in the configuration. */
export interface EnvBinding {
  readonly env: string;
  readonly path: string;
  readonly type: 'string' | 'number' | 'boolean';
}

/** loadConfig reads file (if any), applies env bindings, fills defaults and validates. */
export function loadConfig<S extends TSchema>(
  schema: S,
  opts: {
    file?: string | undefined;
    env?: NodeJS.ProcessEnv;
    bindings?: readonly EnvBinding[];
    overrides?: Record<string, unknown>;
  },
): Static<S> {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    const doc =
      readDocument(opts.file, {
        what: 'configuration file',
        expected: 'a YAML or JSON mapping of the settings in docs/CONFIGURATION.md',
        code: 'E_CONFIG',
      }) ?? {};
    if (!isMapping(doc))
      throw new HostfleetError('E_CONFIG', `the configuration file ${opts.file} must hold a mapping at the top`);
    raw = { ...doc };
  }
  const env = opts.env ?? process.env;
  for (const b of opts.bindings ?? []) {
    const v = env[b.env];
    if (v === undefined || v === '') continue;
    let parsed: unknown = v;
    if (b.type === 'number') {
      parsed = Number(v);
      if (!Number.isFinite(parsed))
        throw new HostfleetError(
          'E_CONFIG',
          `environment variable ${b.env} must be a number, got ${JSON.stringify(v)}`,
          { fields: [{ field: b.env, problem: 'must be a number' }] },
        );
    } else if (b.type === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(v))
        throw new HostfleetError('E_CONFIG', `environment variable ${b.env} must be true or false`, {
          fields: [{ field: b.env, problem: 'must be true or false' }],
        });
      parsed = v === 'true' || v === '1';
    }
    setPath(raw, b.path, parsed);
  }
  for (const [path, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) setPath(raw, path, v);
  const withDefaults = Value.Default(schema, Value.Clone(raw));
  // Unknown keys are looked for in what the user wrote: defaults and environment bindings only
  // ever add keys the schema names.
  const fields = settleProblems([...unknownSettings(schema, raw, ''), ...explain(schema, withDefaults, '')]);
  if (fields.length > 0) {
    const where = opts.file ? ` in ${opts.file} (or the environment)` : '';
    throw new HostfleetError(
      'E_CONFIG',
      `invalid configuration${where}: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
      { fields },
    );
  }
  // No Value.Clean: unknown keys were refused above, and Clean would also empty the free-form
  // objects (additionalProperties: true) their own readers check later.
  return withDefaults as Static<S>;
}

/**
 * explain lists the problems of value against schema. A union of objects tagged by `kind`
 * (such as edge: builtin | haproxy) is explained against the variant its kind names, so the
 * error says "edge.token: …" rather than "edge: expected union value".
 */
function explain(schema: TSchema, value: unknown, prefix: string): { field: string; problem: string }[] {
  const out: { field: string; problem: string }[] = [];
  for (const e of Value.Errors(schema, value)) {
    const field = (prefix + e.path).replace(/^\//, '').replace(/\//g, '.') || '(top)';
    const variants = (e.schema as { anyOf?: TSchema[] }).anyOf;
    const kinds = variants?.map(kindOf).filter((k) => k !== undefined) ?? [];
    if (variants && kinds.length > 0 && typeof e.value === 'object' && e.value !== null) {
      const variant = variantOf(variants, e.value);
      if (variant) out.push(...explain(variant, e.value, prefix + e.path));
      else
        out.push({
          field: `${field}.kind`,
          problem: `must be one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}`,
        });
      continue;
    }
    out.push({ field, problem: e.message });
  }
  return out;
}

/** kindOf is the `kind` a variant of a tagged union stands for (its kind property's constant). */
function kindOf(variant: TSchema): unknown {
  return (variant as { properties?: { kind?: { const?: unknown } } }).properties?.kind?.const;
}

/** variantOf is the variant of a union tagged by kind that value's kind names, if any. */
function variantOf(variants: readonly TSchema[], value: unknown): TSchema | undefined {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === undefined ? undefined : variants.find((v) => kindOf(v) === kind);
}

/**
 * unknownSettings walks schema alongside value and lists every key that an object schema does
 * not name. An object with additionalProperties: true is free-form, checked by its own reader
 * (the manager's placement.scheduler); a union tagged by kind is walked in the variant the
 * value's kind names (a wrong kind is explain's problem). Arrays are named like explain's
 * fields (`bmcs.0.url`), so a misspelt key and its problems line up.
 */
function unknownSettings(schema: TSchema, value: unknown, at: string): KeyProblem[] {
  const s = schema as {
    type?: unknown;
    properties?: Record<string, TSchema>;
    additionalProperties?: unknown;
    items?: TSchema;
    anyOf?: TSchema[];
  };
  if (s.anyOf) {
    const variant = variantOf(s.anyOf, value);
    return variant ? unknownSettings(variant, value, at) : [];
  }
  if (s.type === 'array' && s.items && Array.isArray(value))
    return value.flatMap((x, i) => unknownSettings(s.items as TSchema, x, fieldOf(at, String(i))));
  if (s.type !== 'object' || !isMapping(value) || s.additionalProperties === true) return [];
  const props = s.properties ?? {};
  return [
    ...unknownKeys(value, Object.keys(props), at),
    ...Object.entries(props).flatMap(([k, p]) => (k in value ? unknownSettings(p, value[k], fieldOf(at, k)) : [])),
  ];
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}
