/**
 * payments is the PaymentGateway driver interface (authorise, capture, refund) and the test
 * gateway. A gateway's contract: authorise reserves an amount and returns a reference (never
 * the card number, which nothing stores); capture and refund are idempotent by reference and
 * answer 'already' when repeated; a decline is a value with a reason, not an exception.
 */
import { randomUUID } from 'node:crypto';

/** Card is what a customer types at payment; it goes to the gateway once and is forgotten. */
export interface Card {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc: string;
  readonly holder: string;
}

/** Authorisation is the outcome of authorise. */
export type Authorisation =
  | { readonly ok: true; readonly reference: string; readonly last4: string }
  | { readonly ok: false; readonly reason: string };

/** Settlement is the outcome of capture or refund. */
export type Settlement =
  { readonly ok: true; readonly already: boolean } | { readonly ok: false; readonly reason: string };

/** PaymentGateway is the interface every payment provider's driver implements. */
export interface PaymentGateway {
  readonly name: string;
  authorise(card: Card, amountCents: number, currency: string, now: Date): Promise<Authorisation>;
  capture(reference: string): Promise<Settlement>;
  /** refund returns a captured amount, or releases an authorisation not captured yet. */
  refund(reference: string): Promise<Settlement>;
}

/**
 * TEST_CARDS are the test gateway's documented card numbers (the same numbers public payment
 * providers document for their test modes): each approves, or declines with its reason.
 */
export const TEST_CARDS: Readonly<
  Record<string, { readonly outcome: 'approve' } | { readonly outcome: 'decline'; readonly reason: string }>
> = {
  '4242424242424242': { outcome: 'approve' },
  '5555555555554444': { outcome: 'approve' },
  '4000000000000002': { outcome: 'decline', reason: 'card_declined: the bank declined the card' },
  '4000000000009995': { outcome: 'decline', reason: 'insufficient_funds: the card has insufficient funds' },
  '4000000000000069': { outcome: 'decline', reason: 'expired_card: the bank says the card has expired' },
};

/** luhn tells whether a card number passes the Luhn check. */
export function luhn(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return number.length > 0 && sum % 10 === 0;
}

/** TestGateway is the test gateway with what tests and operators of a test site may inspect. */
export interface TestGateway extends PaymentGateway {
  /** state is where the reference stands: authorised, captured or refunded. */
  state(reference: string): 'authorised' | 'captured' | 'refunded' | undefined;
  /** references lists every reference handed out, oldest first, with its amount and state. */
  references(): readonly {
    readonly reference: string;
    readonly amountCents: number;
    readonly state: 'authorised' | 'captured' | 'refunded';
  }[];
}

/** testGateway approves and declines by TEST_CARDS and refuses any other number (no real money, ever). */
export function testGateway(): TestGateway {
  const refs = new Map<string, { amount: number; state: 'authorised' | 'captured' | 'refunded' }>();
  return {
    name: 'test',
    async authorise(card, amountCents, _currency, now) {
      if (!/^\d{12,19}$/.test(card.number) || !luhn(card.number))
        return { ok: false, reason: 'invalid_number: the card number is not valid' };
      if (!/^\d{3,4}$/.test(card.cvc))
        return { ok: false, reason: 'invalid_cvc: the security code must be 3 or 4 digits' };
      const y = now.getUTCFullYear();
      const m = now.getUTCMonth() + 1;
      if (!(card.expMonth >= 1 && card.expMonth <= 12) || card.expYear < y || (card.expYear === y && card.expMonth < m))
        return { ok: false, reason: 'expired_card: the expiry date has passed' };
      if (!(Number.isInteger(amountCents) && amountCents > 0)) return { ok: false, reason: 'invalid_amount' };
      const t = TEST_CARDS[card.number];
      if (!t)
        return {
          ok: false,
          reason: 'test_mode: only the documented test card numbers are accepted by the test gateway',
        };
      if (t.outcome === 'decline') return { ok: false, reason: t.reason };
      const reference = `test_${randomUUID()}`;
      refs.set(reference, { amount: amountCents, state: 'authorised' });
      return { ok: true, reference, last4: card.number.slice(-4) };
    },
    async capture(reference) {
      const r = refs.get(reference);
      if (!r) return { ok: false, reason: 'unknown reference' };
      if (r.state === 'captured') return { ok: true, already: true };
      if (r.state === 'refunded') return { ok: false, reason: 'refunded already' };
      r.state = 'captured';
      return { ok: true, already: false };
    },
    async refund(reference) {
      const r = refs.get(reference);
      if (!r) return { ok: false, reason: 'unknown reference' };
      if (r.state === 'refunded') return { ok: true, already: true };
      r.state = 'refunded';
      return { ok: true, already: false };
    },
    state: (reference) => refs.get(reference)?.state,
    references: () => [...refs].map(([reference, r]) => ({ reference, amountCents: r.amount, state: r.state })),
  };
}
