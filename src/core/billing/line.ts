/**
 * line is one invoice line: what was charged (quantity and unit), at which rate, for how
 * much. Its amount is quantity × rate rounded once to the minor unit (money.ts), so every
 * line can be checked by hand and the invoice total is the plain sum of its lines.
 */
import type { Level } from './events.js';
import { type Currency, type Money, minorPerMajor, moneyFromMajor } from './money.js';
import { type Ratio, mul, ratio } from './ratio.js';

/** LINE_KINDS say what a line is for: a plan's fee, metered usage, a one-time fee, an overage. */
export const LINE_KINDS = ['plan', 'usage', 'fee', 'overage'] as const;
/** LineKind is one of LINE_KINDS. */
export type LineKind = (typeof LINE_KINDS)[number];

/** UNITS are the units lines are counted in. */
export const UNITS = ['server-hour', 'GB', 'GB-hour', 'GB RAM-hour', 'period', 'each'] as const;
/** Unit is one of UNITS. */
export type Unit = (typeof UNITS)[number];

/** InvoiceLine is one charge; quantity and rate are exact, amount is rounded once. */
export interface InvoiceLine {
  readonly kind: LineKind;
  readonly description: string;
  /** resource names what was used: a role ('front-end'), 'network', 'storage', 'ram', 'transfer'. */
  readonly resource: string | null;
  readonly level: Level | null;
  /** date is the UTC day a daily overage belongs to (YYYY-MM-DD), else null. */
  readonly date: string | null;
  readonly quantity: Ratio;
  readonly unit: Unit;
  /** rate is in major currency units per unit. */
  readonly rate: Ratio;
  readonly amount: Money;
}

/** makeLine builds a line and computes its amount from quantity × rate. */
export function makeLine(
  currency: Currency,
  l: Omit<InvoiceLine, 'amount' | 'resource' | 'level' | 'date'> &
    Partial<Pick<InvoiceLine, 'resource' | 'level' | 'date'>>,
): InvoiceLine {
  return {
    kind: l.kind,
    description: l.description,
    resource: l.resource ?? null,
    level: l.level ?? null,
    date: l.date ?? null,
    quantity: l.quantity,
    unit: l.unit,
    rate: l.rate,
    amount: moneyFromMajor(mul(l.quantity, l.rate), currency),
  };
}

/** feeLine builds a one-off line (quantity 1 'each') for an amount already in money. */
export function feeLine(
  kind: LineKind,
  description: string,
  fee: Money,
  extra: Partial<Pick<InvoiceLine, 'resource' | 'level' | 'date'>> = {},
): InvoiceLine {
  return {
    kind,
    description,
    resource: extra.resource ?? null,
    level: extra.level ?? null,
    date: extra.date ?? null,
    quantity: ratio(1),
    unit: kind === 'plan' ? 'period' : 'each',
    rate: ratio(fee.amountMinor, minorPerMajor(fee.currency)),
    amount: fee,
  };
}
