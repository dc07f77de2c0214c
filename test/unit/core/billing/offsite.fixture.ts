/**
 * GOLD_WEB is the SLA plan body the off-site billing tests share (unit and integration): web
 * servers at 6.00 per server-hour, burst × 2, extended × 3 — a lent server costs 18.00 an hour,
 * 30 cents a minute, so every figure is whole cents — with entry fees 5.00 and 20.00, and only
 * the minutes held billed at committed.
 */
export const GOLD_WEB = {
  name: 'Gold',
  currency: 'USD',
  burstMultiple: 2,
  extendedMultiple: 3,
  burstEntryFee: '5.00',
  extendedEntryFee: '20.00',
  committedBilling: 'used',
  servers: { web: { committed: 1, burst: 2, extended: 3, rate: '6.00' } },
} as const;
