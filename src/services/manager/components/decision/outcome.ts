/**
 * outcome records what became of each move a tick asked the dispatcher for, so a plan can say
 * which of its moves started and why the others did not.
 */
import { isHostfleetError } from '../../../../core/errors.js';
import type { MoveRecord } from '../../../../core/model/records.js';

/** MoveOutcome is what became of a planned move when the dispatcher was asked for it. */
export interface MoveOutcome {
  readonly serverId: string;
  readonly moveId: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * outcomeOf asks the dispatcher for one move and records the answer; stop is true when this
 * manager lost the lease (E_NOT_LEADER), which ends the tick's moves at once.
 */
export async function outcomeOf(
  serverId: string,
  ask: () => Promise<MoveRecord>,
): Promise<{ outcome: MoveOutcome; stop: boolean }> {
  try {
    const rec = await ask();
    return { outcome: { serverId, moveId: rec.id, error: null }, stop: false };
  } catch (e) {
    const error = isHostfleetError(e)
      ? { code: e.code, message: e.message }
      : { code: 'E_INTERNAL', message: (e as Error).message };
    return { outcome: { serverId, moveId: null, error }, stop: isHostfleetError(e, 'E_NOT_LEADER') };
  }
}
