/**
 * principal is who sent a /v1 request: the API's authentication hook (api.ts) puts the caller
 * on the request, and every route that checks roles or visibility reads it back from here, so
 * routes depend on this small module rather than on the app that sets it.
 */
import type { FastifyRequest } from 'fastify';
import { HostfleetError } from '../../core/errors.js';
import type { Principal } from '../../core/model/records.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** principalOf returns the authenticated caller of a /v1 request. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new HostfleetError('E_UNAUTHENTICATED', 'authentication required');
  return req.principal;
}

/**
 * requireLeader throws E_NOT_LEADER on a standby manager: changes go to the active one, which
 * alone acts on the store (a standby that wrote would race the manager holding the lease).
 */
export function requireLeader(isLeader: () => boolean): void {
  if (!isLeader())
    throw new HostfleetError('E_NOT_LEADER', 'this manager is the standby; send changes to the active manager');
}
