/**
 * defaultFis is the rule base the agent ships with: 3 inputs × 3 terms, 27 rules, one output.
 * It is the seed's example rule ("if priority is urgent and probability is abundant and expected
 * response time is too high then request an additional server") filled out to every combination.
 * docs/fis/default.fis is exportFis(DEFAULT_FIS) (a test keeps them equal); edit it in any .fis
 * tool and load it with importFis.
 *
 * Inputs:
 * - priority ∈ [0, 1]: the group's priority from the SLA (0 best effort … 1 urgent).
 * - probability ∈ [0, 1]: the predicted share of requests that will miss the SLA response target
 *   over the horizon, P(T > target) from the M/M/c model.
 * - response ∈ [−50, 50]: the expected response time on the B_k scale against the SLA target
 *   (min 0 ms, max 2 × target), so 0 is "at the target" and +50 "twice the target or worse".
 * Output: need ∈ [−1, 1], from "release a server" (−1) to "add a server" (+1).
 */
import type { FisSpec, VariableSpec } from './fis-spec.js';
import { parseRules } from './rules.js';

/** DEFAULT_INPUTS are the default system's input variables, in evaluation order. */
export const DEFAULT_INPUTS: readonly VariableSpec[] = [
  {
    name: 'priority',
    range: [0, 1],
    terms: [
      { name: 'low', mf: 'trimf', params: [-0.5, 0, 0.5] },
      { name: 'normal', mf: 'trimf', params: [0, 0.5, 1] },
      { name: 'urgent', mf: 'trimf', params: [0.5, 1, 1.5] },
    ],
  },
  {
    name: 'probability',
    range: [0, 1],
    terms: [
      { name: 'rare', mf: 'trapmf', params: [-0.1, 0, 0.1, 0.3] },
      { name: 'likely', mf: 'trimf', params: [0.1, 0.3, 0.5] },
      { name: 'abundant', mf: 'trapmf', params: [0.3, 0.5, 1, 1.1] },
    ],
  },
  {
    name: 'response',
    range: [-50, 50],
    terms: [
      { name: 'low', mf: 'trapmf', params: [-60, -50, -30, -10] },
      { name: 'ok', mf: 'trimf', params: [-30, 0, 25] },
      { name: 'too_high', mf: 'trapmf', params: [5, 30, 50, 60] },
    ],
  },
];

/** DEFAULT_OUTPUTS is the default system's one output, need. */
export const DEFAULT_OUTPUTS: readonly VariableSpec[] = [
  {
    name: 'need',
    range: [-1, 1],
    terms: [
      { name: 'release', mf: 'trapmf', params: [-1.4, -1, -0.6, 0] },
      { name: 'none', mf: 'trimf', params: [-0.4, 0, 0.4] },
      { name: 'add', mf: 'trapmf', params: [0, 0.6, 1, 1.4] },
    ],
  },
];

/**
 * DEFAULT_RULES_TEXT is the rule base in the rule language. Why these conclusions: a response
 * that is too high asks for a server unless misses are rare and the customer's priority does not
 * pay for headroom; an idle group gives servers back unless misses are still common; urgent
 * customers release only at half weight, so they keep headroom longer.
 */
export const DEFAULT_RULES_TEXT = `# response too high
if priority is low and probability is rare and response is too_high then need is none
if priority is normal and probability is rare and response is too_high then need is none
if priority is urgent and probability is rare and response is too_high then need is add
if priority is low and probability is likely and response is too_high then need is none
if priority is normal and probability is likely and response is too_high then need is add
if priority is urgent and probability is likely and response is too_high then need is add
if priority is low and probability is abundant and response is too_high then need is add
if priority is normal and probability is abundant and response is too_high then need is add
if priority is urgent and probability is abundant and response is too_high then need is add
# response about at the target
if priority is low and probability is rare and response is ok then need is release
if priority is normal and probability is rare and response is ok then need is none
if priority is urgent and probability is rare and response is ok then need is none
if priority is low and probability is likely and response is ok then need is none
if priority is normal and probability is likely and response is ok then need is none
if priority is urgent and probability is likely and response is ok then need is none
if priority is low and probability is abundant and response is ok then need is none
if priority is normal and probability is abundant and response is ok then need is none
if priority is urgent and probability is abundant and response is ok then need is add
# response well under the target
if priority is low and probability is rare and response is low then need is release
if priority is normal and probability is rare and response is low then need is release
if priority is urgent and probability is rare and response is low then need is release (0.5)
if priority is low and probability is likely and response is low then need is release
if priority is normal and probability is likely and response is low then need is release
if priority is urgent and probability is likely and response is low then need is none
if priority is low and probability is abundant and response is low then need is none
if priority is normal and probability is abundant and response is low then need is none
if priority is urgent and probability is abundant and response is low then need is none
`;

/** DEFAULT_FIS is the default Mamdani system: min/max, min implication, centroid. */
export const DEFAULT_FIS: FisSpec = {
  name: 'hostfleet_need',
  type: 'mamdani',
  andMethod: 'min',
  orMethod: 'max',
  impMethod: 'min',
  aggMethod: 'max',
  defuzzMethod: 'centroid',
  inputs: DEFAULT_INPUTS,
  outputs: DEFAULT_OUTPUTS,
  rules: parseRules(DEFAULT_RULES_TEXT, DEFAULT_INPUTS, DEFAULT_OUTPUTS),
};
