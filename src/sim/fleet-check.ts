/**
 * fleet-check is the conservation test's oracle: it recounts a fleet from its per-server arrays
 * and reports every counter and list that disagrees.
 */
import type { Fleet } from './fleet.js';
import { ACTIVE, COLD, JOINING, SIM_STATES, WARM } from './server-states.js';

/** checkFleet returns what disagrees with the fleet's counters and lists (empty when it is consistent). */
export function checkFleet(f: Fleet): string[] {
  const bad: string[] = [];
  const byState = new Int32Array(SIM_STATES.length);
  const act = new Int32Array(f.active.length);
  const joi = new Int32Array(f.active.length);
  const from = new Int32Array(f.heldFrom.length);
  const foreign = new Int32Array(f.active.length);
  for (let s = 0; s < f.n; s++) {
    const st = f.state[s] as number;
    byState[st] = (byState[st] as number) + 1;
    const o = f.owner[s] as number;
    if (st === ACTIVE) act[o] = (act[o] as number) + 1;
    if (st === JOINING) joi[o] = (joi[o] as number) + 1;
    if (st === ACTIVE || st === JOINING) {
      const i = o * f.siteCount + (f.site[s] as number);
      from[i] = (from[i] as number) + 1;
      if (st === ACTIVE && f.site[s] !== f.customerSite[o]) foreign[o] = (foreign[o] as number) + 1;
    }
  }
  let total = 0;
  for (let i = 0; i < SIM_STATES.length; i++) {
    total += byState[i] as number;
    if (byState[i] !== f.stateCount[i])
      bad.push(`state ${SIM_STATES[i]}: counted ${f.stateCount[i]}, found ${byState[i]}`);
  }
  if (total !== f.n) bad.push(`servers: ${total} found, ${f.n} in the fleet`);
  for (let c = 0; c < f.active.length; c++) {
    if (act[c] !== f.active[c] || f.activeServers(c).length !== act[c])
      bad.push(`customer ${c}: active ${f.active[c]}, found ${act[c]}`);
    if (joi[c] !== f.joining[c]) bad.push(`customer ${c}: joining ${f.joining[c]}, found ${joi[c]}`);
    if (foreign[c] !== f.foreignActive[c])
      bad.push(`customer ${c}: ${f.foreignActive[c]} active servers of other sites, found ${foreign[c]}`);
    for (let si = 0; si < f.siteCount; si++)
      if (from[c * f.siteCount + si] !== f.lentTo(c, si))
        bad.push(`customer ${c}: holds ${f.lentTo(c, si)} of site ${si}, found ${from[c * f.siteCount + si]}`);
  }
  const cold = Array.from({ length: f.siteCount }, (_, si) => f.coldServers(si));
  const warm = Array.from({ length: f.siteCount }, (_, si) => f.warmServers(si));
  cold.forEach((l, si) => {
    for (const s of l)
      if (f.state[s] !== COLD || f.site[s] !== si)
        bad.push(`server ${s} in site ${si}'s cold pool is ${SIM_STATES[f.state[s] as number]}`);
  });
  warm.forEach((l, si) => {
    for (const s of l)
      if (f.state[s] !== WARM || f.site[s] !== si)
        bad.push(`server ${s} in site ${si}'s warm pool is ${SIM_STATES[f.state[s] as number]}`);
  });
  const pooled = cold.reduce((a, l) => a + l.length, 0) + warm.reduce((a, l) => a + l.length, 0);
  if (pooled !== (byState[COLD] as number) + (byState[WARM] as number))
    bad.push(`pool lists hold ${pooled}, states say ${(byState[COLD] as number) + (byState[WARM] as number)}`);
  return bad;
}
