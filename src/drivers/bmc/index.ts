/**
 * bmc is the manager's only way to control a machine: out-of-band, over Redfish (DMTF
 * DSP0266), whether the machine is a real server's BMC or one of the embedded fleet's
 * emulated machines (src/emulators/bmc). This is the seed's host management circuitry: it sets
 * the boot pointer ("initialization pointers") and reinitializes the server.
 */

export {
  RESET_TYPES,
  BOOT_OVERRIDE_MODES,
  POWER_STATES,
  HEALTHS,
  REDFISH_AUTH_MODES,
  assertBootPointer,
  assertResetType,
  type ResetType,
  type BootOverrideMode,
  type PowerState,
  type Health,
  type SystemInfo,
  type BmcDriver,
  type RedfishAuthMode,
  type RedfishBmcOptions,
} from './driver.js';
export { redfishBmc } from './redfish.js';
export { redfishError, redfishErrorText, REDFISH_MESSAGES, type RedfishMessageId } from './messages.js';
