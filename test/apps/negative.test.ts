/**
 * Issue 5, negative tests of the SMART App Launch over real HTTP: PKCE `plain` (or no method)
 * refused, a reused code revokes every token of its grant, wrong redirect URIs, an expired code,
 * refresh-token reuse revokes the grant, scopes beyond the registration or the consent narrowed
 * (and refused when nothing is left or on a wider refresh), introspection of revoked tokens, RFC
 * 7009 revocation by the app, the holder's refusal.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  appConfig, fhirGet, fullLaunch, holderConsents, holderDecides, holderOpens, launchUrl, oauthPost, oidc, REDIRECT_URI, setup, token,
  type Fixture,
} from './helpers.ts';

const OTHER_REDIRECT = 'http://127.0.0.1:9/other-callback';
let f: Fixture;
let config: oidc.Configuration;
const SCOPE = 'launch/patient openid fhirUser offline_access patient/DocumentReference.rs patient/Binary.r';

before(async () => {
  f = await setup({ redirectUris: [REDIRECT_URI, OTHER_REDIRECT] });
  config = await appConfig(f);
});
after(() => f.s.close());

/** What an authorize request answered: the error sent back to the app, if any. */
async function authorize(url: URL) {
  const r = await fetch(url, { redirect: 'manual' });
  const location = r.headers.get('location') ?? undefined;
  const params = location && !location.startsWith('/') ? new URL(location).searchParams : undefined;
  return { status: r.status, location, error: params?.get('error') ?? undefined, state: params?.get('state') ?? undefined, iss: params?.get('iss') ?? undefined, html: await r.text() };
}

const codeGrant = (code: string, verifier: string, redirectUri = REDIRECT_URI) =>
  oauthPost(f, '/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: f.app.clientId });

test('PKCE: plain is refused, and so is a request without a method (plain by default) or without a challenge', async () => {
  for (const extra of [{ code_challenge_method: 'plain' }, { code_challenge_method: '' }]) {
    const l = await launchUrl(f, config, SCOPE);
    if (extra.code_challenge_method === 'plain') l.url.searchParams.set('code_challenge_method', 'plain');
    else l.url.searchParams.delete('code_challenge_method');
    const r = await authorize(l.url);
    assert.equal(r.status, 303);
    assert.equal(r.error, 'invalid_request', `method ${extra.code_challenge_method || '(none)'}`);
    assert.equal(r.state, l.state, 'the state goes back to the app');
    assert.equal(r.iss, f.s.baseUrl, 'RFC 9207 iss');
    assert.ok(r.location!.startsWith(REDIRECT_URI));
  }
  const l = await launchUrl(f, config, SCOPE);
  l.url.searchParams.delete('code_challenge');
  assert.equal((await authorize(l.url)).error, 'invalid_request');
  // a code verifier cannot stand in for the S256 challenge either
  const p = await launchUrl(f, config, SCOPE);
  p.url.searchParams.set('code_challenge', p.verifier);
  p.url.searchParams.set('code_challenge_method', 'plain');
  assert.equal((await authorize(p.url)).error, 'invalid_request');
  // the discovery never offers plain
  const smart = (await (await fetch(`${f.s.fhir}/.well-known/smart-configuration`)).json()) as any;
  assert.ok(!smart.code_challenge_methods_supported.includes('plain'));
});

test('a wrong code_verifier does not get a token', async () => {
  const l = await launchUrl(f, config, SCOPE);
  const cb = await holderConsents(f, l, ['suivi-biologie']);
  const r = await codeGrant(cb.searchParams.get('code')!, oidc.randomPKCECodeVerifier());
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
});

test('a reused authorization code is refused and every token of its grant is revoked', async () => {
  const { launch, callback, tokens } = await fullLaunch(f, config, SCOPE, ['suivi-biologie']);
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 200);
  const again = await codeGrant(callback.searchParams.get('code')!, launch.verifier);
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant');
  // the tokens the first exchange gave are dead
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (e: any) => e.error === 'invalid_grant');
  for (const t of [tokens.access_token, tokens.refresh_token!]) {
    const intro = await oauthPost(f, '/oauth2/introspect', { client_id: f.app.clientId, token: t });
    assert.deepEqual(intro.json, { active: false });
  }
  // and the audit says why
  const rows = await f.s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', f.recordId).where('action', '=', 'app.revoke').execute();
  assert.ok(rows.some((r) => r.reason === 'CODE_REUSED'));
});

test('redirect URIs: an unregistered one is never redirected to; a different registered one cannot redeem the code', async () => {
  for (const bad of ['http://127.0.0.1:9/evil', `${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, 'http://127.0.0.1:9/CALLBACK']) {
    const l = await launchUrl(f, config, SCOPE);
    l.url.searchParams.set('redirect_uri', bad);
    const r = await authorize(l.url);
    assert.equal(r.status, 400, bad);
    assert.equal(r.location, undefined, 'no redirect to an unregistered URI');
    assert.match(r.html, /REDIRECT_URI_MISMATCH/);
    assert.match(r.html, /adresse de retour/);
  }
  // authorized for REDIRECT_URI, redeemed with OTHER_REDIRECT (registered too): refused
  const l = await launchUrl(f, config, SCOPE);
  const cb = await holderConsents(f, l, ['suivi-biologie']);
  const r = await codeGrant(cb.searchParams.get('code')!, l.verifier, OTHER_REDIRECT);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  assert.match(r.json.error_description, /redirect_uri/);
});

test('an expired authorization code is refused', async () => {
  const l = await launchUrl(f, config, SCOPE);
  const cb = await holderConsents(f, l, ['suivi-biologie']);
  f.s.carnet.advance(61_000); // codes live 60 s
  try {
    const r = await codeGrant(cb.searchParams.get('code')!, l.verifier);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  } finally {
    f.s.carnet.advance(-61_000);
  }
});

test('refresh tokens rotate; presenting a spent one revokes the whole grant', async () => {
  const { tokens } = await fullLaunch(f, config, SCOPE, ['suivi-biologie']);
  const first = tokens.refresh_token!;
  const refreshed = await oidc.refreshTokenGrant(config, first);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== first, 'a new refresh token each time');
  assert.equal(refreshed.patient, f.recordId);
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, refreshed.access_token)).status, 200);
  // the old one again: refused, and the grant is gone with everything it gave
  const reuse = await oauthPost(f, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: first, client_id: f.app.clientId });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), (e: any) => e.error === 'invalid_grant');
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, refreshed.access_token)).status, 401);
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 401);
  const rows = await f.s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', f.recordId).where('action', '=', 'app.revoke').execute();
  assert.ok(rows.some((r) => r.reason === 'REFRESH_REUSED'));
});

test('scopes beyond the registration are narrowed; a refresh cannot widen them; nothing grantable is refused', async () => {
  // asks to write, to read everything, as a user, and Observations: gets document reads only
  const { tokens } = await fullLaunch(f, config, 'launch/patient openid profile patient/*.cruds user/*.rs patient/Observation.rs', ['comptes-rendus']);
  assert.deepEqual(tokens.scope!.split(' ').sort(), ['launch/patient', 'openid', 'patient/Binary.r', 'patient/DocumentReference.rs'].sort());
  assert.equal(tokens.refresh_token, undefined, 'no offline_access asked, no refresh token');
  // the consent narrows the documents: the consultation report, not the lab report
  const search = await fhirGet(f, `/DocumentReference?patient=${f.recordId}`, tokens.access_token);
  assert.deepEqual(search.json.entry.map((e: any) => e.resource.id), [f.reportDoc]);
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 404);
  // writing is outside what was granted
  const write = await fetch(`${f.s.fhir}`, {
    method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [] }),
  });
  assert.equal(write.status, 403);

  // v1 syntax is understood and echoed as v1
  const v1 = await fullLaunch(f, config, 'launch/patient patient/DocumentReference.read', ['suivi-biologie']);
  assert.equal(v1.tokens.scope, 'patient/DocumentReference.read launch/patient');

  // a refresh asking for more than the grant: invalid_scope (the refresh token stays usable)
  const off = await fullLaunch(f, config, 'launch/patient offline_access patient/DocumentReference.rs', ['suivi-biologie']);
  const wider = await oauthPost(f, '/oauth2/token', {
    grant_type: 'refresh_token', refresh_token: off.tokens.refresh_token!, client_id: f.app.clientId, scope: 'patient/DocumentReference.rs patient/Binary.r',
  });
  assert.equal(wider.status, 400);
  assert.equal(wider.json.error, 'invalid_scope');
  const narrower = await oauthPost(f, '/oauth2/token', {
    grant_type: 'refresh_token', refresh_token: off.tokens.refresh_token!, client_id: f.app.clientId, scope: 'patient/DocumentReference.r',
  });
  assert.equal(narrower.status, 200, narrower.text);
  assert.equal(narrower.json.scope, 'patient/DocumentReference.r');

  // nothing Carnet can grant: refused before the holder is even asked
  const none = await launchUrl(f, config, 'user/*.rs patient/Observation.rs');
  const r = await authorize(none.url);
  assert.equal(r.error, 'invalid_scope');
});

test('introspection: active tokens are described, revoked ones are only active: false', async () => {
  const { tokens } = await fullLaunch(f, config, SCOPE, ['suivi-biologie']);
  const live = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.client_id, f.app.clientId);
  assert.equal((live as any).patient, f.recordId);
  assert.match(String(live.scope), /patient\/DocumentReference\.rs/);
  const liveRefresh = await oidc.tokenIntrospection(config, tokens.refresh_token!);
  assert.equal(liveRefresh.active, true);
  assert.equal(liveRefresh.token_type, 'refresh_token');
  // another app may not learn anything about this app's tokens
  const { addApp } = await import('../../src/services/apps/catalogue.ts');
  const other = await addApp(f.s.carnet.ctx, { name: 'Autre app', redirectUris: [REDIRECT_URI], purposes: [{ id: 'bio', label: 'Biologie', types: [], categories: ['BIOLOGIE'] }] });
  assert.deepEqual((await oauthPost(f, '/oauth2/introspect', { client_id: other.clientId, token: tokens.access_token })).json, { active: false });
  // the app revokes its own refresh token (RFC 7009): the whole grant goes
  await oidc.tokenRevocation(config, tokens.refresh_token!);
  for (const t of [tokens.access_token, tokens.refresh_token!]) {
    assert.deepEqual(await oidc.tokenIntrospection(config, t), { active: false });
  }
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 401);
  // revoking garbage is fine (RFC 7009 §2.2), introspecting it too
  assert.equal((await oauthPost(f, '/oauth2/revoke', { client_id: f.app.clientId, token: 'not-a-token' })).status, 200);
  assert.deepEqual((await oauthPost(f, '/oauth2/introspect', { client_id: f.app.clientId, token: 'not-a-token' })).json, { active: false });
  // an unknown client is not answered
  assert.equal((await oauthPost(f, '/oauth2/introspect', { client_id: 'nobody', token: tokens.access_token })).json.error, 'invalid_client');
});

test('the holder refuses, or ticks nothing: no code; another app cannot redeem a code; aud must be this server', async () => {
  const l = await launchUrl(f, config, SCOPE);
  const opened = await holderOpens(f, l.url);
  assert.match(opened.page.html, /Autoriser « Suivi Santé » \?/);
  assert.match(opened.page.html, /Suivre vos résultats d’analyses/);
  assert.match(opened.page.html, /Biologie/);
  const nothing = await holderDecides(f, opened, []);
  assert.equal(nothing.status, 400);
  assert.match(nothing.html, /Cochez au moins un usage/);
  const refused = await holderDecides(f, opened, [], 'deny');
  assert.equal(refused.status, 303);
  const params = new URL(refused.location!).searchParams;
  assert.equal(params.get('error'), 'access_denied');
  assert.equal(params.get('code'), null);
  assert.equal(params.get('state'), l.state);
  // the request is spent: deciding again does nothing
  const twice = await holderDecides(f, opened, ['suivi-biologie']);
  assert.equal(twice.status, 400);
  assert.match(twice.html, /AUTH_REQUEST_EXPIRED/);

  // a forged decision (no anti-forgery token) is refused; the same browser is still logged in
  const l2 = await launchUrl(f, config, SCOPE);
  const opened2 = await holderOpens(f, l2.url, { browser: opened.browser });
  const forged = await fetch(`${f.s.baseUrl}/oauth2/authorize/consent`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...opened2.browser.header() },
    body: new URLSearchParams({ request: /name="request" value="([^"]*)"/.exec(opened2.page.html)![1], csrf: 'x', decision: 'approve', purpose_bio: 'on' }).toString(),
  });
  assert.equal(forged.status, 403);

  // a code issued to this app is worthless to another
  const { addApp } = await import('../../src/services/apps/catalogue.ts');
  const thief = await addApp(f.s.carnet.ctx, { name: 'Voleuse', redirectUris: [REDIRECT_URI], purposes: [{ id: 'bio', label: 'Biologie', types: [], categories: ['BIOLOGIE'] }] });
  const l3 = await launchUrl(f, config, SCOPE);
  const cb = await holderConsents(f, l3, ['suivi-biologie']);
  const stolen = await oauthPost(f, '/oauth2/token', { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: l3.verifier, client_id: thief.clientId });
  assert.equal(stolen.json.error, 'invalid_grant');

  // aud must name this FHIR server
  const l4 = await launchUrl(f, config, SCOPE);
  l4.url.searchParams.set('aud', 'https://elsewhere.example/fhir');
  assert.equal((await authorize(l4.url)).error, 'invalid_request');
  // a bad holder cookie gets the login page, not the consent page
  const l5 = await launchUrl(f, config, SCOPE);
  const r5 = await fetch(l5.url, { redirect: 'manual' });
  const page5 = await fetch(`${f.s.baseUrl}${r5.headers.get('location')}`, { headers: { cookie: 'carnet_holder=not-a-token' } });
  const html5 = await page5.text();
  assert.match(html5, /<label for="ins">/);
  assert.doesNotMatch(html5, /name="decision"/);
});

test('the holder-side pages speak English on request and the token endpoint keeps client_credentials', async () => {
  const l = await launchUrl(f, config, SCOPE, { ui_locales: 'en' });
  const r = await fetch(l.url, { redirect: 'manual' });
  assert.match(r.headers.get('location')!, /lang=en/);
  const page = await (await fetch(`${f.s.baseUrl}${r.headers.get('location')}`)).text();
  assert.match(page, /Log in to Carnet/);
  assert.match(page, /<html lang="en">/);
  // the backend-services grant is still answered by its own handler
  const cc = await oauthPost(f, '/oauth2/token', { grant_type: 'client_credentials' });
  assert.equal(cc.json.error, 'invalid_client');
  const unknown = await oauthPost(f, '/oauth2/token', { grant_type: 'password' });
  assert.equal(unknown.json.error, 'unsupported_grant_type');
});
