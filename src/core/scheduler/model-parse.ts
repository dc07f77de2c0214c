/**
 * model-parse validates what callers send the scheduler: configurations (from the control
 * panel) and hardware node records. It refuses unknown keys and names every bad field at once,
 * so nothing invalid reaches the pipeline.
 */
import { invalid, type FieldProblem } from '../errors.js';
import { settleProblems, unknownKeys } from '../keys.js';
import { checkSlug } from '../model/names.js';
import {
  DEFAULT_BEHAVIOUR,
  INTENSITIES,
  MAX_COMPONENTS,
  NODE_STATES,
  NO_RISK,
  OPERATING_SYSTEMS,
  RESOURCES,
  RESOURCE_UNITS,
  RISKS,
  RISK_LEVELS,
  ROLE_INTENSITY,
  TIER_ROLES,
  TRAFFIC_LEVELS,
  ZERO,
  type Behaviour,
  type Component,
  type Configuration,
  type Connection,
  type HardwareNode,
  type HostedComponent,
  type ResourceVector,
  type Risk,
  type Tier,
} from './model.js';

// The keys each level of a configuration may hold (docs/SCHEDULER.md); anything else is refused,
// since a misspelt hint (`behavior:`, `antiaffinity:`) would otherwise quietly take its default.
const CONFIGURATION_KEYS = ['id', 'account', 'risk', 'tiers', 'connections'] as const;
const TIER_KEYS = ['name', 'role', 'antiAffinity', 'components'] as const;
const COMPONENT_KEYS = ['id', 'resources', 'os', 'software', 'intensity', 'behaviour'] as const;
const BEHAVIOUR_KEYS = ['traffic', 'compression', 'packetRate', 'packetSize'] as const;
const CONNECTION_KEYS = ['from', 'to'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function oneOf<T extends string>(
  problems: FieldProblem[],
  field: string,
  v: unknown,
  allowed: readonly T[],
  dflt: T,
): T {
  if (v === undefined) return dflt;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  problems.push({ field, problem: `must be one of ${allowed.join(', ')}` });
  return dflt;
}

function number(problems: FieldProblem[], field: string, v: unknown, dflt: number | undefined, max = 1e12): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max) return v;
  problems.push({ field, problem: `must be a number from 0 to ${max}` });
  return 0;
}

function bool(problems: FieldProblem[], field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  problems.push({ field, problem: 'must be true or false' });
  return dflt;
}

function slug(problems: FieldProblem[], field: string, v: unknown): string {
  const p = checkSlug(field, v);
  if (p) problems.push(p);
  return typeof v === 'string' ? v : '';
}

function resources(problems: FieldProblem[], field: string, v: unknown, required: boolean): ResourceVector {
  if (v === undefined && !required) return ZERO;
  if (!isObj(v)) {
    problems.push({
      field,
      problem: `must be an object with ${RESOURCES.map((r) => `${r} (${RESOURCE_UNITS[r]})`).join(', ')}`,
    });
    return ZERO;
  }
  problems.push(...unknownKeys(v, RESOURCES, field));
  return {
    ram: number(problems, `${field}.ram`, v.ram, required ? undefined : 0),
    cpu: number(problems, `${field}.cpu`, v.cpu, required ? undefined : 0),
    disk: number(problems, `${field}.disk`, v.disk, required ? undefined : 0),
    bandwidth: number(problems, `${field}.bandwidth`, v.bandwidth, required ? undefined : 0),
  };
}

function behaviour(problems: FieldProblem[], field: string, v: unknown): Behaviour {
  if (v === undefined) return DEFAULT_BEHAVIOUR;
  if (!isObj(v)) {
    problems.push({ field, problem: 'must be an object with traffic, compression, packetRate, packetSize' });
    return DEFAULT_BEHAVIOUR;
  }
  problems.push(...unknownKeys(v, BEHAVIOUR_KEYS, field));
  return {
    traffic: oneOf(problems, `${field}.traffic`, v.traffic, TRAFFIC_LEVELS, 'normal'),
    compression: bool(problems, `${field}.compression`, v.compression, false),
    packetRate: number(problems, `${field}.packetRate`, v.packetRate, 0, 1e9),
    packetSize: number(problems, `${field}.packetSize`, v.packetSize, 0, 65535),
  };
}

function risk(problems: FieldProblem[], field: string, v: unknown): Risk {
  if (v === undefined) return NO_RISK;
  if (!isObj(v)) {
    problems.push({ field, problem: `must be an object grading ${RISKS.join(', ')} as ${RISK_LEVELS.join('|')}` });
    return NO_RISK;
  }
  problems.push(...unknownKeys(v, RISKS, field));
  return {
    spam: oneOf(problems, `${field}.spam`, v.spam, RISK_LEVELS, 'none'),
    hacking: oneOf(problems, `${field}.hacking`, v.hacking, RISK_LEVELS, 'none'),
    fraud: oneOf(problems, `${field}.fraud`, v.fraud, RISK_LEVELS, 'none'),
  };
}

/**
 * parseConfiguration validates a configuration as it arrives (JSON, or YAML parsed by the
 * caller) and returns it with every default filled in. It throws E_VALIDATION naming every
 * bad field: ids are slugs and unique within the configuration, every tier has a known role
 * and at least one component, resources are non-negative numbers, connections name existing
 * components, and no level holds a key it does not know. outerKeys are top-level keys the
 * caller reads itself (the manager's `edge`), allowed beside the configuration's own.
 */
export function parseConfiguration(input: unknown, outerKeys: readonly string[] = []): Configuration {
  const problems: FieldProblem[] = [];
  if (!isObj(input)) throw invalid([{ field: 'configuration', problem: 'must be an object with id, account, tiers' }]);
  problems.push(...unknownKeys(input, [...CONFIGURATION_KEYS, ...outerKeys], ''));
  const id = slug(problems, 'id', input.id);
  const account = slug(problems, 'account', input.account);
  const tiersIn = input.tiers;
  const tiers: Tier[] = [];
  const seen = new Set<string>();
  const tierNames = new Set<string>();
  let count = 0;
  if (!Array.isArray(tiersIn) || tiersIn.length === 0)
    problems.push({ field: 'tiers', problem: 'must be a non-empty list of tiers' });
  else {
    tiersIn.forEach((t: unknown, ti) => {
      const f = `tiers[${ti}]`;
      if (!isObj(t)) {
        problems.push({ field: f, problem: 'must be an object with name, role, components' });
        return;
      }
      problems.push(...unknownKeys(t, TIER_KEYS, f));
      const name = slug(problems, `${f}.name`, t.name);
      if (tierNames.has(name)) problems.push({ field: `${f}.name`, problem: `duplicate tier name ${name}` });
      tierNames.add(name);
      const role = oneOf(problems, `${f}.role`, t.role, TIER_ROLES, 'web');
      const antiAffinity = bool(problems, `${f}.antiAffinity`, t.antiAffinity, true);
      const components: Component[] = [];
      if (!Array.isArray(t.components) || t.components.length === 0)
        problems.push({ field: `${f}.components`, problem: 'must be a non-empty list of components' });
      else {
        t.components.forEach((c: unknown, ci) => {
          const cf = `${f}.components[${ci}]`;
          if (!isObj(c)) {
            problems.push({ field: cf, problem: 'must be an object with id and resources' });
            return;
          }
          problems.push(...unknownKeys(c, COMPONENT_KEYS, cf));
          const cid = slug(problems, `${cf}.id`, c.id);
          if (seen.has(cid))
            problems.push({
              field: `${cf}.id`,
              problem: `duplicate component id ${cid}; ids are unique within a configuration`,
            });
          seen.add(cid);
          const software = c.software === undefined ? [] : c.software;
          if (
            !Array.isArray(software) ||
            !software.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64)
          ) {
            problems.push({ field: `${cf}.software`, problem: 'must be a list of package names (1–64 characters)' });
          }
          components.push({
            id: cid,
            resources: resources(problems, `${cf}.resources`, c.resources, true),
            os: oneOf(problems, `${cf}.os`, c.os, OPERATING_SYSTEMS, 'debian'),
            software: Array.isArray(software) ? (software.filter((s) => typeof s === 'string') as string[]) : [],
            intensity: oneOf(problems, `${cf}.intensity`, c.intensity, INTENSITIES, ROLE_INTENSITY[role]),
            behaviour: behaviour(problems, `${cf}.behaviour`, c.behaviour),
          });
          count++;
        });
      }
      tiers.push({ name, role, antiAffinity, components });
    });
  }
  if (count > MAX_COMPONENTS)
    problems.push({
      field: 'tiers',
      problem: `at most ${MAX_COMPONENTS} components per configuration (got ${count}); split it into several configurations`,
    });
  const connections: Connection[] = [];
  if (input.connections !== undefined) {
    if (!Array.isArray(input.connections))
      problems.push({ field: 'connections', problem: 'must be a list of { from, to } component ids' });
    else {
      input.connections.forEach((c: unknown, i) => {
        const f = `connections[${i}]`;
        problems.push(...unknownKeys(c, CONNECTION_KEYS, f));
        if (
          !isObj(c) ||
          typeof c.from !== 'string' ||
          typeof c.to !== 'string' ||
          !seen.has(c.from) ||
          !seen.has(c.to) ||
          c.from === c.to
        ) {
          problems.push({
            field: f,
            problem: 'must be { from, to } naming two different components of this configuration',
          });
          return;
        }
        connections.push({ from: c.from, to: c.to });
      });
    }
  }
  const r = risk(problems, 'risk', input.risk);
  if (problems.length > 0) throw invalid(settleProblems(problems));
  return { id, account, risk: r, tiers, connections };
}

/** parseNode validates a hardware node record (capacity required; reserved, isolated, state and hosted default to empty, false, up, none). */
export function parseNode(input: unknown): HardwareNode {
  const problems: FieldProblem[] = [];
  if (!isObj(input)) throw invalid([{ field: 'node', problem: 'must be an object with id and capacity' }]);
  const id = typeof input.id === 'string' && input.id.length > 0 && input.id.length <= 64 ? input.id : '';
  if (id === '') problems.push({ field: 'id', problem: 'must be a string of 1–64 characters' });
  const capacity = resources(problems, 'capacity', input.capacity, true);
  const reserved = resources(problems, 'reserved', input.reserved, false);
  const hosted: HostedComponent[] = [];
  if (input.hosted !== undefined) {
    if (!Array.isArray(input.hosted))
      problems.push({ field: 'hosted', problem: 'must be a list of hosted components' });
    else {
      input.hosted.forEach((h: unknown, i) => {
        const f = `hosted[${i}]`;
        if (!isObj(h)) {
          problems.push({ field: f, problem: 'must be an object' });
          return;
        }
        hosted.push({
          configuration: slug(problems, `${f}.configuration`, h.configuration),
          component: slug(problems, `${f}.component`, h.component),
          tier: slug(problems, `${f}.tier`, h.tier),
          resources: resources(problems, `${f}.resources`, h.resources, true),
          intensity: oneOf(problems, `${f}.intensity`, h.intensity, INTENSITIES, 'neutral'),
          os: oneOf(problems, `${f}.os`, h.os, OPERATING_SYSTEMS, 'debian'),
        });
      });
    }
  }
  const node: HardwareNode = {
    id,
    capacity,
    reserved,
    isolated: bool(problems, 'isolated', input.isolated, false),
    state: oneOf(problems, 'state', input.state, NODE_STATES, 'up'),
    hosted,
  };
  if (problems.length > 0) throw invalid(problems);
  return node;
}
