/**
 * resources renders the emulator's Redfish resources (DSP8010 schemas: ServiceRoot.v1_x,
 * ComputerSystemCollection, ComputerSystem.v1_x, SessionService.v1_x, Session.v1_x) and
 * validates what clients PATCH and POST to them. Pure functions of the machine state, so the
 * unit tests can check every rule without a server.
 */
import { BOOT_OVERRIDE_MODES, RESET_TYPES, type ResetType } from '../../drivers/bmc/index.js';
import { redfishMessage, type RedfishMessage } from '../../drivers/bmc/messages.js';
import type { MachineView } from './machine.js';
import { BOOT_TARGETS, POWER_RESTORE_POLICIES, type BootSettings, type PowerRestorePolicy } from './machine-record.js';
import type { Session } from './sessions.js';

/** REDFISH_VERSION is the protocol version the service root announces. */
export const REDFISH_VERSION = '1.17.0';
/** ROOT is the service root's URI. */
export const ROOT = '/redfish/v1/';
/** SYSTEMS is the Systems collection's URI. */
export const SYSTEMS = '/redfish/v1/Systems';
/** SESSION_SERVICE is the SessionService's URI. */
export const SESSION_SERVICE = '/redfish/v1/SessionService';
/** SESSIONS is the Sessions collection's URI. */
export const SESSIONS = '/redfish/v1/SessionService/Sessions';
/** BOOT_MODES are the BootSourceOverrideMode values; emulated machines are UEFI only (HTTP boot needs UEFI). */
export const BOOT_MODES = ['UEFI'] as const;

/** systemUri is the URI of system id. */
export function systemUri(id: string): string {
  return `${SYSTEMS}/${encodeURIComponent(id)}`;
}

/** etagOf is the resource's ETag, derived from the machine's version. */
export function etagOf(v: MachineView): string {
  return `W/"${v.version}"`;
}

/** serviceRoot renders ServiceRoot. */
export function serviceRoot(uuid: string): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#ServiceRoot.ServiceRoot',
    '@odata.id': ROOT,
    '@odata.type': '#ServiceRoot.v1_16_0.ServiceRoot',
    Id: 'RootService',
    Name: 'hostfleet BMC emulator',
    RedfishVersion: REDFISH_VERSION,
    UUID: uuid,
    Vendor: 'hostfleet',
    Systems: { '@odata.id': SYSTEMS },
    SessionService: { '@odata.id': SESSION_SERVICE },
    Links: { Sessions: { '@odata.id': SESSIONS } },
  };
}

/** systemCollection renders the ComputerSystemCollection of ids. */
export function systemCollection(ids: readonly string[]): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#ComputerSystemCollection.ComputerSystemCollection',
    '@odata.id': SYSTEMS,
    '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
    Name: 'Computer System Collection',
    Members: ids.map((id) => ({ '@odata.id': systemUri(id) })),
    'Members@odata.count': ids.length,
  };
}

/** computerSystem renders one ComputerSystem. */
export function computerSystem(v: MachineView): Record<string, unknown> {
  const r = v.record;
  const uri = systemUri(r.id);
  const state = v.powerState === 'Off' ? 'StandbyOffline' : v.powerState === 'PoweringOn' ? 'Starting' : 'Enabled';
  const p = r.installed;
  return {
    '@odata.context': '/redfish/v1/$metadata#ComputerSystem.ComputerSystem',
    '@odata.id': uri,
    '@odata.type': '#ComputerSystem.v1_22_0.ComputerSystem',
    '@odata.etag': etagOf(v),
    Id: r.id,
    Name: `Emulated machine ${r.id}`,
    SystemType: 'Physical',
    Manufacturer: 'hostfleet',
    Model: 'Emulated stateless server',
    UUID: r.uuid,
    PowerState: v.powerState,
    PowerRestorePolicy: r.powerRestorePolicy,
    'PowerRestorePolicy@Redfish.AllowableValues': POWER_RESTORE_POLICIES,
    Status: { State: state, Health: v.health },
    Boot: {
      BootSourceOverrideEnabled: r.boot.enabled,
      'BootSourceOverrideEnabled@Redfish.AllowableValues': BOOT_OVERRIDE_MODES,
      BootSourceOverrideTarget: r.boot.target,
      'BootSourceOverrideTarget@Redfish.AllowableValues': BOOT_TARGETS,
      BootSourceOverrideMode: 'UEFI',
      'BootSourceOverrideMode@Redfish.AllowableValues': BOOT_MODES,
      HttpBootUri: r.boot.httpBootUri,
    },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${uri}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': RESET_TYPES,
      },
    },
    Oem: {
      Hostfleet: {
        '@odata.type': '#HostfleetComputerSystem.v1_0_0.HostfleetComputerSystem',
        DataAddress: v.dataAddress,
        WorkloadPid: v.workloadPid,
        BootError: v.bootError,
        Installed:
          p === null
            ? null
            : { Server: p.server, Account: p.account.id, Group: p.group.id, Role: p.group.role, Volume: p.volume.id },
      },
    },
  };
}

/** sessionServiceResource renders the SessionService. */
export function sessionServiceResource(timeoutS: number): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#SessionService.SessionService',
    '@odata.id': SESSION_SERVICE,
    '@odata.type': '#SessionService.v1_1_9.SessionService',
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: timeoutS,
    Status: { State: 'Enabled', Health: 'OK' },
    Sessions: { '@odata.id': SESSIONS },
  };
}

/** sessionCollection renders the Sessions collection. */
export function sessionCollection(sessions: readonly Session[]): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#SessionCollection.SessionCollection',
    '@odata.id': SESSIONS,
    '@odata.type': '#SessionCollection.SessionCollection',
    Name: 'Session Collection',
    Members: sessions.map((s) => ({ '@odata.id': `${SESSIONS}/${s.id}` })),
    'Members@odata.count': sessions.length,
  };
}

/** sessionResource renders one Session (never its token). */
export function sessionResource(s: Session): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Session.Session',
    '@odata.id': `${SESSIONS}/${s.id}`,
    '@odata.type': '#Session.v1_7_0.Session',
    Id: s.id,
    Name: 'User Session',
    UserName: s.userName,
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** SystemPatch is a validated PATCH of a ComputerSystem. */
export interface SystemPatch {
  readonly boot: Partial<BootSettings>;
  readonly powerRestorePolicy?: PowerRestorePolicy;
}

const READ_ONLY_SYSTEM = [
  'Id',
  'Name',
  'UUID',
  'PowerState',
  'Status',
  'Actions',
  'Oem',
  'SystemType',
  'Manufacturer',
  'Model',
  'PowerRestorePolicy@Redfish.AllowableValues',
];
const READ_ONLY_BOOT = [
  'BootSourceOverrideEnabled@Redfish.AllowableValues',
  'BootSourceOverrideTarget@Redfish.AllowableValues',
  'BootSourceOverrideMode@Redfish.AllowableValues',
];

/**
 * checkSystemPatch validates a PATCH body of a ComputerSystem: every problem becomes one
 * ExtendedInfo message naming the property (RelatedProperties as JSON pointers), and nothing
 * is applied unless the whole body is valid.
 */
export function checkSystemPatch(
  body: unknown,
): { ok: true; patch: SystemPatch } | { ok: false; messages: RedfishMessage[] } {
  const m: RedfishMessage[] = [];
  if (!isObj(body)) return { ok: false, messages: [redfishMessage('MalformedJSON')] };
  const boot: { -readonly [K in keyof BootSettings]?: BootSettings[K] } = {};
  let policy: PowerRestorePolicy | undefined;
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.')) continue;
    if (k === 'Boot') {
      if (!isObj(v)) {
        m.push(redfishMessage('PropertyValueTypeError', [show(v), 'Boot'], ['#/Boot']));
        continue;
      }
      for (const [bk, bv] of Object.entries(v)) {
        const ptr = `#/Boot/${bk}`;
        switch (bk) {
          case 'BootSourceOverrideEnabled':
            if (typeof bv !== 'string') m.push(redfishMessage('PropertyValueTypeError', [show(bv), bk], [ptr]));
            else if (!(BOOT_OVERRIDE_MODES as readonly string[]).includes(bv))
              m.push(redfishMessage('PropertyValueNotInList', [bv, bk], [ptr]));
            else boot.enabled = bv as BootSettings['enabled'];
            break;
          case 'BootSourceOverrideTarget':
            if (typeof bv !== 'string') m.push(redfishMessage('PropertyValueTypeError', [show(bv), bk], [ptr]));
            else if (!(BOOT_TARGETS as readonly string[]).includes(bv))
              m.push(redfishMessage('PropertyValueNotInList', [bv, bk], [ptr]));
            else boot.target = bv as BootSettings['target'];
            break;
          case 'BootSourceOverrideMode':
            if (typeof bv !== 'string') m.push(redfishMessage('PropertyValueTypeError', [show(bv), bk], [ptr]));
            else if (!(BOOT_MODES as readonly string[]).includes(bv))
              m.push(redfishMessage('PropertyValueNotInList', [bv, bk], [ptr]));
            break;
          case 'HttpBootUri':
            if (bv === null || bv === '') boot.httpBootUri = null;
            else if (typeof bv !== 'string') m.push(redfishMessage('PropertyValueTypeError', [show(bv), bk], [ptr]));
            else if (!isHttpUri(bv)) m.push(redfishMessage('PropertyValueFormatError', [bv, bk], [ptr]));
            else boot.httpBootUri = bv;
            break;
          default:
            if (READ_ONLY_BOOT.includes(bk)) m.push(redfishMessage('PropertyNotWritable', [bk], [ptr]));
            else m.push(redfishMessage('PropertyUnknown', [bk], [ptr]));
        }
      }
    } else if (k === 'PowerRestorePolicy') {
      if (typeof v !== 'string') m.push(redfishMessage('PropertyValueTypeError', [show(v), k], [`#/${k}`]));
      else if (!(POWER_RESTORE_POLICIES as readonly string[]).includes(v))
        m.push(redfishMessage('PropertyValueNotInList', [v, k], [`#/${k}`]));
      else policy = v as PowerRestorePolicy;
    } else if (READ_ONLY_SYSTEM.includes(k)) {
      m.push(redfishMessage('PropertyNotWritable', [k], [`#/${k}`]));
    } else {
      m.push(redfishMessage('PropertyUnknown', [k], [`#/${k}`]));
    }
  }
  if (m.length > 0) return { ok: false, messages: m };
  return { ok: true, patch: { boot, ...(policy ? { powerRestorePolicy: policy } : {}) } };
}

/** isHttpUri tells whether s is an absolute http(s) URI with a host (what UEFI HTTP boot can fetch). */
export function isHttpUri(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && s.length <= 2048;
  } catch {
    return false;
  }
}

/**
 * alreadyInPowerState is the vendor-style refusal of a reset that would change nothing (see
 * BmcEmulatorOptions.refuseNoopResets). Vendors use their own registries for it; so do we.
 */
export function alreadyInPowerState(type: ResetType, power: string): RedfishMessage {
  return {
    '@odata.type': '#Message.v1_1_2.Message',
    MessageId: 'Hostfleet.1.0.0.AlreadyInPowerState',
    Message: `The system is already ${power}; ResetType ${type} was not performed.`,
    MessageArgs: [power, type],
    MessageSeverity: 'Warning',
    Severity: 'Warning',
    Resolution: 'None; the system is already in the requested power state.',
  };
}

/** checkReset validates a ComputerSystem.Reset action body. */
export function checkReset(body: unknown): { ok: true; type: ResetType } | { ok: false; messages: RedfishMessage[] } {
  const action = 'ComputerSystem.Reset';
  if (body === undefined || body === null || (isObj(body) && Object.keys(body).length === 0)) {
    return { ok: false, messages: [redfishMessage('ActionParameterMissing', [action, 'ResetType'], ['#/ResetType'])] };
  }
  if (!isObj(body)) return { ok: false, messages: [redfishMessage('MalformedJSON')] };
  const m: RedfishMessage[] = [];
  for (const k of Object.keys(body))
    if (k !== 'ResetType') m.push(redfishMessage('ActionParameterUnknown', [action, k], [`#/${k}`]));
  const t = body.ResetType;
  if (t === undefined) m.push(redfishMessage('ActionParameterMissing', [action, 'ResetType'], ['#/ResetType']));
  else if (typeof t !== 'string' || !(RESET_TYPES as readonly string[]).includes(t))
    m.push(redfishMessage('ActionParameterValueNotInList', [show(t), 'ResetType', action], ['#/ResetType']));
  if (m.length > 0) return { ok: false, messages: m };
  return { ok: true, type: t as ResetType };
}
