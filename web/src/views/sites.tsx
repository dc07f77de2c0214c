/**
 * Sites is the operator's global view (GET /v1/global, docs/MULTISITE.md): every site with its
 * local time, whether it still reports, its spare servers and what it lends and borrows; a strip
 * of the day with arrows from lender to borrower; every account's replication lag at each
 * replica site; and this site's own part — groups it serves for others, servers lent to its
 * groups, and its accounts served elsewhere.
 */
import { call } from '../api.js';
import type { GlobalAnswer, SiteReport, SiteView } from '../api.js';
import { Badge, Card } from '../ui/bits.js';
import { usePoll, useNow } from '../ui/poll.js';
import {
  MAX_LAG_MS,
  SILENT_MS,
  borrowed,
  isSilent,
  lagLevel,
  lendings,
  lentOut,
  localClock,
  offsetText,
  spanText,
} from '../ui/sites.js';
import type { Lending } from '../ui/sites.js';

/** REFRESH_MS is how often the view reads /v1/global (sites report about every 2 s). */
const REFRESH_MS = 3000;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function SiteCard(props: { r: SiteReport; here: boolean; now: number }) {
  const r = props.r;
  const silent = isSilent(r, props.now);
  const clock = localClock(r.utcOffsetMinutes, props.now);
  const asks = r.asks.filter((a) => a.count > 0);
  return (
    <div class={`site-card ${silent ? 'silent' : ''} ${props.here ? 'here' : ''}`} data-testid={`site-${r.site}`}>
      <div class="site-head">
        <span class="site-name mono">{r.site}</span>
        {props.here ? <span class="muted">this site</span> : null}
        <span class="spacer" />
        <Badge state={silent ? 'failed' : 'active'}>{silent ? 'silent' : 'reporting'}</Badge>
      </div>
      <div class="site-clock">
        <span data-testid={`clock-${r.site}`}>{clock.text}</span>{' '}
        <span class="muted">{offsetText(r.utcOffsetMinutes)}</span>
      </div>
      <div class="site-age muted">
        last report {spanText(props.now - r.at)} ago{silent ? ' — lost or cut off from the global bus' : ''}
      </div>
      <div class="site-stats">
        <div>
          <b>{r.spare}</b>
          <span>spare</span>
        </div>
        <div>
          <b>{lentOut(r)}</b>
          <span>lends out</span>
        </div>
        <div>
          <b>{borrowed(r)}</b>
          <span>borrows</span>
        </div>
      </div>
      {asks.length > 0 || r.recall > 0 ? (
        <div class="site-asks">
          {asks.map((a) => (
            <span class="chip s-moving">
              {a.group} asks {a.count}
            </span>
          ))}
          {r.recall > 0 ? <span class="chip s-pool-warm">recalls {r.recall}</span> : null}
        </div>
      ) : null}
    </div>
  );
}

// The strip is drawn by hand as SVG (no chart library): x is each site's local time of day, so
// sites in their night sit in the dark ends and a loan reads as an arc from lender to borrower.
const W = 960;
const X0 = 40;
const X1 = W - 40;
const STRIP_H = 18;
const ROW_H = 36;
const LABEL_GAP = 96;

const xOf = (hour: number) => X0 + (hour / 24) * (X1 - X0);

/** labelRows gives each site (in x order) the first label row where it does not touch its neighbour. */
function labelRows(xs: readonly number[]): number[] {
  const last: number[] = [];
  return xs.map((x) => {
    let row = last.findIndex((l) => x - l >= LABEL_GAP);
    if (row < 0) row = last.length;
    last[row] = x;
    return row;
  });
}

/** ArcShape is where an arrow starts and ends on the strip and how high its label sits above it. */
interface ArcShape {
  readonly l: Lending;
  readonly a: number;
  readonly b: number;
  readonly h: number;
}

function arcShape(l: Lending, from: number, to: number, lift: number): ArcShape {
  // Sites at the same hour get a loop over the pair instead of a flat line.
  const [a, b] = Math.abs(to - from) < 24 ? [from - 10, to + 10] : [from, to];
  return { l, a, b, h: 34 + lift + Math.min(70, Math.abs(b - a) * 0.22) };
}

function Arc(props: { s: ArcShape; y: number }) {
  const { l, a, b, h } = props.s;
  const y = props.y;
  const label = `${plural(l.ready, 'server')}${l.moving > 0 ? ` (+${l.moving} moving)` : ''}`;
  const mid = (a + b) / 2;
  const w = label.length * 6.6 + 12;
  return (
    <g data-testid={`arc-${l.lender}-${l.borrower}`}>
      <path
        class={`map-arc ${l.ready === 0 ? 'pending' : ''}`}
        d={`M ${a} ${y} Q ${mid} ${y - 2 * h} ${b} ${y}`}
        marker-end="url(#map-head)"
      />
      <rect class="map-tag" x={mid - w / 2} y={y - h - 13} width={w} height={18} rx={9} />
      <text class="map-tag-t" x={mid} y={y - h} text-anchor="middle">
        {label}
      </text>
    </g>
  );
}

function SiteMap(props: { sites: readonly SiteReport[]; here: string; now: number }) {
  const placed = props.sites
    .map((r) => ({ r, x: xOf(localClock(r.utcOffsetMinutes, props.now).hour) }))
    .sort((a, b) => a.x - b.x);
  const rows = labelRows(placed.map((p) => p.x));
  const xBy = new Map(placed.map((p) => [p.r.site, p.x]));
  const arcs = lendings(props.sites)
    .filter((l) => xBy.has(l.lender) && xBy.has(l.borrower))
    .map((l, i) => arcShape(l, xBy.get(l.lender) ?? 0, xBy.get(l.borrower) ?? 0, (i % 3) * 18));
  // The strip sits as low as the highest label above it needs, and right at the top without loans.
  const stripY = Math.max(12, ...arcs.map((s) => s.h + 28));
  const labelY = stripY + STRIP_H + 38;
  const height = labelY + Math.max(0, ...rows) * ROW_H + 22;
  const said = arcs.map((s) => `${s.l.lender} lends ${s.l.ready} to ${s.l.borrower}`).join('; ');
  return (
    <svg
      class="site-map"
      viewBox={`0 0 ${W} ${height}`}
      role="img"
      aria-label={`Sites by local time of day${said ? `: ${said}` : ''}`}
      data-testid="site-map"
    >
      <defs>
        <linearGradient id="map-day" x1="0" x2="1" y1="0" y2="0">
          <stop offset="0" stop-color="#1e293b" />
          <stop offset="0.22" stop-color="#334155" />
          <stop offset="0.3" stop-color="#bae6fd" />
          <stop offset="0.5" stop-color="#fef3c7" />
          <stop offset="0.76" stop-color="#bae6fd" />
          <stop offset="0.86" stop-color="#334155" />
          <stop offset="1" stop-color="#1e293b" />
        </linearGradient>
        <marker id="map-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M 0 0 L 10 5 L 0 10 z" class="map-head" />
        </marker>
      </defs>
      <rect x={X0} y={stripY} width={X1 - X0} height={STRIP_H} rx={9} fill="url(#map-day)" />
      {[0, 3, 6, 9, 12, 15, 18, 21, 24].map((h) => (
        <text class="map-hour" x={xOf(h)} y={stripY + STRIP_H + 14} text-anchor="middle">
          {String(h).padStart(2, '0')}:00
        </text>
      ))}
      {arcs.map((s) => (
        <Arc s={s} y={stripY - 8} />
      ))}
      {placed.map((p, i) => {
        const silent = isSilent(p.r, props.now);
        const ly = labelY + (rows[i] ?? 0) * ROW_H;
        return (
          <g data-testid={`map-${p.r.site}`}>
            <line class="map-lead" x1={p.x} y1={stripY + STRIP_H / 2} x2={p.x} y2={ly - 12} />
            <circle
              class={`map-site ${silent ? 'silent' : ''} ${p.r.site === props.here ? 'here' : ''}`}
              cx={p.x}
              cy={stripY + STRIP_H / 2}
              r={8}
            />
            <text class="map-name" x={p.x} y={ly} text-anchor="middle">
              {p.r.site}
              {silent ? ' (silent)' : ''}
            </text>
            <text class="map-time" x={p.x} y={ly + 14} text-anchor="middle">
              {localClock(p.r.utcOffsetMinutes, props.now).text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

function Replication(props: { sites: readonly SiteReport[] }) {
  const rows = props.sites.flatMap((r) => r.accounts.map((a) => ({ site: r.site, a })));
  if (rows.length === 0) return <p class="muted empty">No site has reported an account yet.</p>;
  return (
    <table class="tbl" data-testid="replication">
      <thead>
        <tr>
          <th>home</th>
          <th>account</th>
          <th>lag at each replica site</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ site, a }) => (
          <tr>
            <td class="mono">{site}</td>
            <td>
              <span class="mono">{a.account}</span> <span class="muted">{a.displayName}</span>
            </td>
            <td>
              {a.replicas.length === 0 ? (
                <span class="muted">no replica site</span>
              ) : (
                <div class="chips">
                  {a.replicas.map((x) => (
                    <span class={`chip lag-${lagLevel(x.lagMs)}`} data-testid={`lag-${site}-${a.account}-${x.site}`}>
                      {x.site} · {x.lagMs === null ? 'never copied' : spanText(x.lagMs)}
                    </span>
                  ))}
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Serving(props: { view: SiteView; own: SiteReport | undefined }) {
  if (props.view.guests.length === 0) return <p class="muted empty">No group of another site is served here.</p>;
  return (
    <table class="tbl" data-testid="serving">
      <thead>
        <tr>
          <th>kind</th>
          <th>for</th>
          <th class="num">wanted</th>
          <th class="num">ready</th>
          <th class="num">to give back</th>
        </tr>
      </thead>
      <tbody>
        {props.view.guests.map((o) => {
          const g = props.own?.guests.find((x) => x.home === o.home && x.group === o.spec.group);
          return (
            <tr>
              <td>
                <Badge state={o.kind === 'loan' ? 'pool-warm' : 'failed'}>{o.kind}</Badge>
              </td>
              <td class="nowrap">
                <span class="mono">
                  {o.home}/{o.spec.group}
                </span>{' '}
                <span class="muted">{o.displayName}</span>
              </td>
              <td class="num">{o.count}</td>
              <td class="num">{g ? g.ready.length : 0}</td>
              <td class="num">{o.release.length}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const lentKey = (x: { group: string; lender: string; server: string }) => `${x.group}/${x.lender}/${x.server}`;

function Borrowing(props: { d: GlobalAnswer }) {
  const at = new Set(props.d.attached.map(lentKey));
  // What the coordinator lends now, attached or about to be; what the edge still holds beyond it drains.
  const rows = (props.d.view?.remote ?? []).flatMap((r) =>
    r.servers.map((s) => {
      const x = { group: r.group, lender: r.lender, server: s.id };
      return { ...x, state: at.has(lentKey(x)) ? 'at the edge' : 'attaching' };
    }),
  );
  const known = new Set(rows.map(lentKey));
  for (const a of props.d.attached) if (!known.has(lentKey(a))) rows.push({ ...a, state: 'draining' });
  if (rows.length === 0) return <p class="muted empty">No server of another site serves this site's groups.</p>;
  return (
    <table class="tbl" data-testid="borrowing">
      <thead>
        <tr>
          <th>group</th>
          <th>lender</th>
          <th>server</th>
          <th>state</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td class="mono">{r.group}</td>
            <td class="mono">{r.lender}</td>
            <td class="mono">{r.server}</td>
            <td>
              <Badge state={r.state === 'at the edge' ? 'active' : 'moving'}>{r.state}</Badge>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OwnPart(props: { d: GlobalAnswer }) {
  const v = props.d.view;
  if (v === null)
    return (
      <p class="muted empty">
        The coordinator has not answered this site yet: it serves its own customers alone until it does.
      </p>
    );
  const own = props.d.sites.find((r) => r.site === props.d.site);
  return (
    <>
      <h3 class="sub">Groups served for other sites</h3>
      <Serving view={v} own={own} />
      <h3 class="sub">Servers lent to this site's groups</h3>
      <Borrowing d={props.d} />
      <h3 class="sub">Accounts served elsewhere</h3>
      {v.takenOver.length === 0 ? (
        <p class="muted empty">None: every account of this site is served here.</p>
      ) : (
        <ul class="plain" data-testid="taken-over">
          {v.takenOver.map((t) => (
            <li>
              <span class="mono">{t.account}</span> was taken over by <span class="mono">{t.site}</span> while this site
              was lost.{' '}
              {t.stopped === true
                ? `${t.site} has stopped serving it; its copy, with the writes it took, comes home before this site copies out again.`
                : `${t.site} serves it until it hands it back; its data is copied home after that.`}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Sites is the operator's Sites tab. */
export function Sites() {
  const d = usePoll(() => call<GlobalAnswer>('GET', '/v1/global'), REFRESH_MS);
  const now = useNow(1000);
  if (d === undefined) return <p class="muted pad">loading…</p>;
  if (d === null)
    return (
      <Card title="Sites">
        <p class="muted empty">The global view could not be read from this manager; it retries every few seconds.</p>
      </Card>
    );
  if (!d.enabled)
    return (
      <Card title="Sites" testId="sites-alone">
        <p class="muted empty">This site works alone: its configuration has no global section.</p>
      </Card>
    );
  return (
    <div data-testid="sites">
      <Card
        title="Sites"
        extra={
          <span class="head-stats">
            <b>{d.sites.length}</b> {d.sites.length === 1 ? 'site' : 'sites'} heard · silent after {spanText(SILENT_MS)}{' '}
            without a report
          </span>
        }
      >
        {d.sites.length === 0 ? (
          <p class="muted empty">No site has reported on the global bus yet.</p>
        ) : (
          <>
            <SiteMap sites={d.sites} here={d.site} now={now} />
            <p class="muted note">
              Each site at its local time of day (night is dark). An arrow runs from the site that lends to the site
              that borrows, labelled with the servers ready to serve there.
            </p>
            <div class="site-grid">
              {d.sites.map((r) => (
                <SiteCard r={r} here={r.site === d.site} now={now} />
              ))}
            </div>
          </>
        )}
      </Card>
      <div class="grid2">
        <Card title="Replication" testId="replication-card">
          <Replication sites={d.sites} />
          <p class="muted note">
            How old each replica site's copy of an account's data is. A copy older than {spanText(MAX_LAG_MS)} (or none)
            cannot serve the account if its home site is lost.
          </p>
        </Card>
        <Card title={`This site's part · ${d.site}`} testId="own-part">
          <OwnPart d={d} />
        </Card>
      </div>
    </div>
  );
}
