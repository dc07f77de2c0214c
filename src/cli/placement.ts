/**
 * placement is the CLI of component placement (seed 003): submit a multi-tier configuration
 * (YAML or JSON; the API takes JSON), show where its components run, explain the scheduler's
 * decisions, and add a component to a running configuration.
 */
import type { Command } from 'commander';
import { readDocument as readInputDocument } from '../services/shared/document.js';
import type { Client } from './client.js';

interface MapRow {
  component: string;
  tier: string;
  node: string;
  state: string;
  address: string | null;
  moves: number;
}
interface ConfigMap {
  configuration: {
    id: string;
    account: string;
    state: string;
    edge: { pool: string; domains: string[]; balance: string; sticky: boolean };
  };
  components: MapRow[];
  explain?: string[];
}

/**
 * readDocument reads a placement file (YAML or JSON): a missing or broken file fails with
 * E_VALIDATION naming it and what it should hold. Its keys are checked by the manager, which
 * refuses unknown ones.
 */
export function readDocument(
  file: string,
  expected = 'a YAML or JSON configuration with id, account and tiers (docs/SCHEDULER.md)',
): unknown {
  return readInputDocument(file, { what: 'placement file', expected, code: 'E_VALIDATION' });
}

/** formatMap renders a configuration's map: one line per component with its node and state. */
export function formatMap(m: ConfigMap): string[] {
  const c = m.configuration;
  const lines = [
    `configuration ${c.id} (account ${c.account}): ${c.state}; edge pool ${c.edge.pool} ${c.edge.balance}${c.edge.sticky ? ' sticky' : ''} ${c.edge.domains.join(' ')}`,
  ];
  const w = Math.max(9, ...m.components.map((x) => x.component.length));
  lines.push(
    `  ${'COMPONENT'.padEnd(w)}  ${'TIER'.padEnd(8)}  ${'NODE'.padEnd(12)}  ${'STATE'.padEnd(8)}  ${'MOVES'.padEnd(5)}  ADDRESS`,
  );
  for (const x of m.components)
    lines.push(
      `  ${x.component.padEnd(w)}  ${x.tier.padEnd(8)}  ${x.node.padEnd(12)}  ${x.state.padEnd(8)}  ${String(x.moves).padEnd(5)}  ${x.address ?? '-'}`,
    );
  return lines;
}

/** registerPlacementCommands adds `config submit|show|explain|add-component` to the program. */
export function registerPlacementCommands(program: Command, client: () => Client): void {
  const config = program
    .command('config')
    .description('multi-tier virtual server configurations placed on hardware nodes (docs/SCHEDULER.md)');

  config
    .command('submit <file>')
    .description('place a configuration (YAML or JSON) and deploy it')
    .option('--explain', "print the scheduler's scores and rejections")
    .option('--json', 'print JSON')
    .action(async (file: string, o: { explain?: boolean; json?: boolean }) => {
      const r = await client().call<ConfigMap & { decision: string }>('POST', '/v1/configurations', readDocument(file));
      if (o.json) return console.log(JSON.stringify(r, null, 2));
      for (const l of formatMap(r)) console.log(l);
      if (o.explain) for (const l of r.explain ?? []) console.log(l);
    });

  config
    .command('show <id>')
    .description('where the components of a configuration run')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const r = await client().call<ConfigMap>('GET', `/v1/configurations/${encodeURIComponent(id)}`);
      if (o.json) return console.log(JSON.stringify(r, null, 2));
      for (const l of formatMap(r)) console.log(l);
    });

  config
    .command('explain <id>')
    .description("the scheduler's decisions for a configuration, newest first: scores, rejections, moves")
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const r = await client().call<{ decisions: Array<{ id: string; kind: string; at: string; explain: string[] }> }>(
        'GET',
        `/v1/configurations/${encodeURIComponent(id)}/explain`,
      );
      if (o.json) return console.log(JSON.stringify(r, null, 2));
      for (const d of r.decisions) {
        console.log(`${d.at} ${d.kind} ${d.id}`);
        for (const l of d.explain) console.log(`  ${l}`);
      }
    });

  config
    .command('add-component <id> <file>')
    .description(
      'add a component (YAML or JSON: { tier, component } or a component with --tier) to a running configuration',
    )
    .option('--tier <name>', 'the tier the component joins (when the file holds only the component)')
    .option('--json', 'print JSON')
    .action(async (id: string, file: string, o: { tier?: string; json?: boolean }) => {
      const doc = readDocument(
        file,
        'a YAML or JSON component (id, resources, os, software, behaviour), or { tier, component }',
      ) as Record<string, unknown>;
      const body = o.tier !== undefined ? { tier: o.tier, component: doc } : doc;
      const r = await client().call<ConfigMap>('POST', `/v1/configurations/${encodeURIComponent(id)}/components`, body);
      if (o.json) return console.log(JSON.stringify(r, null, 2));
      for (const l of formatMap(r)) console.log(l);
      for (const l of r.explain ?? []) console.log(l);
    });
}
