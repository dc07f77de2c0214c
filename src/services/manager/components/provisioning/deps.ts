/**
 * deps names what provisioning's parts share: the context pieces the component declares, and
 * what its factory builds once per manager (the nudger, the payment gateway, the resolver).
 */
import type { TxtResolver } from '../../../../drivers/dns/index.js';
import type { PaymentGateway } from '../../../../drivers/payments/index.js';
import type { ManagerContext } from '../../context.js';
import type { Nudger } from './nudger.js';

/**
 * ProvisioningDeps are what the component reads, writes and nudges through; the payment
 * gateway and the DNS resolver default to the test gateway and the configured resolvers
 * (tests and other gateways replace them).
 */
export type ProvisioningDeps = Pick<
  ManagerContext,
  'cfg' | 'siteId' | 'store' | 'log' | 'clock' | 'bus' | 'auth' | 'isLeader'
> & {
  readonly gateway?: PaymentGateway;
  readonly resolver?: TxtResolver;
};

/** RouteDeps are what provisioning's routes act through. */
export type RouteDeps = ProvisioningDeps & {
  readonly nudger: Nudger;
  readonly resolver: TxtResolver;
  /** payments is the gateway orders are charged through. */
  payments(): PaymentGateway;
};
