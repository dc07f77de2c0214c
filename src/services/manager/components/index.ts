/**
 * components lists the manager's features in start order. Add a feature by writing a
 * ManagerComponent in its own file here and naming it in this list.
 */
import type { ManagerComponent } from '../context.js';
import { slaComponent } from './sla.js';
import { provisioningComponent } from './provisioning.js';
import { agentsComponent } from './agents.js';
import { edgeSyncComponent } from './edge-sync.js';
import { billingComponent } from './billing.js';
import { consoleComponent } from './console.js';
import { placementComponent } from './placement.js';
import { decisionComponent } from './decision.js';

/** COMPONENTS are started by startManager in this order and stopped in reverse. */
export const COMPONENTS: readonly ManagerComponent[] = [
  slaComponent,
  provisioningComponent,
  agentsComponent,
  edgeSyncComponent,
  billingComponent,
  consoleComponent,
  placementComponent,
  decisionComponent,
];
