/**
 * check-personality checks what a machine received from its boot pointer before anything acts
 * on it: the agent refuses to start with a malformed personality, and so do the emulated boot
 * loader (Health Critical), the runtime and the hypervisor node. The type is personality.ts.
 */
import type { FieldProblem } from '../errors.js';
import { ROLES } from './names.js';
import { PERSONALITY_KIND, type Personality } from './personality.js';

/** IMAGES are the runtimes a personality can name (the embedded fleet's machines and nodes boot them). */
export const IMAGES = ['hostfleet/demo-runtime'] as const;

/** ID_RE bounds the ids a personality carries (server, account, group, volume). */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** VOLUME_RE is the volume drivers' id grammar (src/drivers/volumes/ids.ts). */
const VOLUME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** PersonalityCheck is the outcome of checkPersonality: the typed personality, or every problem found. */
export type PersonalityCheck =
  | { readonly ok: true; readonly personality: Personality }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * checkPersonality validates value as a Personality; when machineUuid is given the personality
 * must have been issued for exactly that machine (case-insensitive, as UUIDs are).
 */
export function checkPersonality(value: unknown, machineUuid?: string): PersonalityCheck {
  const p: FieldProblem[] = [];
  if (!isObj(value)) return { ok: false, problems: [{ field: '', problem: 'must be a JSON object' }] };
  const v = value;
  if (v.kind !== PERSONALITY_KIND) p.push({ field: 'kind', problem: `must be ${PERSONALITY_KIND}` });
  if (typeof v.machine !== 'string' || v.machine === '')
    p.push({ field: 'machine', problem: 'must be the machine UUID' });
  else if (machineUuid !== undefined && v.machine.toLowerCase() !== machineUuid.toLowerCase())
    p.push({ field: 'machine', problem: `was issued for machine ${v.machine}, not ${machineUuid}` });
  if (typeof v.server !== 'string' || !ID_RE.test(v.server))
    p.push({ field: 'server', problem: 'must be an id (letters, digits, . _ -; at most 128)' });
  const account = v.account;
  if (
    !isObj(account) ||
    typeof account.id !== 'string' ||
    !ID_RE.test(account.id) ||
    typeof account.name !== 'string' ||
    account.name.length > 200
  ) {
    p.push({ field: 'account', problem: 'must be { id, name } with an id and a name of at most 200 characters' });
  }
  const group = v.group;
  if (
    !isObj(group) ||
    typeof group.id !== 'string' ||
    !ID_RE.test(group.id) ||
    typeof group.name !== 'string' ||
    group.name.length > 200
  ) {
    p.push({ field: 'group', problem: 'must be { id, name, role } with an id and a name of at most 200 characters' });
  } else if (!(ROLES as readonly unknown[]).includes(group.role)) {
    p.push({ field: 'group.role', problem: `must be one of ${ROLES.join(', ')}` });
  }
  if (typeof v.image !== 'string' || !(IMAGES as readonly string[]).includes(v.image))
    p.push({ field: 'image', problem: `must be one of ${IMAGES.join(', ')}` });
  const rt = v.runtime;
  if (!isObj(rt)) p.push({ field: 'runtime', problem: 'must be { serviceTimeMs, concurrency, maxQueue }' });
  else {
    if (!intIn(rt.serviceTimeMs, 0, 600_000))
      p.push({ field: 'runtime.serviceTimeMs', problem: 'must be an integer from 0 to 600000' });
    if (!intIn(rt.concurrency, 1, 10_000))
      p.push({ field: 'runtime.concurrency', problem: 'must be an integer from 1 to 10000' });
    if (!intIn(rt.maxQueue, 0, 1_000_000))
      p.push({ field: 'runtime.maxQueue', problem: 'must be an integer from 0 to 1000000' });
  }
  if (!isObj(v.volume) || typeof v.volume.id !== 'string' || !VOLUME_RE.test(v.volume.id))
    p.push({ field: 'volume.id', problem: 'must be a volume id (lower-case letters, digits, hyphens; at most 63)' });
  if (!intIn(v.uid, 0, 2 ** 31 - 1)) p.push({ field: 'uid', problem: 'must be a non-negative integer' });
  if (!intIn(v.gid, 0, 2 ** 31 - 1)) p.push({ field: 'gid', problem: 'must be a non-negative integer' });
  if (
    !isObj(v.config) ||
    Object.entries(v.config).some(
      ([k, x]) => !/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(k) || typeof x !== 'string' || x.length > 4096,
    )
  ) {
    p.push({
      field: 'config',
      problem: 'must map keys (letters, digits, _ . -; at most 64) to strings of at most 4096 characters',
    });
  }
  if (p.length > 0) return { ok: false, problems: p };
  return { ok: true, personality: v as unknown as Personality };
}
