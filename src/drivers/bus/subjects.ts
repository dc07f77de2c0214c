/**
 * subjects.ts is the one place that builds bus subjects, and the grammar every subject passes
 * before it reaches any bus. Names of sites, groups and servers become subject tokens; a name
 * with a '.', '*', '>' or a space inside could otherwise widen a subscription or address
 * another customer's servers, so tokens are checked against a strict grammar, not escaped.
 */
import { type HostfleetError, invalid } from '../../core/errors.js';

/** TOKEN_RE is the grammar of one subject token built from a name: letters, digits, '-', '_'; 1–64 long. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** MAX_SUBJECT_LENGTH bounds a subject (NATS has no hard limit; long subjects are a mistake). */
export const MAX_SUBJECT_LENGTH = 512;

/** SUBJECT_ROOT starts every subject hostfleet builds, so a shared NATS account stays tidy. */
export const SUBJECT_ROOT = 'hf';

/** RAW_TOKEN_RE is what any token of a literal subject may hold: printable ASCII without '.', '*', '>'. */
const RAW_TOKEN_RE = /^[!-)+-\-/-=?-~]+$/;

/** checkToken throws E_VALIDATION unless value is a valid subject token (field names the input). */
export function checkToken(field: string, value: unknown): string {
  if (typeof value !== 'string' || !TOKEN_RE.test(value)) {
    throw invalid([
      {
        field,
        problem: `must be a subject token of 1–64 letters, digits, '-' or '_' (no '.', '*', '>' or spaces); got ${JSON.stringify(value)}`,
      },
    ]);
  }
  return value;
}

/** splitSubject checks subject (a literal, or a pattern when wildcards is true) and returns its tokens. */
export function splitSubject(subject: unknown, wildcards: boolean, field = 'subject'): string[] {
  const bad = (why: string): HostfleetError =>
    invalid([
      {
        field,
        problem: `${why}; got ${JSON.stringify(subject)}. A subject is dot-separated tokens of printable characters${wildcards ? ", with '*' for one token and a final '>' for the rest" : ' without wildcards'}`,
      },
    ]);
  if (typeof subject !== 'string' || subject.length === 0) throw bad('must be a non-empty string');
  if (subject.length > MAX_SUBJECT_LENGTH) throw bad(`must be at most ${MAX_SUBJECT_LENGTH} characters`);
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (t === '*' || t === '>') {
      if (!wildcards) throw bad('must not contain wildcards here');
      if (t === '>' && i !== tokens.length - 1) throw bad("'>' may only be the last token");
      continue;
    }
    if (t.length === 0) throw bad('must not have empty tokens');
    if (!RAW_TOKEN_RE.test(t))
      throw bad(`token ${JSON.stringify(t)} must not contain spaces, control characters, '*' or '>'`);
  }
  return tokens;
}

/** checkSubject throws E_VALIDATION unless subject is a literal subject (no wildcards). */
export function checkSubject(subject: unknown, field = 'subject'): string {
  splitSubject(subject, false, field);
  return subject as string;
}

/** checkPattern throws E_VALIDATION unless pattern is a valid subscription subject. */
export function checkPattern(pattern: unknown, field = 'subject'): string {
  splitSubject(pattern, true, field);
  return pattern as string;
}

/** checkQueue throws E_VALIDATION unless queue (if given) is a valid queue-group name. */
export function checkQueue(queue: unknown): string | undefined {
  if (queue === undefined) return undefined;
  return checkToken('queue', queue);
}

/** subjectMatches tells whether literal subject is matched by pattern (NATS semantics). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}

/** patternsOverlap tells whether some literal subject is matched by both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const s = x[i];
    const t = y[i];
    if (s === undefined || t === undefined) return s === undefined && t === undefined;
    if (s === '>' || t === '>') return true;
    if (s !== '*' && t !== '*' && s !== t) return false;
  }
}

/** SUBJECT_KINDS lists what flows on a site's management bus (the third token of its subjects). */
export const SUBJECT_KINDS = ['status', 'request', 'priority', 'nudge', 'rpc', 'event'] as const;
/** SubjectKind is one of SUBJECT_KINDS. */
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

const s = (...parts: string[]): string => [SUBJECT_ROOT, ...parts].join('.');

/**
 * subjects builds every subject hostfleet uses from validated tokens. The layout is
 * `hf.<site>.<kind>.…`, so one site's manager can subscribe to `hf.<site>.status.>` and a
 * bus account can be limited to one site by permissions on `hf.<site>.>`. Builders ending in
 * `All`/`OfGroup` return subscription patterns; the others return literal subjects.
 */
export const subjects = {
  /** status: an agent's periodic status (heartbeat, measurements, need); agent → manager. */
  status: (site: string, group: string, server: string): string =>
    s(checkToken('site', site), 'status', checkToken('group', group), checkToken('server', server)),
  /** statusOfGroup: pattern for every status of one group. */
  statusOfGroup: (site: string, group: string): string =>
    s(checkToken('site', site), 'status', checkToken('group', group), '*'),
  /** statusAll: pattern for every status of the site. */
  statusAll: (site: string): string => s(checkToken('site', site), 'status', '>'),
  /** request: an agent's add/release request for its group; agent → manager. */
  request: (site: string, group: string, server: string): string =>
    s(checkToken('site', site), 'request', checkToken('group', group), checkToken('server', server)),
  /** requestAll: pattern for every add/release request of the site. */
  requestAll: (site: string): string => s(checkToken('site', site), 'request', '>'),
  /** priority: the manager's push of priority inputs (from the SLA) to one group's agents. */
  priority: (site: string, group: string): string =>
    s(checkToken('site', site), 'priority', checkToken('group', group)),
  /** priorityAll: pattern for every group's priority pushes. */
  priorityAll: (site: string): string => s(checkToken('site', site), 'priority', '*'),
  /** nudge: the manager tells one server's agent to reconcile its provisioning tasks now. */
  nudge: (site: string, server: string): string => s(checkToken('site', site), 'nudge', checkToken('server', server)),
  /** rpc: request-reply to a named operation of a site service (e.g. manager, register). */
  rpc: (site: string, service: string, op: string): string =>
    s(checkToken('site', site), 'rpc', checkToken('service', service), checkToken('op', op)),
  /** event: something that happened at the site (a move step, a failure), for streams and the console. */
  event: (site: string, topic: string, id: string): string =>
    s(checkToken('site', site), 'event', checkToken('topic', topic), checkToken('id', id)),
  /** eventOfTopic: pattern for every event of one topic. */
  eventOfTopic: (site: string, topic: string): string =>
    s(checkToken('site', site), 'event', checkToken('topic', topic), '*'),
  /** eventAll: pattern for every event of the site. */
  eventAll: (site: string): string => s(checkToken('site', site), 'event', '>'),
  /** global: between a site's manager and the global coordinator (borrow, lend, replication). */
  global: (site: string, topic: string): string =>
    [`${SUBJECT_ROOT}-global`, checkToken('site', site), checkToken('topic', topic)].join('.'),
  /** globalAll: pattern for one topic of every site (the coordinator hears every site's reports). */
  globalAll: (topic: string): string => [`${SUBJECT_ROOT}-global`, '*', checkToken('topic', topic)].join('.'),
} as const;

/**
 * streams names the durable streams hostfleet declares: add/release requests (a lost request
 * would leave a group short until the next tick re-sends it, so the manager consumes them
 * durably) and site events (the console and billing must not miss a move).
 */
export const streams = {
  /** requests: the site's add/release requests. */
  requests: (site: string): { name: string; subjects: string[] } => ({
    name: `hf-${checkToken('site', site)}-requests`,
    subjects: [subjects.requestAll(site)],
  }),
  /** events: the site's events. */
  events: (site: string): { name: string; subjects: string[] } => ({
    name: `hf-${checkToken('site', site)}-events`,
    subjects: [subjects.eventAll(site)],
  }),
} as const;

interface TrieNode<T> {
  readonly children: Map<string, TrieNode<T>>;
  star: TrieNode<T> | undefined;
  /** rest holds the items subscribed with '>' at this depth. */
  readonly rest: Set<T>;
  /** here holds the items whose pattern ends at this node. */
  readonly here: Set<T>;
}

const node = <T>(): TrieNode<T> => ({ children: new Map(), star: undefined, rest: new Set(), here: new Set() });

/**
 * SubjectIndex finds the items subscribed to patterns matching a subject in time proportional
 * to the subject's length, not to the number of subscriptions (a manager subscribes per group).
 */
export class SubjectIndex<T> {
  private readonly root: TrieNode<T> = node();
  private count = 0;

  /** size is the number of items in the index. */
  get size(): number {
    return this.count;
  }

  /** add indexes item under a pattern already checked by checkPattern. */
  add(pattern: string, item: T): void {
    let n = this.root;
    for (const t of pattern.split('.')) {
      if (t === '>') {
        n.rest.add(item);
        this.count++;
        return;
      }
      if (t === '*') {
        n.star ??= node();
        n = n.star;
      } else {
        let c = n.children.get(t);
        if (!c) {
          c = node();
          n.children.set(t, c);
        }
        n = c;
      }
    }
    n.here.add(item);
    this.count++;
  }

  /** remove drops item from pattern (and prunes empty branches so the trie does not grow forever). */
  remove(pattern: string, item: T): void {
    const path: Array<{ parent: TrieNode<T>; token: string }> = [];
    let n = this.root;
    for (const t of pattern.split('.')) {
      if (t === '>') {
        if (n.rest.delete(item)) this.count--;
        this.prune(path, n);
        return;
      }
      const c = t === '*' ? n.star : n.children.get(t);
      if (!c) return;
      path.push({ parent: n, token: t });
      n = c;
    }
    if (n.here.delete(item)) this.count--;
    this.prune(path, n);
  }

  private prune(path: Array<{ parent: TrieNode<T>; token: string }>, leaf: TrieNode<T>): void {
    let n = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (n.here.size > 0 || n.rest.size > 0 || n.children.size > 0 || n.star) return;
      const { parent, token } = path[i] as { parent: TrieNode<T>; token: string };
      if (token === '*') parent.star = undefined;
      else parent.children.delete(token);
      n = parent;
    }
  }

  /** match returns the items whose pattern matches the literal subject (each at most once). */
  match(subject: string): T[] {
    const tokens = subject.split('.');
    const out = new Set<T>();
    const walk = (n: TrieNode<T>, i: number): void => {
      if (i === tokens.length) {
        for (const x of n.here) out.add(x);
        return;
      }
      for (const x of n.rest) out.add(x);
      const c = n.children.get(tokens[i] as string);
      if (c) walk(c, i + 1);
      if (n.star) walk(n.star, i + 1);
    };
    walk(this.root, 0);
    return [...out];
  }
}
