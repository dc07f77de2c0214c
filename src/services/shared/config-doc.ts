/**
 * config-doc writes the configuration reference (a Markdown table) from a TypeBox schema, so
 * docs/CONFIGURATION.md is generated from the very schema that validates the configuration.
 */
import type { TSchema } from '@sinclair/typebox';
import type { EnvBinding } from './config.js';

interface Row {
  path: string;
  type: string;
  def: string;
  env: string;
  desc: string;
}

function typeOf(s: TSchema): string {
  const x = s as Record<string, unknown>;
  if (Array.isArray(x.anyOf)) return (x.anyOf as TSchema[]).map(typeOf).join(' \\| ');
  if (x.const !== undefined) return `\`${JSON.stringify(x.const)}\``;
  if (x.type === 'array') return `list of ${typeOf(x.items as TSchema)}`;
  const bounds = [
    x.minimum !== undefined ? `≥ ${x.minimum}` : x.exclusiveMinimum !== undefined ? `> ${x.exclusiveMinimum}` : '',
    x.maximum !== undefined ? `≤ ${x.maximum}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${String(x.type ?? 'value')}${bounds ? ` (${bounds})` : ''}`;
}

function walk(s: TSchema, path: string, req: boolean, env: readonly EnvBinding[], out: Row[]): void {
  const x = s as Record<string, unknown>;
  const variants = x.anyOf as TSchema[] | undefined;
  if (variants && variants.every((v) => (v as Record<string, unknown>).type === 'object')) {
    // A union tagged by kind: every variant's settings, each marked with its kind.
    for (const v of variants) {
      const kind = ((v as { properties?: { kind?: { const?: unknown } } }).properties?.kind?.const ?? '?') as string;
      const rows: Row[] = [];
      walk(v, path, req, env, rows);
      out.push(...rows.map((r) => ({ ...r, desc: `(kind ${kind}) ${r.desc}`.trim() })));
    }
    return;
  }
  if (x.type === 'object' && x.properties) {
    const required = new Set((x.required as string[] | undefined) ?? []);
    for (const [k, v] of Object.entries(x.properties as Record<string, TSchema>))
      walk(v, path ? `${path}.${k}` : k, required.has(k), env, out);
    return;
  }
  if (x.type === 'array' && (x.items as Record<string, unknown>).type === 'object') {
    walk(x.items as TSchema, `${path}[]`, true, env, out);
    return;
  }
  out.push({
    path,
    type: typeOf(s),
    def: x.default !== undefined ? `\`${JSON.stringify(x.default)}\`` : req ? 'required' : '—',
    env:
      env
        .filter((b) => b.path === path)
        .map((b) => `\`${b.env}\``)
        .join(', ') || '—',
    desc: String(x.description ?? (x.pattern ? `matches \`${String(x.pattern)}\`` : '')).replace(/\|/g, '\\|'),
  });
}

/** configReference returns the Markdown table of every setting in schema. */
export function configReference(schema: TSchema, env: readonly EnvBinding[]): string {
  const rows: Row[] = [];
  walk(schema, '', true, env, rows);
  return [
    '| setting | type | default | environment | meaning |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.def} | ${r.env} | ${r.desc} |`),
  ].join('\n');
}
