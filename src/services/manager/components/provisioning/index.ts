/**
 * provisioning is 004's database server inside the manager: the order form (public), domain
 * verification by a DNS TXT challenge and the operator review queue (orders.ts), payment
 * through a PaymentGateway and the creation of hosting accounts (payment.ts), the accounts and
 * their modifications (accounts.ts), and the service servers with the task store their agents
 * read (service-servers.ts). It nudges a service server's agent over the management bus with a
 * signed short-lived token naming the account (nudger.ts); the agent fetches its tasks here
 * and reports. The active manager nudges servers still out of step again every renudgeMs.
 */
import type { FastifyInstance } from 'fastify';
import { dnsResolver } from '../../../../drivers/dns/index.js';
import { testGateway } from '../../../../drivers/payments/index.js';
import type { PaymentGateway } from '../../../../drivers/payments/index.js';
import type { Component } from '../../context.js';
import { accountRoutes } from './accounts.js';
import type { ProvisioningDeps, RouteDeps } from './deps.js';
import { Nudger } from './nudger.js';
import { orderRoutes } from './orders.js';
import { paymentRoutes } from './payment.js';
import { serviceServerRoutes } from './service-servers.js';

export type { ProvisioningDeps } from './deps.js';

/** ProvisioningComponent is the provisioning component with the payment gateway it charges through. */
export interface ProvisioningComponent extends Component {
  gateway(): PaymentGateway;
}

/** createProvisioning returns the provisioning component; its key, nudges and gateway are this manager's own. */
export function createProvisioning(ctx: ProvisioningDeps): ProvisioningComponent {
  let gateway = ctx.gateway;
  const nudger = new Nudger(ctx);
  const deps: RouteDeps = {
    ...ctx,
    nudger,
    resolver: ctx.resolver ?? dnsResolver(ctx.cfg.provisioning.resolvers),
    payments: () => (gateway ??= testGateway()),
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'provisioning',
    gateway: deps.payments,
    async routes(app: FastifyInstance) {
      await nudger.load();
      serviceServerRoutes(app, deps);
      orderRoutes(app, deps);
      paymentRoutes(app, deps);
      accountRoutes(app, deps);
    },
    async start() {
      // A pass still running when the next is due is left to finish, not doubled.
      let busy = false;
      timer = setInterval(() => {
        if (busy || !ctx.isLeader()) return;
        busy = true;
        nudger
          .renudge()
          .catch((e: unknown) => ctx.log.warn({ err: e }, 'provisioning re-nudge failed'))
          .finally(() => {
            busy = false;
          });
      }, ctx.cfg.provisioning.renudgeMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
    },
  };
}
