/**
 * scenario reads a simulation scenario (YAML or JSON): the sites with their time zones and
 * fleets, the server model (capacity, boot and reset delays, failures), the policies' settings,
 * and the customers — each mapped to a trace from data/traces (sliced, shifted, scaled) or to a
 * synthetic generator, with an SLA and a site. It validates once, naming every bad field and
 * every unknown key (with the known key it most likely meant), and builds each customer's
 * demand as requests per second per tick. The scenario's shape is scenario-spec.ts, its
 * validation scenario-parse.ts and the demand demand.ts; this module is their surface.
 */
import { dirname, resolve } from 'node:path';
import { invalid, isHostfleetError } from '../core/errors.js';
import { readDocument } from '../services/shared/document.js';
import { parseScenario } from './scenario-parse.js';
import type { Scenario } from './scenario-spec.js';

export * from './scenario-spec.js';
export { parseScenario } from './scenario-parse.js';
export { buildDemand, utcDay, type Demand } from './demand.js';

/** loadScenario reads a .yaml, .yml or .json scenario file; its errors name the file. */
export async function loadScenario(path: string): Promise<Scenario> {
  const raw = readDocument(path, {
    what: 'scenario file',
    expected: 'a YAML or JSON scenario with sites and customers (docs/SIMULATOR.md)',
    code: 'E_VALIDATION',
  });
  try {
    return parseScenario(raw, dirname(resolve(path)));
  } catch (e) {
    if (isHostfleetError(e, 'E_VALIDATION') && e.fields) throw invalid(e.fields, `scenario ${path}`);
    throw e;
  }
}
