/**
 * SMART App Launch black-box support: a Carnet server on a loopback port with a holder (an activated
 * account) whose record holds a lab report (BIOLOGIE) and a consultation report (CPT_REND), a
 * catalogue app, the holder's side of the authorize pages driven over HTTP by a cookie-keeping
 * browser (INS + password, the e-mailed code read from the notifications outbox or a TOTP, tick
 * purposes, decide), and an outside app played by `openid-client`. Services are used only to set
 * data up.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startServer, token, type Server } from '../http/helpers.ts';
import { addApp, type AddAppInput, type CatalogueApp } from '../../src/services/apps/catalogue.ts';
import { fileDocuments } from '../../src/services/fileDocuments.ts';
import { labAuthor, newRecord, syntheticDocument, TEST_OID } from '../../src/services/testkit.ts';
import { activateAccount } from '../../src/services/accounts/activate.ts';

/** Another active record whose holder has an account (for tests that lock or end things). */
export async function newHolder(f: Fixture): Promise<Holder> {
  const { recordId, ins, activationCode } = await newRecord(f.s.carnet);
  const { accountId } = await activateAccount(f.s.carnet.ctx, { ins, insOid: TEST_OID, code: activationCode, password: PASSWORD, email: 'autre@example.org' });
  return { ins, password: PASSWORD, accountId, recordId };
}

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const PURPOSES = [
  { id: 'suivi-biologie', label: 'Suivre vos résultats d’analyses', labelEn: 'Follow your lab results', types: [], categories: ['BIOLOGIE'] },
  { id: 'comptes-rendus', label: 'Lire vos comptes rendus de consultation', types: ['11488-4'], categories: [] },
];

/** A person with a Carnet account, as they log in. */
export interface Holder {
  ins: string;
  password: string;
  accountId: string;
  recordId?: string;
}

export const PASSWORD = 'un mot de passe assez long';

export interface Fixture {
  s: Server;
  /** The holder of `recordId`, with an activated account (second factor: e-mailed codes). */
  holder: Holder;
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
  // these files log in more often than a person would in a minute (the limit is the accounts' tests')
  process.env.CARNET_LOGIN_RATE_LIMIT = '1000';
  const s = await startServer();
  delete process.env.CARNET_LOGIN_RATE_LIMIT;
  const c = s.carnet;
  // the app (openid-client) checks the id_token's times against the real clock: start Carnet's
  // settable clock at the real time (tests move it on for expiries)
  c.setNow(new Date());
  const app = await addApp(c.ctx, {
    name: 'Suivi Santé', description: 'Carnet de suivi personnel', redirectUris: [REDIRECT_URI], purposes: PURPOSES, ...appInput,
  });
  const { recordId, ins, activationCode } = await newRecord(c);
  const { accountId } = await activateAccount(c.ctx, { ins, insOid: TEST_OID, code: activationCode, password: PASSWORD, email: 'camille@example.org' });
  const lab = syntheticDocument(c, { typeCode: '11502-2', classCode: '10', author: { rpps: labAuthor().id } });
  const report = syntheticDocument(c, { typeCode: '11488-4', classCode: '10', author: { rpps: labAuthor().id } });
  const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: [lab, report] });
  const other = await newRecord(c);
  const otherLab = syntheticDocument(c, { typeCode: '11502-2', classCode: '10', author: { rpps: labAuthor().id } });
  const otherFiled = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId: other.recordId }, documents: [otherLab] });
  return {
    s, app, recordId, holder: { ins, password: PASSWORD, accountId, recordId }, labDoc: filed.documents[0].id, reportDoc: filed.documents[1].id,
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
  setCookies: string[];
}

/**
 * The holder's browser on the authorize pages: follows nothing by itself, keeps the cookies Carnet
 * sets (they are all scoped to /oauth2/authorize, the only paths it visits), sends them back.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  private keep(r: Response) {
    const set = r.headers.getSetCookie();
    for (const line of set) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return set;
  }
  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
  async get(url: string): Promise<Page> {
    const r = await fetch(url, { redirect: 'manual', headers: this.header() });
    const setCookies = this.keep(r);
    return { status: r.status, location: r.headers.get('location') ?? undefined, html: await r.text(), setCookies };
  }
  async post(url: string, form: Record<string, string>): Promise<Page> {
    const r = await fetch(url, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.header() },
    });
    const setCookies = this.keep(r);
    return { status: r.status, location: r.headers.get('location') ?? undefined, html: await r.text(), setCookies };
  }
}

/** The value of a hidden field of a page. */
export const field = (html: string, name: string) => {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1] : undefined;
};

/** The last one-time login code e-mailed to the account (the notifications outbox). */
export async function emailedCode(f: Fixture, accountId: string): Promise<string> {
  const rows = await f.s.carnet.ctx.db.selectFrom('notifications').selectAll().where('recipient_kind', '=', 'account').where('recipient_id', '=', accountId)
    .where('kind', '=', 'login_code').orderBy('created_at').execute();
  assert.ok(rows.length, 'a login code was e-mailed');
  return JSON.parse(rows.at(-1)!.payload).code;
}

/** Step 1 as the holder types it: INS and password into the login page's form. */
export function typeCredentials(f: Fixture, b: Browser, loginPage: Page, ins: string, password: string): Promise<Page> {
  return b.post(`${f.s.baseUrl}/oauth2/authorize/login`, {
    request: field(loginPage.html, 'request')!, csrf: field(loginPage.html, 'csrf')!, lang: field(loginPage.html, 'lang') ?? 'fr', ins, password,
  });
}

/** Step 2 as the holder types it: the code into the code page's form. */
export function typeCode(f: Fixture, b: Browser, codePage: Page, code: string): Promise<Page> {
  return b.post(`${f.s.baseUrl}/oauth2/authorize/login/code`, {
    request: field(codePage.html, 'request')!, csrf: field(codePage.html, 'csrf')!, lang: field(codePage.html, 'lang') ?? 'fr', code,
  });
}

/**
 * The holder logs in on the page at `consentUrl`: INS + password, then the code (e-mailed unless
 * `code` gives it, e.g. a TOTP). Returns the page shown after (the consent page when all went well).
 */
export async function holderLogsIn(f: Fixture, b: Browser, consentUrl: string, holder: Holder = f.holder, code?: () => Promise<string>): Promise<Page> {
  const login = await b.get(consentUrl);
  assert.equal(login.status, 200, login.html.slice(0, 300));
  assert.match(login.html, /<label for="ins">/);
  assert.match(login.html, /<label for="password">/);
  const step1 = await typeCredentials(f, b, login, holder.ins, holder.password);
  assert.equal(step1.status, 303, step1.html.slice(0, 500));
  assert.ok(b.cookies.has('carnet_login_challenge'), 'the challenge waits in a cookie');
  assert.ok(!step1.location!.includes(b.cookies.get('carnet_login_challenge')!.split('.')[1]), 'never in the URL');
  const codePage = await b.get(`${f.s.baseUrl}${step1.location}`);
  assert.equal(codePage.status, 200);
  assert.match(codePage.html, /<label for="code">/);
  const step2 = await typeCode(f, b, codePage, code ? await code() : await emailedCode(f, holder.accountId));
  assert.equal(step2.status, 303, step2.html.slice(0, 500));
  assert.ok(b.cookies.has('carnet_holder'), 'logged in');
  assert.ok(!b.cookies.has('carnet_login_challenge'), 'the challenge cookie is dropped');
  return b.get(`${f.s.baseUrl}${step2.location}`);
}

/** The browser side: opens the authorization URL, logs the holder in, and returns the consent page. */
export async function holderOpens(f: Fixture, url: URL, opts: { browser?: Browser; holder?: Holder } = {}): Promise<{ consentUrl: string; page: Page; browser: Browser }> {
  const browser = opts.browser ?? new Browser();
  const first = await browser.get(url.toString());
  assert.equal(first.status, 303, `authorize answered ${first.status}: ${first.html.slice(0, 300)}`);
  assert.ok(first.location?.startsWith('/oauth2/authorize/consent?request='), first.location);
  const consentUrl = `${f.s.baseUrl}${first.location}`;
  let page = await browser.get(consentUrl);
  if (page.status === 200 && /<label for="ins">/.test(page.html)) page = await holderLogsIn(f, browser, consentUrl, opts.holder ?? f.holder);
  assert.equal(page.status, 200, page.html.slice(0, 300));
  assert.match(page.html, /name="decision"/, 'the consent page');
  return { consentUrl, page, browser };
}

/** The holder ticks `purposes` and answers; returns the redirect to the app (or the page shown). */
export async function holderDecides(f: Fixture, opened: { page: Page; browser: Browser }, purposes: string[], decision: 'approve' | 'deny' = 'approve'): Promise<Page> {
  const form: Record<string, string> = {
    request: field(opened.page.html, 'request')!, csrf: field(opened.page.html, 'csrf')!, lang: 'fr', decision,
  };
  for (const p of purposes) form[`purpose_${p}`] = 'on';
  return opened.browser.post(`${f.s.baseUrl}/oauth2/authorize/consent`, form);
}

/** The whole holder side, for `purposes`: returns the callback URL the app receives. */
export async function holderConsents(f: Fixture, launch: Launch, purposes: string[], opts: { browser?: Browser; holder?: Holder } = {}): Promise<URL> {
  const opened = await holderOpens(f, launch.url, opts);
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
