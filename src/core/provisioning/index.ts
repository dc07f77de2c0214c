/**
 * provisioning is 004's automatic configuration of accounts from an order: the order form and
 * its validation, the strict grammars of every value written into a configuration file, the
 * assignment of services to service servers, the desired specs, the reconciler (task program)
 * and the renderers of nginx, BIND, Postfix, Dovecot and Pure-FTPd configuration.
 */
export * from './grammar.js';
export * from './order.js';
export * from './specs.js';
export * from './assign.js';
export * from './reconcile.js';
export * from './render.js';
