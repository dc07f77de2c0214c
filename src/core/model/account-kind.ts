/**
 * account-kind tells a reseller's account from a customer's, so a console user's role and
 * account are checked together: a reseller login on a plain customer's account would let that
 * customer create accounts of its own, and a customer login on a reseller's account would show
 * none of the reseller's customers. Accounts carry no kind of their own; it follows from what
 * they hold.
 */
import { count } from '../count.js';
import { HostfleetError } from '../errors.js';
import type { ApiRole } from './records.js';

/** ACCOUNT_KINDS are what an account can be: a reseller's, a customer's, or new (either, until it holds something). */
export const ACCOUNT_KINDS = ['reseller', 'customer', 'new'] as const;
/** AccountKind is one of ACCOUNT_KINDS. */
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** AccountFacts are what decides an account's kind. */
export interface AccountFacts {
  readonly id: string;
  /** resellerId is the reseller whose customer the account is, or null. */
  readonly resellerId: string | null;
  /** customers counts the accounts whose reseller this account is. */
  readonly customers: number;
  /** hosted tells whether the account has services of its own (groups, or a hosting account from an order). */
  readonly hosted: boolean;
}

/**
 * accountKind: an account with customers is a reseller's (it may host its own site too); one
 * that is a reseller's customer, or hosts services and has no customers, is a customer's; an
 * account holding nothing yet is new, so an operator can create a reseller's account and its
 * first login before the reseller has any customer.
 */
export function accountKind(f: AccountFacts): AccountKind {
  if (f.customers > 0) return 'reseller';
  if (f.resellerId !== null || f.hosted) return 'customer';
  return 'new';
}

/**
 * roleAccountMismatch returns the E_VALIDATION error, naming both fields, when a console user
 * of this role may not belong to the account; null when it may. Operators have no account and
 * are checked elsewhere.
 */
export function roleAccountMismatch(role: ApiRole, f: AccountFacts): HostfleetError | null {
  const kind = accountKind(f);
  if (role === 'reseller' && kind === 'customer') {
    const why =
      f.resellerId !== null
        ? `it is a customer of reseller ${f.resellerId}`
        : 'it has services of its own and no customer accounts';
    return new HostfleetError(
      'E_VALIDATION',
      `account ${f.id} is a customer's account (${why}), so it cannot have a user with role reseller; use role customer, or an accountId of a reseller's account`,
      {
        fields: [
          { field: 'body.role', problem: `must be customer for account ${f.id}` },
          {
            field: 'body.accountId',
            problem: "must name a reseller's account (one with customer accounts, or a new one) for role reseller",
          },
        ],
      },
    );
  }
  if (role === 'customer' && kind === 'reseller') {
    return new HostfleetError(
      'E_VALIDATION',
      `account ${f.id} is a reseller's account (it has ${count(f.customers, 'customer account')}), so it cannot have a user with role customer; use role reseller, or an accountId of one of its customers`,
      {
        fields: [
          { field: 'body.role', problem: `must be reseller for account ${f.id}` },
          { field: 'body.accountId', problem: "must name a customer's account for role customer" },
        ],
      },
    );
  }
  return null;
}
