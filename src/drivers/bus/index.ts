/**
 * bus is the management bus (the seed's out-of-band communication channel): agents' status
 * and add/release requests to the site's manager, the manager's priority pushes and
 * provisioning nudges to agents. Three implementations keep one contract
 * (test/contract/bus.test.ts): memoryBus (in-process: simulator, unit tests), the loopback
 * hub and client (cross-process on one machine: the embedded site), and natsBus (production).
 * See docs/BUS.md.
 */
export type {
  Bus,
  BusKind,
  BusMessage,
  BusErrorListener,
  ConsumeOptions,
  DurableBus,
  DurableHandler,
  DurableMessageInfo,
  DurablePublishOptions,
  MessageHandler,
  MessageInfo,
  PublishAck,
  ReplyHandler,
  RequestOptions,
  StreamSpec,
  SubscribeOptions,
  Subscription,
} from './bus.js';
export { BUS_KINDS } from './bus.js';
export {
  subjects,
  streams,
  SUBJECT_KINDS,
  type SubjectKind,
  TOKEN_RE,
  checkToken,
  checkSubject,
  checkPattern,
  subjectMatches,
} from './subjects.js';
export { BUS_FAILURES, type BusFailure, busFailure, MAX_PAYLOAD_BYTES } from './codec.js';
export { memoryBus, type MemoryBus, type MemoryBusOptions } from './memory.js';
export { startBusHub, type BusHub, type BusHubOptions, type HubStats } from './loopback-hub.js';
export { loopbackBus, type LoopbackBus, type LoopbackBusOptions } from './loopback-client.js';
export { BUS_STATUSES, type BusStatus } from './status.js';
export { natsBus, type NatsBusOptions, type NatsTlsOptions } from './nats.js';
export { openBus, type OpenBusOptions } from './open.js';
