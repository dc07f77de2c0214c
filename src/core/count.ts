/**
 * count writes a number with its noun, singular for exactly one ("1 server", "0 servers",
 * "3 moves"), so no message anywhere says "1 servers". The API's messages and the CLI's output
 * both use it.
 */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
