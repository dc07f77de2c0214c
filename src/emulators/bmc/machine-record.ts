/**
 * machine-record is what an emulated machine persists in dataDir (state.json) so a restarted
 * BMC finds the same machines again: their identity, data port, last power state, Boot
 * override and installed personality. A record is checked when it is read, so a damaged file
 * stops the BMC at start-up rather than confusing a boot later.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostfleetError } from '../../core/errors.js';
import type { Personality } from '../../core/model/personality.js';
import { BOOT_OVERRIDE_MODES, type BootOverrideMode } from '../../drivers/bmc/index.js';
import { freePort } from '../../services/shared/ports.js';
import { configError } from './config-error.js';
import { writeJsonAtomic } from './write-json-atomic.js';

/** BOOT_TARGETS are the Boot.BootSourceOverrideTarget values an emulated machine offers. */
export const BOOT_TARGETS = ['None', 'Pxe', 'Hdd', 'UefiHttp'] as const;
/** BootTarget is one of BOOT_TARGETS. */
export type BootTarget = (typeof BOOT_TARGETS)[number];

/** POWER_RESTORE_POLICIES are the values of PowerRestorePolicy: what a machine does when the BMC comes back. */
export const POWER_RESTORE_POLICIES = ['AlwaysOn', 'AlwaysOff', 'LastState'] as const;
/** PowerRestorePolicy is one of POWER_RESTORE_POLICIES. */
export type PowerRestorePolicy = (typeof POWER_RESTORE_POLICIES)[number];

/** BootSettings is the persisted Boot override. */
export interface BootSettings {
  readonly enabled: BootOverrideMode;
  readonly target: BootTarget;
  readonly httpBootUri: string | null;
}

/** MachineRecord is what a machine persists in dataDir so a restarted BMC finds it again. */
export interface MachineRecord {
  readonly id: string;
  readonly uuid: string;
  readonly dataPort: number;
  /** power is the last power state the BMC set (LastState restores it). */
  readonly power: 'On' | 'Off';
  readonly powerRestorePolicy: PowerRestorePolicy;
  readonly boot: BootSettings;
  /** installed is the personality on the machine's (emulated) local disk, booted when no pointer is set. */
  readonly installed: Personality | null;
}

function checkRecord(v: unknown, id: string, file: string): MachineRecord {
  const r = v as Partial<MachineRecord> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    r.id === id &&
    typeof r.uuid === 'string' &&
    Number.isInteger(r.dataPort) &&
    (r.power === 'On' || r.power === 'Off') &&
    (POWER_RESTORE_POLICIES as readonly unknown[]).includes(r.powerRestorePolicy) &&
    typeof r.boot === 'object' &&
    r.boot !== null &&
    (BOOT_OVERRIDE_MODES as readonly unknown[]).includes(r.boot.enabled) &&
    (BOOT_TARGETS as readonly unknown[]).includes(r.boot.target) &&
    (r.boot.httpBootUri === null || typeof r.boot.httpBootUri === 'string');
  if (!ok) throw configError('dataDir', `holds an unreadable machine state in ${file}; fix or delete that file`);
  return r as MachineRecord;
}

/**
 * loadMachineRecord reads machine id's record from dir, or creates a blank one (off, no
 * override, nothing installed), and writes it back. A fixed dataPortBase overrides the stored
 * port; otherwise a new machine gets a free port not in taken, which it then adds to.
 */
export async function loadMachineRecord(
  dir: string,
  id: string,
  index: number,
  dataHost: string,
  dataPortBase: number,
  taken: Set<number>,
): Promise<MachineRecord> {
  const file = join(dir, 'state.json');
  let rec: MachineRecord;
  try {
    rec = checkRecord(JSON.parse(await readFile(file, 'utf8')), id, file);
    if (dataPortBase > 0) rec = { ...rec, dataPort: dataPortBase + index };
    if (rec.installed === undefined) rec = { ...rec, installed: null };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw e instanceof HostfleetError
        ? e
        : configError('dataDir', `holds an unreadable machine state in ${file} (${(e as Error).message})`);
    rec = {
      id,
      uuid: randomUUID(),
      dataPort: dataPortBase > 0 ? dataPortBase + index : await uniqueFreePort(dataHost, taken),
      power: 'Off',
      powerRestorePolicy: 'LastState',
      boot: { enabled: 'Disabled', target: 'None', httpBootUri: null },
      installed: null,
    };
  }
  taken.add(rec.dataPort);
  await writeJsonAtomic(file, rec);
  return rec;
}

/** uniqueFreePort asks the OS for free ports until one is not already given to another machine. */
async function uniqueFreePort(host: string, taken: ReadonlySet<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort(host);
    if (!taken.has(p)) return p;
  }
  throw configError('dataHost', `has no free ports left on ${host}`);
}
