/**
 * order is 004's order form: contact details, the domain, the services wanted and the plan.
 * validateOrder names every missing or invalid field at once, so a customer fixes the form in
 * one go; nothing is stored until the whole order is valid. Payment details are not part of
 * the stored order: they go to the payment gateway once and only its reference is kept.
 */
import type { FieldProblem } from '../errors.js';
import { checkValue, describe } from './grammar.js';

/** SERVICE_KINDS are the services an account can have, in the order tasks apply them (DNS first, so names resolve when the others start). */
export const SERVICE_KINDS = ['dns', 'web', 'mail', 'ftp'] as const;
/** ServiceKind is one of SERVICE_KINDS. */
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** PLANS are what a customer can buy: monthly price and the limits of the account. */
export const PLANS = {
  starter: { priceCents: 500, currency: 'EUR', mailboxes: 5, ftpUsers: 2 },
  business: { priceCents: 1500, currency: 'EUR', mailboxes: 50, ftpUsers: 10 },
} as const;
/** PlanName is one of the PLANS' names. */
export type PlanName = keyof typeof PLANS;
/** PLAN_NAMES lists the plans. */
export const PLAN_NAMES = Object.keys(PLANS) as PlanName[];

/** Contact is who ordered: stored with the order, deleted when an operator rejects it. */
export interface Contact {
  readonly name: string;
  readonly email: string;
  readonly phone?: string | undefined;
  readonly country: string;
}

/** OrderForm is a validated order. */
export interface OrderForm {
  readonly contact: Contact;
  readonly domain: string;
  readonly services: readonly ServiceKind[];
  readonly plan: PlanName;
}

/** Validated is the outcome of a validation: the value, or every problem found. */
export type Validated<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly FieldProblem[] };

const KNOWN = ['contact', 'domain', 'services', 'plan'] as const;
const CONTACT_KNOWN = ['name', 'email', 'phone', 'country'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** validateOrder checks an order form (as received) and names each missing or invalid field. */
export function validateOrder(input: unknown, prefix = 'body'): Validated<OrderForm> {
  const p: FieldProblem[] = [];
  const f = (name: string) => `${prefix}.${name}`;
  if (!isRecord(input))
    return {
      ok: false,
      problems: [{ field: prefix, problem: 'must be an object with contact, domain, services and plan' }],
    };
  for (const k of Object.keys(input))
    if (!(KNOWN as readonly string[]).includes(k)) p.push({ field: f(k), problem: 'is not a known field; remove it' });
  const c = input.contact;
  if (!isRecord(c))
    p.push({ field: f('contact'), problem: 'is required: an object with name, email, country and optionally phone' });
  else {
    for (const k of Object.keys(c))
      if (!(CONTACT_KNOWN as readonly string[]).includes(k))
        p.push({ field: f(`contact.${k}`), problem: 'is not a known field; remove it' });
    for (const [k, kind] of [
      ['name', 'personName'],
      ['email', 'email'],
      ['country', 'country'],
    ] as const) {
      const e =
        c[k] === undefined
          ? { field: f(`contact.${k}`), problem: 'is required' }
          : checkValue(kind, f(`contact.${k}`), c[k]);
      if (e) p.push(e);
    }
    if (c.phone !== undefined) {
      const e = checkValue('phone', f('contact.phone'), c.phone);
      if (e) p.push(e);
    }
  }
  if (input.domain === undefined) p.push({ field: f('domain'), problem: 'is required' });
  else {
    const e = checkValue('domain', f('domain'), input.domain);
    if (e) p.push(e);
  }
  const s = input.services;
  if (!Array.isArray(s) || s.length === 0)
    p.push({ field: f('services'), problem: `is required: a non-empty list of ${SERVICE_KINDS.join(', ')}` });
  else {
    s.forEach((v, i) => {
      if (!(SERVICE_KINDS as readonly unknown[]).includes(v))
        p.push({
          field: f(`services.${i}`),
          problem: `must be one of ${SERVICE_KINDS.join(', ')}; got ${describe(v)}`,
        });
    });
    if (new Set(s).size !== s.length) p.push({ field: f('services'), problem: 'must not name a service twice' });
  }
  if (input.plan === undefined) p.push({ field: f('plan'), problem: 'is required' });
  else if (!(PLAN_NAMES as unknown[]).includes(input.plan))
    p.push({ field: f('plan'), problem: `must be one of ${PLAN_NAMES.join(', ')}; got ${describe(input.plan)}` });
  if (p.length > 0) return { ok: false, problems: p };
  const contact = c as Record<string, string>;
  return {
    ok: true,
    value: {
      contact: {
        name: contact.name as string,
        email: contact.email as string,
        ...(contact.phone !== undefined ? { phone: contact.phone } : {}),
        country: contact.country as string,
      },
      domain: input.domain as string,
      // Stored in apply order, so every later step reads them the same way.
      services: SERVICE_KINDS.filter((k) => (s as unknown[]).includes(k)),
      plan: input.plan as PlanName,
    },
  };
}

/** ORDER_STATES are the states of an order, from the form to a live account. */
export const ORDER_STATES = ['unverified', 'review', 'verified', 'completed', 'rejected'] as const;
/** OrderState is one of ORDER_STATES. */
export type OrderState = (typeof ORDER_STATES)[number];

/** challengeName is the TXT record name of an order's domain verification (like ACME's _acme-challenge). */
export function challengeName(domain: string): string {
  return `_hostfleet-challenge.${domain}`;
}
