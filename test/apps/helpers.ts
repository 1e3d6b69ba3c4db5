/**
 * SMART App Launch black-box support: a Carnet server on a loopback port with a holder whose record
 * holds a lab report (BIOLOGIE) and a consultation report (CPT_REND), a catalogue app, the holder's
 * side of the authorize pages driven over HTTP (log in, tick purposes, decide), and an outside app
 * played by `openid-client`. Services are used only to set data up.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startServer, token, type Server } from '../http/helpers.ts';
import { addApp, type AddAppInput, type CatalogueApp } from '../../src/services/apps/catalogue.ts';
import { fileDocuments } from '../../src/services/fileDocuments.ts';
import { labAuthor, newRecord, syntheticDocument } from '../../src/services/testkit.ts';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const PURPOSES = [
  { id: 'suivi-biologie', label: 'Suivre vos résultats d’analyses', labelEn: 'Follow your lab results', types: [], categories: ['BIOLOGIE'] },
  { id: 'comptes-rendus', label: 'Lire vos comptes rendus de consultation', types: ['11488-4'], categories: [] },
];

export interface Fixture {
  s: Server;
  app: CatalogueApp;
  recordId: string;
  /** A lab report (BIOLOGIE) and a consultation report (CPT_REND). */
  labDoc: string;
  reportDoc: string;
  /** Another holder's record with a lab report: an app connected to the first must never see it. */
  otherRecordId: string;
  otherLabDoc: string;
}

export async function setup(appInput: Partial<AddAppInput> = {}): Promise<Fixture> {
  const s = await startServer();
  const c = s.carnet;
  // the app (openid-client) checks the id_token's times against the real clock: start Carnet's
  // settable clock at the real time (tests move it on for expiries)
  c.setNow(new Date());
  const app = await addApp(c.ctx, {
    name: 'Suivi Santé', description: 'Carnet de suivi personnel', redirectUris: [REDIRECT_URI], purposes: PURPOSES, ...appInput,
  });
  const { recordId } = await newRecord(c);
  const lab = syntheticDocument(c, { typeCode: '11502-2', classCode: '10', author: { rpps: labAuthor().id } });
  const report = syntheticDocument(c, { typeCode: '11488-4', classCode: '10', author: { rpps: labAuthor().id } });
  const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: [lab, report] });
  const other = await newRecord(c);
  const otherLab = syntheticDocument(c, { typeCode: '11502-2', classCode: '10', author: { rpps: labAuthor().id } });
  const otherFiled = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId: other.recordId }, documents: [otherLab] });
  return {
    s, app, recordId, labDoc: filed.documents[0].id, reportDoc: filed.documents[1].id,
    otherRecordId: other.recordId, otherLabDoc: otherFiled.documents[0].id,
  };
}

/** The app's view of Carnet: discovery over HTTP, a public client authenticating with PKCE only. */
export async function appConfig(f: Fixture, clientId = f.app.clientId): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(f.s.baseUrl), clientId, { id_token_signed_response_alg: 'ES256' }, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface Launch {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** The authorization URL an app builds for a standalone patient launch (PKCE S256, aud = FHIR base). */
export async function launchUrl(f: Fixture, config: oidc.Configuration, scope: string, extra: Record<string, string> = {}): Promise<Launch> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope, state, nonce, aud: f.s.fhir,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url, verifier, state, nonce };
}

export interface Page {
  status: number;
  location?: string;
  html: string;
  setCookie?: string;
}

async function get(url: string, cookie?: string): Promise<Page> {
  const r = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: r.status, location: r.headers.get('location') ?? undefined, html: await r.text(), setCookie: r.headers.get('set-cookie') ?? undefined };
}

async function post(url: string, form: Record<string, string>, cookie?: string): Promise<Page> {
  const r = await fetch(url, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  });
  return { status: r.status, location: r.headers.get('location') ?? undefined, html: await r.text(), setCookie: r.headers.get('set-cookie') ?? undefined };
}

const field = (html: string, name: string) => {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1] : undefined;
};

/** The browser side: opens the authorization URL, logs the holder in, and returns the consent page. */
export async function holderOpens(f: Fixture, url: URL, holderToken: string): Promise<{ consentUrl: string; page: Page; cookie: string }> {
  const first = await get(url.toString());
  assert.equal(first.status, 303, `authorize answered ${first.status}: ${first.html.slice(0, 300)}`);
  assert.ok(first.location?.startsWith('/oauth2/authorize/consent?request='), first.location);
  const consentUrl = `${f.s.baseUrl}${first.location}`;
  const login = await get(consentUrl);
  assert.equal(login.status, 200);
  assert.match(login.html, /Connexion à Carnet/);
  const requestId = field(login.html, 'request')!;
  const logged = await post(`${f.s.baseUrl}/oauth2/authorize/login`, { request: requestId, holder_token: holderToken, lang: 'fr' });
  assert.equal(logged.status, 303, logged.html.slice(0, 300));
  assert.ok(logged.setCookie, 'the login sets the holder cookie');
  const cookie = logged.setCookie!.split(';')[0];
  const page = await get(consentUrl, cookie);
  assert.equal(page.status, 200);
  return { consentUrl, page, cookie };
}

/** The holder ticks `purposes` and answers; returns the redirect to the app (or the page shown). */
export async function holderDecides(f: Fixture, opened: { page: Page; cookie: string }, purposes: string[], decision: 'approve' | 'deny' = 'approve'): Promise<Page> {
  const form: Record<string, string> = {
    request: field(opened.page.html, 'request')!, csrf: field(opened.page.html, 'csrf')!, lang: 'fr', decision,
  };
  for (const p of purposes) form[`purpose_${p}`] = 'on';
  return post(`${f.s.baseUrl}/oauth2/authorize/consent`, form, opened.cookie);
}

/** The whole holder side, for `purposes`: returns the callback URL the app receives. */
export async function holderConsents(f: Fixture, launch: Launch, purposes: string[]): Promise<URL> {
  const holderToken = await token(f.s, { as: `holder:${f.recordId}` });
  const opened = await holderOpens(f, launch.url, holderToken);
  const answer = await holderDecides(f, opened, purposes);
  assert.equal(answer.status, 303, answer.html.slice(0, 300));
  assert.ok(answer.location?.startsWith(REDIRECT_URI), answer.location);
  return new URL(answer.location!);
}

/** A complete launch as the app does it: returns the token response. */
export async function fullLaunch(f: Fixture, config: oidc.Configuration, scope: string, purposes: string[]) {
  const launch = await launchUrl(f, config, scope);
  const callback = await holderConsents(f, launch, purposes);
  const openid = scope.split(' ').includes('openid');
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: launch.verifier, expectedState: launch.state, ...(openid ? { expectedNonce: launch.nonce } : {}), idTokenExpected: openid,
  });
  return { launch, callback, tokens };
}

/** A raw form POST to an OAuth endpoint. */
export async function oauthPost(f: Fixture, path: string, form: Record<string, string>) {
  const r = await fetch(`${f.s.baseUrl}${path}`, {
    method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

/** GET on the FHIR API with an app's access token. */
export async function fhirGet(f: Fixture, path: string, accessToken: string) {
  // Binary: the original bytes (ITI-68), not a FHIR Binary resource
  const accept = path.startsWith('/Binary/') ? '*/*' : 'application/fhir+json';
  const r = await fetch(`${f.s.fhir}${path}`, { headers: { authorization: `Bearer ${accessToken}`, accept } });
  const body = Buffer.from(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: r.status, json, body, headers: r.headers };
}

export { oidc, token };
