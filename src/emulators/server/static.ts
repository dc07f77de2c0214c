/**
 * static resolves a URL path to a file under the customer's site directory without ever
 * leaving it: `..` segments, encoded separators, NUL bytes and symlinks that point outside the
 * site are all refused, because the site belongs to one account and the volume next to it may
 * hold that account's private data.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

/** CONTENT_TYPES maps file extensions to the Content-Type the runtime sends. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.pdf': 'application/pdf',
  '.wasm': 'application/wasm',
};

/** contentType returns the Content-Type for a file name. */
export function contentType(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Resolved is the outcome of resolveStatic: a file, a redirect to the directory's slash form, or a refusal. */
export type Resolved =
  | { readonly kind: 'file'; readonly path: string; readonly size: number; readonly mtime: Date }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'bad-request' }
  | { readonly kind: 'not-found' };

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** within tells whether real lies inside root (both already resolved by realpath). */
function within(real: string, root: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * resolveStatic maps urlPath (the path part of the request URL, still percent-encoded) to a
 * file under siteRoot. Directories serve their index.html.
 */
export async function resolveStatic(siteRoot: string, urlPath: string): Promise<Resolved> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'bad-request' };
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { kind: 'bad-request' };
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return { kind: 'bad-request' };
  let root: string;
  try {
    root = await realpath(siteRoot);
  } catch {
    return { kind: 'not-found' };
  }
  try {
    let real = await realpath(join(root, ...segments));
    if (!within(real, root)) return { kind: 'not-found' };
    let s = await stat(real);
    if (s.isDirectory()) {
      if (!urlPath.endsWith('/')) return { kind: 'redirect', location: `${urlPath}/` };
      real = await realpath(join(real, 'index.html'));
      if (!within(real, root)) return { kind: 'not-found' };
      s = await stat(real);
    }
    if (!s.isFile()) return { kind: 'not-found' };
    return { kind: 'file', path: real, size: s.size, mtime: s.mtime };
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP' || code === 'ENAMETOOLONG')
      return { kind: 'not-found' };
    throw e;
  }
}
