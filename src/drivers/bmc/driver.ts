/**
 * driver holds the BmcDriver contract, its value lists and the checks of its arguments;
 * index.ts is the public surface.
 */
import { invalid } from '../../core/errors.js';

/** RESET_TYPES are the ComputerSystem.Reset types hostfleet uses (a subset of Resource.ResetType). */
export const RESET_TYPES = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'PowerCycle',
] as const;
/** ResetType is one of RESET_TYPES. */
export type ResetType = (typeof RESET_TYPES)[number];

/** BOOT_OVERRIDE_MODES are the values of Boot.BootSourceOverrideEnabled. */
export const BOOT_OVERRIDE_MODES = ['Once', 'Continuous', 'Disabled'] as const;
/** BootOverrideMode is one of BOOT_OVERRIDE_MODES. */
export type BootOverrideMode = (typeof BOOT_OVERRIDE_MODES)[number];

/** POWER_STATES are the power states SystemInfo reports (Redfish's Paused is reported as On). */
export const POWER_STATES = ['On', 'Off', 'PoweringOn', 'PoweringOff'] as const;
/** PowerState is one of POWER_STATES. */
export type PowerState = (typeof POWER_STATES)[number];

/** HEALTHS are the values of Status.Health. */
export const HEALTHS = ['OK', 'Warning', 'Critical'] as const;
/** Health is one of HEALTHS. */
export type Health = (typeof HEALTHS)[number];

/** SystemInfo is what the manager needs to know of one ComputerSystem. */
export interface SystemInfo {
  readonly id: string;
  readonly uuid: string;
  readonly powerState: PowerState;
  readonly health: Health;
  readonly boot: { readonly enabled: BootOverrideMode; readonly target: string; readonly httpBootUri: string | null };
  /** dataAddress is the data-plane address host:port, from Oem.Hostfleet.DataAddress when the BMC publishes one. */
  readonly dataAddress: string | null;
}

/**
 * BmcDriver controls the machines behind one BMC (one Redfish service).
 *
 * Idempotency contract, so a dispatcher that resumes a half-done move can simply repeat a step:
 * - setBootPointer with the values already set is a no-op (no PATCH is sent);
 *   clearBootPointer of a system with no override is a no-op.
 * - reset('On') of a machine that is on (or powering on), and reset('ForceOff') or
 *   reset('GracefulShutdown') of one that is off (or powering off), succeed without change.
 *   The hostfleet emulator answers these with 204; real BMCs may answer 409 or 400, which the
 *   client treats as "already done" after reading PowerState, and as E_BMC otherwise.
 * - Every failure is a HostfleetError('E_BMC') whose message names the BMC URL, the system and
 *   the Redfish error message (@Message.ExtendedInfo), and whose details carry the HTTP status.
 */
export interface BmcDriver {
  /** listSystems returns every ComputerSystem of the Systems collection. */
  listSystems(): Promise<SystemInfo[]>;
  /** getSystem returns one ComputerSystem by its Redfish Id. */
  getSystem(systemId: string): Promise<SystemInfo>;
  /** setBootPointer sets Boot to UefiHttp from httpBootUri, once or on every boot. */
  setBootPointer(systemId: string, httpBootUri: string, mode: 'Once' | 'Continuous'): Promise<void>;
  /** clearBootPointer disables the boot override and forgets the URI. */
  clearBootPointer(systemId: string): Promise<void>;
  /** reset posts ComputerSystem.Reset; it returns once the BMC accepted it, not once the machine booted. */
  reset(systemId: string, type: ResetType): Promise<void>;
  /** close logs out (session auth) and closes the keep-alive connections. */
  close(): Promise<void>;
}

/**
 * assertBootPointer throws E_VALIDATION unless httpBootUri is an absolute http(s) URL and mode
 * is Once or Continuous: every implementation refuses the same arguments before acting.
 */
export function assertBootPointer(httpBootUri: string, mode: string): void {
  let u: URL | null;
  try {
    u = new URL(httpBootUri);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw invalid([
      { field: 'httpBootUri', problem: `must be an absolute http(s) URL, got ${JSON.stringify(httpBootUri)}` },
    ]);
  if (mode !== 'Once' && mode !== 'Continuous')
    throw invalid([{ field: 'mode', problem: `must be Once or Continuous, got ${JSON.stringify(mode)}` }]);
}

/** assertResetType throws E_VALIDATION unless type is one of RESET_TYPES. */
export function assertResetType(type: string): asserts type is ResetType {
  if (!(RESET_TYPES as readonly string[]).includes(type))
    throw invalid([
      { field: 'type', problem: `must be one of ${RESET_TYPES.join(', ')}, got ${JSON.stringify(type)}` },
    ]);
}

/** REDFISH_AUTH_MODES are the ways the client authenticates: HTTP basic, or a Redfish session (X-Auth-Token). */
export const REDFISH_AUTH_MODES = ['basic', 'session'] as const;
/** RedfishAuthMode is one of REDFISH_AUTH_MODES. */
export type RedfishAuthMode = (typeof REDFISH_AUTH_MODES)[number];

/** RedfishBmcOptions configures redfishBmc. */
export interface RedfishBmcOptions {
  /** url is the BMC's base URL, e.g. https://10.0.0.5 or http://127.0.0.1:8443 (the service root is url + /redfish/v1/). */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** auth defaults to 'session', as DSP0266 recommends for repeated requests. */
  readonly auth?: RedfishAuthMode;
  /** timeoutMs bounds every request (headers and body); default 10000. */
  readonly timeoutMs?: number;
  /** insecureTls accepts self-signed BMC certificates (common on management networks); default false. */
  readonly insecureTls?: boolean;
}
