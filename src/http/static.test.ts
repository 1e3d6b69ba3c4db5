/**
 * The portal's serving: the built app at `/`, the single-page fallback for its own paths only (an
 * unknown FHIR or API path stays a 404 OperationOutcome), and a CSP without inline scripts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { createInMemorySigningKey } from '../auth/signing-keys.ts';
import { buildApp } from './app.ts';
import { WEB_DIST, PORTAL_CSP } from './static.ts';
import { buildPortal } from '../../test/browser/harness.ts';

let c: TestCarnet;
let app: FastifyInstance;

before(async () => {
  buildPortal();
  assert.ok(existsSync(`${WEB_DIST}/index.html`));
  c = await openTestCarnet();
  app = await buildApp({ carnet: c, signingKey: await createInMemorySigningKey(), baseUrl: 'http://127.0.0.1', logger: false });
});
after(async () => {
  await app?.close();
  await c?.cleanup();
});

test('the app and its deep links answer index.html with a strict CSP', async () => {
  for (const url of ['/', '/espace/documents/abc', '/pro/patients/x', '/connexion?next=%2Fespace']) {
    const r = await app.inject({ url });
    assert.equal(r.statusCode, 200, url);
    assert.match(r.headers['content-type'] as string, /text\/html/);
    assert.match(r.body, /<div id="root">/);
    assert.equal(r.headers['content-security-policy'], PORTAL_CSP);
    assert.doesNotMatch(r.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  }
  assert.match(PORTAL_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(PORTAL_CSP, /unsafe-inline|unsafe-eval/);
});

test('built assets are served with long caching', async () => {
  const html = (await app.inject({ url: '/' })).body;
  const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(js);
  const r = await app.inject({ url: js });
  assert.equal(r.statusCode, 200);
  assert.match(r.headers['content-type'] as string, /javascript/);
  assert.match(r.headers['cache-control'] as string, /immutable/);
});

test('API and FHIR paths never fall back to the app', async () => {
  for (const url of ['/fhir/NoSuchThing', '/api/nothing-here', '/accounts/unknown', '/assets/missing.js']) {
    const r = await app.inject({ url });
    assert.equal(r.statusCode, 404, url);
    assert.equal(JSON.parse(r.body).resourceType, 'OperationOutcome', url);
  }
});
