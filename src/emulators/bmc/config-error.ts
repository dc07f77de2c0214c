/**
 * config-error is the one shape of the emulator's start-up errors, so every bad option or
 * unusable directory names its field and what to do, before any machine boots.
 */
import { HostfleetError } from '../../core/errors.js';

/** configError is the E_CONFIG error for field of the BMC emulator's options, with the problem found. */
export function configError(field: string, problem: string): HostfleetError {
  return new HostfleetError('E_CONFIG', `BMC emulator: ${field} ${problem}`, { fields: [{ field, problem }] });
}
