/**
 * fetch-boot-personality is the emulated boot loader's UEFI HTTP boot: what a machine runs
 * when its Boot override points at the seed's boot pointer. The test fakes boot the same way,
 * so a personality the emulator refuses is refused everywhere.
 */
import { request } from 'undici';
import { checkPersonality } from '../../core/model/check-personality.js';
import type { Personality } from '../../core/model/personality.js';

/**
 * fetchBootPersonality is the boot loader's HTTP boot: it GETs the boot pointer with the
 * machine's UUID and answers the personality, or why the boot failed.
 */
export async function fetchBootPersonality(
  uri: string,
  machineUuid: string,
  timeoutMs: number,
): Promise<Personality | string> {
  let text: string;
  try {
    const res = await request(uri, {
      method: 'GET',
      headers: { accept: 'application/json', 'x-hostfleet-machine': machineUuid },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.body.text();
    if (res.statusCode !== 200) return `boot pointer ${uri} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
  } catch (e) {
    return `boot pointer ${uri} did not answer: ${(e as Error).message}`;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `boot pointer ${uri} did not return JSON`;
  }
  const check = checkPersonality(body, machineUuid);
  if (!check.ok)
    return `boot pointer ${uri} returned an invalid personality: ${check.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`;
  return check.personality;
}
