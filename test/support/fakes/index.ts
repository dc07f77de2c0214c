/**
 * fakes are in-memory implementations of the drivers the manager acts through (BMC, edge,
 * volumes, hypervisor) and of the clock, each passing the same contract suite as the real
 * implementations (test/contract/), with a shared fault injection (faults.ts) so a test can
 * fail or stall any call. Tests run a whole manager on them in one process (startManager's
 * options) and see what a dispatcher does in milliseconds instead of booting machines.
 */
export { ANY_OP, Faults, type Call, type Stall } from './faults.js';
export { fakeClock, type FakeClock } from './clock.js';
export {
  BMC_OPS,
  fakeBmc,
  httpBootLoader,
  type BmcOp,
  type BootLoader,
  type FakeBmc,
  type FakeBmcOptions,
  type FakeMachine,
} from './bmc.js';
export { EDGE_OPS, fakeEdge, type EdgeOp, type FakeEdge, type InFlight } from './edge.js';
export { VOLUME_OPS, fakeVolumes, type FakeVolumes, type FakeVolumeStat, type VolumeOp } from './volumes.js';
export {
  HYPERVISOR_OPS,
  fakeHypervisor,
  type FakeComponent,
  type FakeHypervisor,
  type FakeNode,
  type HypervisorOp,
} from './hypervisor.js';
