/**
 * protocol is what a site's manager and the global coordinator say to each other over the bus
 * (subjects `hf-global.<site>.report` and `hf-global.<site>.view`). It is level-triggered:
 * every round each site reports its whole standing and the coordinator answers each site with
 * the whole of what it should be doing for the others — the groups it serves for other sites
 * (loans and takeovers) and the servers of other sites its own groups may use. A lost message
 * is repaired by the next one, and a manager that restarts finds its part again.
 *
 * Both sides parse what arrives with the TypeBox schemas below: the bus carries untyped JSON,
 * and one bad peer must not crash another site.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** PROTOCOL_VERSION is the version of these shapes; a receiver drops messages of another. */
export const PROTOCOL_VERSION = 1 as const;

const Name = Type.String({ pattern: '^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$' });
const Count = Type.Integer({ minimum: 0, maximum: 100_000 });
const Address = Type.String({ minLength: 3, maxLength: 300, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' });

/** GroupSpecSchema is what a lender needs to serve a group of another site: its personality and limits. */
export const GroupSpecSchema = Type.Object(
  {
    group: Name,
    held: Count,
    extended: Count,
    role: Type.String({ minLength: 1, maxLength: 40 }),
    image: Type.String({ minLength: 1, maxLength: 200 }),
    runtime: Type.Record(Type.String(), Type.Unknown()),
    domains: Type.Array(Type.String({ minLength: 4, maxLength: 253 }), { maxItems: 100 }),
  },
  { additionalProperties: false },
);
export type GroupSpec = Static<typeof GroupSpecSchema>;

const ReplicaSchema = Type.Object(
  { site: Name, lagMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]) },
  { additionalProperties: false },
);

const AccountSchema = Type.Object(
  {
    account: Name,
    /** uid is the account's uid, the same at every site that holds its data (sites have disjoint uid ranges). */
    uid: Type.Integer({ minimum: 1, maximum: 4_294_967_294 }),
    displayName: Type.String({ maxLength: 200 }),
    groups: Type.Array(GroupSpecSchema, { maxItems: 1000 }),
    replicas: Type.Array(ReplicaSchema, { maxItems: 32 }),
  },
  { additionalProperties: false },
);

const RemoteServerSchema = Type.Object({ id: Name, address: Address }, { additionalProperties: false });

/** SiteReportMessageSchema is a site's report (core SiteReport plus what the live sites need). */
export const SiteReportMessageSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    site: Name,
    utcOffsetMinutes: Type.Integer({ minimum: -720, maximum: 840 }),
    at: Type.Number(),
    spare: Count,
    recall: Count,
    asks: Type.Array(
      Type.Object(
        { group: Name, account: Name, count: Count, priority: Type.Number({ minimum: 0, maximum: 1 }) },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
    accounts: Type.Array(AccountSchema, { maxItems: 10_000 }),
    /** guests are the groups this site serves for other sites, with their servers ready to serve. */
    guests: Type.Array(
      Type.Object(
        {
          home: Name,
          group: Name,
          ready: Type.Array(RemoteServerSchema, { maxItems: 1000 }),
          busy: Count,
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
    /** attached lists, per own group, the servers of other sites its edge sends traffic to. */
    attached: Type.Array(
      Type.Object({ group: Name, lender: Name, servers: Type.Array(Name) }, { additionalProperties: false }),
      { maxItems: 1000 },
    ),
    restored: Type.Array(Name, { maxItems: 10_000 }),
    /** urls are where people and tools reach the site (for the global view). */
    urls: Type.Object(
      { api: Type.String({ maxLength: 300 }), edge: Type.String({ maxLength: 300 }) },
      {
        additionalProperties: false,
      },
    ),
  },
  { additionalProperties: false },
);
export type SiteReportMessage = Static<typeof SiteReportMessageSchema>;

/** GuestOrderSchema: serve `count` servers of a group of another site (a loan, or a takeover of a lost site). */
export const GuestOrderSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('loan'), Type.Literal('takeover')]),
    home: Name,
    account: Name,
    uid: Type.Integer({ minimum: 1 }),
    displayName: Type.String({ maxLength: 200 }),
    spec: GroupSpecSchema,
    count: Count,
    /** release names servers no site uses any more: the lender may take them back into its pool. */
    release: Type.Array(Name),
  },
  { additionalProperties: false },
);
export type GuestOrder = Static<typeof GuestOrderSchema>;

/** SiteViewSchema is the coordinator's answer to one site. */
export const SiteViewSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    site: Name,
    at: Type.Number(),
    guests: Type.Array(GuestOrderSchema),
    /** remote lists, per own group, the servers of other sites to send part of its traffic to. */
    remote: Type.Array(
      Type.Object(
        { group: Name, lender: Name, servers: Type.Array(RemoteServerSchema) },
        { additionalProperties: false },
      ),
    ),
    /**
     * takenOver lists this site's accounts served elsewhere since it was lost. Once this site is
     * back, the takeover site stops serving them; `stopped` says it has, and the data may be
     * copied back (the takeover site's copy wins: it took the writes made while this site was lost).
     */
    takenOver: Type.Array(
      Type.Object({ account: Name, site: Name, stopped: Type.Boolean() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type SiteView = Static<typeof SiteViewSchema>;

const checkReport = TypeCompiler.Compile(SiteReportMessageSchema);
const checkView = TypeCompiler.Compile(SiteViewSchema);

/** parseReport returns the message as a SiteReportMessage, or null when it is not one. */
export function parseReport(x: unknown): SiteReportMessage | null {
  return checkReport.Check(x) ? x : null;
}

/** parseView returns the message as a SiteView, or null when it is not one. */
export function parseView(x: unknown): SiteView | null {
  return checkView.Check(x) ? x : null;
}

/** guestName is the id a group or account of home has at the site serving it: `<home>-<id>`. */
export function guestName(home: string, id: string): string {
  return `${home}-${id}`;
}

/** remoteServerId is how a lent server is named in its borrower's edge pool: `<lender>-<server>`. */
export function remoteServerId(lender: string, server: string): string {
  return `${lender}-${server}`;
}

/** utcOffsetMinutes is the offset of an IANA time zone at an instant (east positive), via Intl. */
export function utcOffsetMinutes(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(atMs);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'));
  const utc = Math.floor(atMs / 60_000) * 60_000;
  return Math.round((local - utc) / 60_000);
}
