/**
 * static-files serve the console's single-page app, built into web/dist: the page at `/` and
 * its content-hashed assets, with a content security policy that lets it load only its own
 * script and styles. Both are public: the page asks the API whether the caller is logged in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HostfleetError } from '../../../../core/errors.js';

const WEB_DIST = fileURLToPath(new URL('../../../../../web/dist/', import.meta.url));

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

// The page loads only its own script and styles; uPlot sets inline styles, so those are allowed.
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** sendFile answers with a file of the built console, cached for a year when its name is content-hashed. */
export function sendFile(reply: FastifyReply, rel: string, immutable: boolean): FastifyReply {
  const file = normalize(join(WEB_DIST, rel));
  if (!file.startsWith(WEB_DIST) || !existsSync(file)) {
    if (rel === 'index.html')
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The console has not been built: run `npm run build:web` (hostfleet up builds it when it is missing).\n');
    throw new HostfleetError('E_NOT_FOUND', `no file ${rel} in the console`);
  }
  return reply
    .header('content-type', MIME[extname(file)] ?? 'application/octet-stream')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(readFileSync(file));
}

/** staticRoutes adds the page and its assets. */
export function staticRoutes(app: FastifyInstance): void {
  const pub = { public: true };
  app.get('/', { schema: { hide: true }, config: pub }, async (_req, reply) => sendFile(reply, 'index.html', false));
  app.get(
    '/assets/:file',
    {
      schema: { hide: true, params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) }) },
      config: pub,
    },
    async (req, reply) => sendFile(reply, join('assets', (req.params as { file: string }).file), true),
  );
}
