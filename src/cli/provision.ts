/**
 * provision holds the provisioning commands: `hostfleet provisioner --config FILE` runs a
 * service server's agent (the production entry point: the daemons it configures, the
 * manager, the bus, all from one validated file), and `hostfleet orders` with
 * `hostfleet order show|accept|reject ID` work the operator's review queue of orders whose
 * domain could not be verified.
 */
import pino from 'pino';
import type { Command } from 'commander';
import { ORDER_STATES } from '../core/provisioning/index.js';
import type { OrderState } from '../core/provisioning/index.js';
import { loadProvisionerConfig, startProvisionerFromConfig } from '../services/provisioner/main.js';
import { runService } from '../services/shared/process.js';
import type { Client } from './client.js';

interface OrderView {
  readonly id: string;
  readonly state: OrderState;
  readonly domain: string | null;
  readonly services: readonly string[];
  readonly plan: string;
  readonly contact: { readonly name: string; readonly email: string; readonly country: string } | null;
  readonly verifyAttempts: number;
  readonly reasons: readonly string[];
  readonly resellerId?: string | null;
  readonly accountId: string | null;
  readonly createdAt: string;
}

const state = (v: string): OrderState => {
  if (!(ORDER_STATES as readonly string[]).includes(v))
    throw new Error(`--state must be one of ${ORDER_STATES.join(', ')}`);
  return v as OrderState;
};
const orderId = (v: string): string => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(v))
    throw new Error(`an order id is letters, digits, '_' and '-'; got ${JSON.stringify(v)}`);
  return v;
};
const collect = (v: string, acc: string[]) => [...acc, v];

function line(o: OrderView): string {
  const who = o.contact ? `${o.contact.name} <${o.contact.email}> ${o.contact.country}` : '(contact deleted)';
  return `${o.id}  ${o.state.padEnd(10)} ${(o.domain ?? '-').padEnd(30)} ${o.plan.padEnd(9)} ${o.services.join(',').padEnd(16)} ${who}`;
}

/** registerProvisionCommands adds `provisioner`, `orders` and `order` to the program. */
export function registerProvisionCommands(program: Command, client: () => Client): void {
  program
    .command('provisioner')
    .description(
      "run a service server's provisioning agent: applies the manager's tasks to nginx, BIND, Postfix/Dovecot and Pure-FTPd",
    )
    .requiredOption(
      '-c, --config <file>',
      'configuration file (YAML or JSON; docs/PROVISIONING.md)',
      process.env.HOSTFLEET_PROVISIONER_CONFIG,
    )
    .option('--check', 'validate the configuration and exit')
    .action(async (o: { config: string; check?: boolean }) => {
      const cfg = loadProvisionerConfig(o.config);
      if (o.check) {
        console.log(
          `configuration ${o.config} is valid: server ${cfg.server.id}, services ${Object.keys(cfg.services).join(', ')}`,
        );
        return;
      }
      const log = pino({ level: cfg.log.level, base: { service: 'provisioner', server: cfg.server.id } });
      await runService('provisioner', async () => {
        const p = await startProvisionerFromConfig(cfg, { log });
        log.info({ services: p.drivers.map((d) => d.service), manager: cfg.managerUrl }, 'provisioner running');
        return p;
      });
    });

  program
    .command('orders')
    .description('orders, oldest first (operators); --state review lists the review queue')
    .option('--state <state>', `one of ${ORDER_STATES.join(', ')}`, state)
    .option('--json', 'print JSON')
    .action(async (o: { state?: OrderState; json?: boolean }) => {
      const { orders } = await client().call<{ orders: OrderView[] }>(
        'GET',
        `/v1/orders${o.state ? `?state=${o.state}` : ''}`,
      );
      if (o.json) {
        console.log(JSON.stringify({ orders }));
        return;
      }
      if (orders.length === 0) {
        console.log(`no orders${o.state ? ` in state ${o.state}` : ''}`);
        return;
      }
      for (const x of orders) {
        console.log(line(x));
        if (x.state === 'review' || x.state === 'rejected') for (const r of x.reasons) console.log(`    ${r}`);
      }
    });

  const order = program
    .command('order')
    .description(
      'work one order: show it, accept it (skips the domain check) or reject it (its contact data is deleted)',
    );
  order
    .command('show <id>')
    .description('an order with its reasons')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { order: x } = await client().call<{ order: OrderView }>('GET', `/v1/orders/${orderId(id)}`);
      if (o.json) console.log(JSON.stringify({ order: x }));
      else {
        console.log(line(x));
        for (const r of x.reasons) console.log(`    ${r}`);
      }
    });
  order
    .command('accept <id>')
    .description('accept an order waiting in review: it becomes verified and can be paid')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const r = await client().call<{ order: { id: string; state: string } }>(
        'POST',
        `/v1/orders/${orderId(id)}/accept`,
        {},
      );
      console.log(o.json ? JSON.stringify(r) : `order ${r.order.id} ${r.order.state}`);
    });
  order
    .command('reject <id>')
    .description("reject an order with reasons; the customer's contact data and the domain are deleted")
    .requiredOption('--reason <text>', 'why (repeat for several reasons)', collect, [] as string[])
    .option('--json', 'print JSON')
    .action(async (id: string, o: { reason: string[]; json?: boolean }) => {
      const r = await client().call<{ order: { id: string; state: string; reasons: string[] } }>(
        'POST',
        `/v1/orders/${orderId(id)}/reject`,
        { reasons: o.reason },
      );
      console.log(o.json ? JSON.stringify(r) : `order ${r.order.id} ${r.order.state}: ${r.order.reasons.join('; ')}`);
    });
}
