/**
 * Issue 5, must show: an outside app (`openid-client`) completes a SMART standalone patient launch
 * with PKCE against a real Carnet on 127.0.0.1 — the holder typing their INS, password and the
 * e-mailed code into Carnet's own login page — reads only the document types the holder consented
 * to through `/fhir/DocumentReference` and `/fhir/Binary/…`, is refused the others (not even
 * listed), shows up under its name in the holder's access history, and stops working the moment
 * the holder revokes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, createLocalJWKSet, jwtVerify } from 'jose';
import {
  appConfig, Browser, emailedCode, fhirGet, holderDecides, launchUrl, oauthPost, oidc, REDIRECT_URI, setup, token, typeCode, typeCredentials,
  type Fixture,
} from './helpers.ts';

let f: Fixture;
before(async () => {
  f = await setup();
});
after(() => f.s.close());

test('SMART discovery advertises the launch Carnet really does', async () => {
  const smart = (await (await fetch(`${f.s.fhir}/.well-known/smart-configuration`)).json()) as any;
  assert.equal(smart.authorization_endpoint, `${f.s.baseUrl}/oauth2/authorize`);
  assert.equal(smart.token_endpoint, `${f.s.baseUrl}/oauth2/token`);
  assert.equal(smart.issuer, f.s.baseUrl);
  assert.deepEqual(smart.code_challenge_methods_supported, ['S256']);
  for (const cap of ['launch-standalone', 'client-public', 'context-standalone-patient', 'permission-v2', 'sso-openid-connect']) {
    assert.ok(smart.capabilities.includes(cap), cap);
  }
  const oidcConf = (await (await fetch(`${f.s.baseUrl}/.well-known/openid-configuration`)).json()) as any;
  assert.equal(oidcConf.issuer, f.s.baseUrl);
  assert.equal(oidcConf.revocation_endpoint, smart.revocation_endpoint);
  assert.equal(oidcConf.introspection_endpoint, smart.introspection_endpoint);
});

test('an outside app launches with PKCE, the holder logs in (INS, password, code), reads only what was consented to, and dies with the revocation', async () => {
  const config = await appConfig(f);
  // the app asks for more than it may have: every resource type, read and search
  const launch = await launchUrl(f, config, 'launch/patient openid fhirUser offline_access patient/*.rs');

  // the holder's browser lands on Carnet's login page, in French: INS and password, nothing else
  const b = new Browser();
  const first = await b.get(launch.url.toString());
  assert.equal(first.status, 303);
  const consentUrl = `${f.s.baseUrl}${first.location}`;
  const loginPage = await b.get(consentUrl);
  assert.equal(loginPage.status, 200);
  assert.match(loginPage.html, /<html lang="fr">/);
  assert.match(loginPage.html, /<h1>Connexion à Carnet<\/h1>/);
  assert.match(loginPage.html, /L’application « Suivi Santé » demande l’accès à votre dossier/);
  assert.match(loginPage.html, /<label for="ins">Votre INS/);
  assert.match(loginPage.html, /<label for="password">Mot de passe<\/label>/);
  assert.match(loginPage.html, /id="ins"[^>]*autocomplete="username"[^>]*autofocus/);
  assert.match(loginPage.html, /type="password" id="password"[^>]*autocomplete="current-password"/);
  assert.doesNotMatch(loginPage.html, /holder_token|jeton/i, 'no token to paste any more');
  // INS (typed with spaces, as on the card) and password
  const spacedIns = f.holder.ins.replace(/^(.)(..)(..)(..)(...)(...)(..)$/, '$1 $2 $3 $4 $5 $6 $7');
  const step1 = await typeCredentials(f, b, loginPage, spacedIns, f.holder.password);
  assert.equal(step1.status, 303, step1.html.slice(0, 300));
  assert.ok(!step1.location!.includes('challenge'));
  // the code the holder received by e-mail (the outbox)
  const codePage = await b.get(`${f.s.baseUrl}${step1.location}`);
  assert.equal(codePage.status, 200);
  assert.match(codePage.html, /Nous venons de vous envoyer un code à 6 chiffres par e-mail/);
  assert.match(codePage.html, /<label for="code">Code de vérification/);
  assert.match(codePage.html, /id="code"[^>]*autocomplete="one-time-code"/);
  const step2 = await typeCode(f, b, codePage, await emailedCode(f, f.holder.accountId));
  assert.equal(step2.status, 303, step2.html.slice(0, 300));
  const consentPage = await b.get(`${f.s.baseUrl}${step2.location}`);
  assert.match(consentPage.html, /Autoriser « Suivi Santé » \?/);
  const answer = await holderDecides(f, { page: consentPage, browser: b }, ['suivi-biologie']);
  assert.equal(answer.status, 303);
  const callback = new URL(answer.location!);
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: launch.verifier, expectedState: launch.state, expectedNonce: launch.nonce, idTokenExpected: true,
  });
  // the login is the holder's own, in their access history like any other
  const logins = await f.s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', f.recordId).where('action', '=', 'account.login').execute();
  assert.ok(logins.some((r) => r.outcome === 'success'));

  // launch context and identity
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.equal(tokens.patient, f.recordId, 'launch/patient gives the patient id');
  const granted = tokens.scope!.split(' ');
  assert.ok(granted.includes('patient/DocumentReference.rs') && granted.includes('patient/Binary.r'), tokens.scope);
  assert.ok(!granted.includes('patient/*.rs'), 'the wildcard is narrowed to what Carnet grants apps');
  const claims = tokens.claims()!;
  assert.equal(claims.fhirUser, `${f.s.fhir}/Patient/${f.recordId}`);
  assert.equal(claims.iss, f.s.baseUrl);
  assert.equal(claims.aud, f.app.clientId);
  // the id_token is signed with Carnet's published key
  const jwks = (await (await fetch(`${f.s.baseUrl}/oauth2/jwks`)).json()) as any;
  await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), { issuer: f.s.baseUrl, audience: f.app.clientId });
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  const at = decodeJwt(tokens.access_token);
  assert.equal((at.carnet_actor as any).kind, 'app');
  assert.equal((at.carnet_actor as any).name, 'Suivi Santé');

  // search: the lab report only; the consultation report is not even listed
  const search = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${f.s.fhir}/DocumentReference?patient=${f.recordId}`), 'GET');
  assert.equal(search.status, 200);
  const bundle = (await search.json()) as any;
  const ids = (bundle.entry ?? []).map((e: any) => e.resource.id);
  assert.deepEqual(ids, [f.labDoc]);
  assert.equal(bundle.total, 1);

  // bytes of the consented document; the other one does not exist for this app
  const bin = await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token);
  assert.equal(bin.status, 200);
  assert.match(bin.body.toString('utf8'), /^%PDF/);
  assert.equal((await fhirGet(f, `/Binary/${f.reportDoc}`, tokens.access_token)).status, 404);
  assert.equal((await fhirGet(f, `/DocumentReference/${f.reportDoc}`, tokens.access_token)).status, 404);

  // another holder's record: refused outright (the app is bound to the record it was connected to)
  const otherSearch = await fhirGet(f, `/DocumentReference?patient=${f.otherRecordId}`, tokens.access_token);
  assert.equal(otherSearch.status, 403);
  assert.ok(JSON.stringify(otherSearch.json).includes('DENY_NOT_LINKED'));
  assert.ok(!JSON.stringify(otherSearch.json).includes(f.otherLabDoc));
  assert.equal((await fhirGet(f, `/Binary/${f.otherLabDoc}`, tokens.access_token)).status, 403);
  // and nothing but reading: the access history and writes are outside its scopes
  assert.equal((await fhirGet(f, `/AuditEvent?patient=${f.recordId}`, tokens.access_token)).status, 403);

  // the holder sees the app, what it may read, and every access under its name
  const holder = await token(f.s, { as: `holder:${f.recordId}` });
  const connected = (await (await fetch(`${f.s.baseUrl}/api/apps/connected`, { headers: { authorization: `Bearer ${holder}` } })).json()) as any;
  assert.equal(connected.apps.length, 1);
  assert.equal(connected.apps[0].name, 'Suivi Santé');
  assert.deepEqual(connected.apps[0].connections[0].purposes.map((p: any) => p.id), ['suivi-biologie']);
  assert.deepEqual(connected.apps[0].connections[0].reads.map((r: any) => r.code), ['BIOLOGIE']);
  const history = await fhirGet(f, `/AuditEvent?patient=${f.recordId}&_count=200`, holder);
  assert.equal(history.status, 200);
  const byApp = history.json.entry.map((e: any) => e.resource).filter((a: any) => a.agent[0].who.display === 'Suivi Santé');
  const actions = byApp.map((a: any) => a.subtype[0].code);
  assert.ok(actions.includes('document.read'), `app reads in the history: ${actions.join(',')}`);
  assert.ok(actions.includes('document.list'));
  assert.ok(byApp.some((a: any) => a.subtype[0].code === 'document.read' && a.entity.some((e: any) => e.what.reference === `DocumentReference/${f.labDoc}`)));

  // still working right before the revocation
  assert.equal((await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token)).status, 200);
  const revoked = await fetch(`${f.s.baseUrl}/api/apps/${f.app.clientId}/connection`, { method: 'DELETE', headers: { authorization: `Bearer ${holder}` } });
  assert.equal(revoked.status, 200);
  assert.equal(((await revoked.json()) as any).revokedGrants, 1);

  // the very next request fails, and so does everything else the grant gave
  const after = await fhirGet(f, `/Binary/${f.labDoc}`, tokens.access_token);
  assert.equal(after.status, 401);
  assert.equal((await fhirGet(f, `/DocumentReference?patient=${f.recordId}`, tokens.access_token)).status, 401);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (e: any) => e.error === 'invalid_grant');
  const intro = await oauthPost(f, '/oauth2/introspect', { client_id: f.app.clientId, token: tokens.access_token });
  assert.deepEqual(intro.json, { active: false });
  const list = (await (await fetch(`${f.s.baseUrl}/api/apps/connected`, { headers: { authorization: `Bearer ${holder}` } })).json()) as any;
  assert.equal(list.apps.length, 0);
});
