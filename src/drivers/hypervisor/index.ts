/**
 * hypervisor is the driver through which the manager's placement component (seed 003's
 * deployment manager and data collector) reaches the hardware nodes of the grid: it starts and
 * stops components (virtual servers) with their personalities, health-checks the nodes, and
 * reads what each component uses. `httpHypervisor` speaks the node API that
 * src/emulators/hypervisor serves; the contract every implementation keeps is stated on
 * HypervisorDriver (driver.ts), and test/contract/hypervisor.test.ts runs it against each.
 */
export { COMPONENT_ID_RE } from './driver.js';
export type {
  CallOptions,
  ComponentInfo,
  ComponentUsage,
  HypervisorDriver,
  HypervisorNode,
  NodeDescription,
} from './driver.js';
export { httpHypervisor } from './http.js';
export type { HttpHypervisorOptions } from './http.js';
