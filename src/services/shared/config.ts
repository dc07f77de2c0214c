/**
 * config loads a process's configuration from an optional YAML or JSON file, then environment
 * variables over it, and validates the result against a TypeBox schema at start-up. Bad
 * configuration stops the process with one E_CONFIG error naming every wrong field.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HostfleetError } from '../../core/errors.js';

/** EnvBinding maps one environment variable to a dotted path in the configuration. */
export interface EnvBinding {
  readonly env: string;
  readonly path: string;
  readonly type: 'string' | 'number' | 'boolean';
}

/** loadConfig reads file (if any), applies env bindings, fills defaults and validates. */
export function loadConfig<S extends TSchema>(schema: S, opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; bindings?: readonly EnvBinding[]; overrides?: Record<string, unknown> }): Static<S> {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new HostfleetError('E_CONFIG', `cannot read the configuration file ${opts.file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      raw = (opts.file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text)) ?? {};
    } catch (e) {
      throw new HostfleetError('E_CONFIG', `the configuration file ${opts.file} is not valid ${opts.file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new HostfleetError('E_CONFIG', `the configuration file ${opts.file} must hold a mapping at the top`);
  }
  const env = opts.env ?? process.env;
  for (const b of opts.bindings ?? []) {
    const v = env[b.env];
    if (v === undefined || v === '') continue;
    let parsed: unknown = v;
    if (b.type === 'number') {
      parsed = Number(v);
      if (!Number.isFinite(parsed)) throw new HostfleetError('E_CONFIG', `environment variable ${b.env} must be a number, got ${JSON.stringify(v)}`, { fields: [{ field: b.env, problem: 'must be a number' }] });
    } else if (b.type === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(v)) throw new HostfleetError('E_CONFIG', `environment variable ${b.env} must be true or false`, { fields: [{ field: b.env, problem: 'must be true or false' }] });
      parsed = v === 'true' || v === '1';
    }
    setPath(raw, b.path, parsed);
  }
  for (const [path, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) setPath(raw, path, v);
  const withDefaults = Value.Default(schema, Value.Clone(raw));
  const problems = explain(schema, withDefaults, '');
  if (problems.length > 0) {
    const fields = dedupe(problems);
    const where = opts.file ? ` in ${opts.file} (or the environment)` : '';
    throw new HostfleetError('E_CONFIG', `invalid configuration${where}: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`, { fields });
  }
  return Value.Clean(schema, withDefaults) as Static<S>;
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
    const kind = (e.value as { kind?: unknown } | null)?.kind;
    const kinds = variants?.map((v) => (v as { properties?: { kind?: { const?: unknown } } }).properties?.kind?.const).filter((k) => k !== undefined) ?? [];
    if (variants && kinds.length > 0 && typeof e.value === 'object' && e.value !== null) {
      const variant = variants.find((v) => (v as { properties?: { kind?: { const?: unknown } } }).properties?.kind?.const === kind);
      if (variant) out.push(...explain(variant, e.value, prefix + e.path));
      else out.push({ field: `${field}.kind`, problem: `must be one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}` });
      continue;
    }
    out.push({ field, problem: e.message });
  }
  return out;
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

function dedupe<T extends { field: string; problem: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = `${x.field}\u0000${x.problem}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
