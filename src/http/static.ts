/**
 * The portal (web/dist, built by `npm run build`) served at `/`, with the single-page fallback: a
 * browser asking for `/espace/documents` gets index.html, the app routes itself. API and FHIR paths
 * never fall back (an unknown `/fhir/…` stays a 404 OperationOutcome). The HTML carries a strict
 * Content-Security-Policy: the built app has no inline script or style element.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

export const WEB_DIST = resolve(import.meta.dirname, '../../web/dist');

/** Paths that belong to the API: no SPA fallback there. */
const API_PREFIXES = ['/fhir', '/api', '/oauth2', '/.well-known', '/health', '/accounts', '/pro/login', '/pro/logout'];

/**
 * CSP for the app's document: scripts and styles from the app's own files only; PDFs and images
 * fetched with the bearer token are shown from `blob:` URLs; nothing may frame the portal.
 */
export const PORTAL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const isApiPath = (url: string) => API_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`));

export async function registerStatic(app: FastifyInstance, opts: { root?: string } = {}) {
  const root = opts.root ?? WEB_DIST;
  const built = existsSync(resolve(root, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: false,
      index: false,
      cacheControl: false,
      // hashed assets never change; index.html always revalidates
      setHeaders: (res, path) => {
        res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
        if (path.endsWith('.html')) res.setHeader('content-security-policy', PORTAL_CSP);
      },
    });
  }
  const sendApp = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    if (isApiPath(path) || /\.[a-z0-9]{1,8}$/i.test(path)) return reply.callNotFound();
    if (!built) {
      return reply.code(503).header('content-type', 'text/plain; charset=utf-8')
        .send('Le portail n’est pas construit : lancez « npm run build ». / The portal is not built: run "npm run build".');
    }
    return reply.header('content-security-policy', PORTAL_CSP).header('cache-control', 'no-cache').sendFile('index.html', root);
  };
  app.get('/', sendApp);
  app.get('/*', sendApp);
}
