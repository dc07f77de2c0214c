/**
 * pages are the HTML bodies the edge answers with when it cannot forward a request. They are
 * fixed text: nothing from the request is echoed back, so no page can carry injected markup.
 */
import type { ServerResponse } from 'node:http';

/** PAGE_KINDS are the situations the edge answers itself. */
export const PAGE_KINDS = ['unknown-host', 'no-server', 'bad-gateway', 'rate-limited'] as const;
/** PageKind is one of PAGE_KINDS. */
export type PageKind = (typeof PAGE_KINDS)[number];

const PAGES: Record<PageKind, { status: number; title: string; text: string }> = {
  'unknown-host': {
    status: 404,
    title: 'Site not found',
    text: 'No site is configured for this host name at this address. Check the address you typed.',
  },
  'no-server': {
    status: 503,
    title: 'Service temporarily unavailable',
    text: 'No server of this site can take the request right now. Please try again in a moment.',
  },
  'rate-limited': {
    status: 429,
    title: 'Too many requests',
    text: 'This site receives more requests than its plan allows right now. Please try again in a moment.',
  },
  'bad-gateway': {
    status: 502,
    title: 'Bad gateway',
    text: 'The server handling this request failed before it answered. The request was not retried because it may have had an effect.',
  },
};

/** pageStatus is the HTTP status of a page kind. */
export function pageStatus(kind: PageKind): number {
  return PAGES[kind].status;
}

/** sendPage answers with a fixed HTML page; retryAfterS adds a Retry-After header (for 503 and 429). */
export function sendPage(res: ServerResponse, kind: PageKind, retryAfterS?: number): void {
  const page = PAGES[kind];
  const body = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${page.status} ${page.title}</title></head>\n<body><h1>${page.title}</h1><p>${page.text}</p><hr><p>hostfleet edge</p></body></html>\n`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (retryAfterS !== undefined) headers['retry-after'] = retryAfterS;
  res.writeHead(page.status, headers);
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}
