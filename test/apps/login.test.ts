/**
 * Issue 5, the holder's login on the authorize pages over real HTTP, negative cases first: a wrong
 * password or an unknown INS get one plain answer (no hint which), a locked account is told so
 * (the right password refused too), a spent or expired second step starts over, the login forms
 * refuse posts without their anti-forgery token, a representative is turned away, ending the
 * session in the portal ends the authorize login; and TOTP in English, and the portal's hand-over.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { addPerson } from '../../src/services/persons.ts';
import { activateAccount, issueInvitation } from '../../src/services/accounts/activate.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/services/accounts/secondFactor.ts';
import { freshIns, newRecord, TEST_OID } from '../../src/services/testkit.ts';
import {
  appConfig, Browser, emailedCode, field, holderDecides, holderLogsIn, holderOpens, launchUrl, newHolder, oidc, PASSWORD, REDIRECT_URI, setup,
  token, typeCode, typeCredentials, type Fixture, type Page,
} from './helpers.ts';

let f: Fixture;
let config: oidc.Configuration;
const SCOPE = 'launch/patient openid patient/DocumentReference.rs';

before(async () => {
  f = await setup();
  config = await appConfig(f);
});
after(() => f.s.close());

/** A fresh authorization request: the consent URL the app's redirect leads the browser to. */
async function startLaunch(b: Browser, extra: Record<string, string> = {}) {
  const l = await launchUrl(f, config, SCOPE, extra);
  const first = await b.get(l.url.toString());
  assert.equal(first.status, 303);
  return { launch: l, consentUrl: `${f.s.baseUrl}${first.location}` };
}

/** The error block of a page (the text the holder reads). */
const errorText = (p: Page) => /<div class="error" id="form-error" role="alert"><p>([^<]*)<\/p><\/div>/.exec(p.html)?.[1];

async function loginCodesSent(accountId: string) {
  const rows = await f.s.carnet.ctx.db.selectFrom('notifications').select('id').where('recipient_id', '=', accountId).where('kind', '=', 'login_code').execute();
  return rows.length;
}
async function loginAudits() {
  const rows = await f.s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'account.login').execute();
  return rows.length;
}

/** The portal's own login (the accounts JSON API): its token response. */
async function portalLogin(h: { ins: string; accountId: string }) {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${f.s.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as any };
  };
  const step = await post('/accounts/login', { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD });
  assert.equal(step.json.status, 'second_factor_required');
  const done = await post('/accounts/login/second-factor', { challenge: step.json.challenge, code: await emailedCode(f, h.accountId) });
  assert.equal(done.status, 200);
  return done.json as { access_token: string; session_id: string };
}

test('a wrong password and an unknown INS get the same plain answer, saying neither which field nor more', async () => {
  const h = await newHolder(f);
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const page = await b.get(consentUrl);
  const sentBefore = await loginCodesSent(h.accountId);

  const wrong = await typeCredentials(f, b, page, h.ins, 'ce n’est pas le bon mot de passe');
  assert.equal(wrong.status, 401);
  assert.equal(errorText(wrong), 'Connexion impossible : l’INS ou le mot de passe est incorrect. Vérifiez les deux et réessayez. Après cinq échecs, le compte est bloqué pour un temps.');
  // announced, in the title, tied to both fields; the INS kept, the password not
  assert.match(wrong.html, /<title>Erreur : Connexion à Carnet<\/title>/);
  assert.match(wrong.html, /id="ins" name="ins" value="[0-9]+"[^>]*aria-describedby="ins-hint form-error" aria-invalid="true" autofocus/);
  assert.match(wrong.html, /id="password"[^>]*aria-describedby="form-error" aria-invalid="true"/);
  assert.equal(field(wrong.html, 'ins'), h.ins);
  assert.doesNotMatch(wrong.html, /ce n’est pas le bon/);
  assert.ok(!b.cookies.has('carnet_login_challenge') && !b.cookies.has('carnet_holder'));

  const unknown = await typeCredentials(f, b, wrong, freshIns(), PASSWORD);
  const malformed = await typeCredentials(f, b, unknown, '1234', PASSWORD);
  for (const p of [unknown, malformed]) {
    assert.equal(p.status, 401);
    assert.equal(errorText(p), errorText(wrong));
  }
  assert.equal(await loginCodesSent(h.accountId), sentBefore, 'no code sent');
  // the same in English
  const en = await b.post(`${f.s.baseUrl}/oauth2/authorize/login`, { request: field(wrong.html, 'request')!, csrf: field(wrong.html, 'csrf')!, lang: 'en', ins: h.ins, password: 'still the wrong password' });
  assert.equal(errorText(en), 'We could not log you in: the INS or the password is wrong. Check both and try again. After five failures the account is locked for a while.');
});

test('a locked account is told so, and the right password is refused while it lasts', async () => {
  const h = await newHolder(f);
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  let page = await b.get(consentUrl);
  for (let i = 1; i <= 4; i++) {
    page = await typeCredentials(f, b, page, h.ins, `mauvais mot de passe ${i}`);
    assert.equal(page.status, 401);
  }
  const fifth = await typeCredentials(f, b, page, h.ins, 'mauvais mot de passe 5');
  assert.equal(fifth.status, 403);
  assert.match(errorText(fifth)!, /^Trop de tentatives ont échoué : ce compte est bloqué jusqu’à .*\d\d:\d\d \(heure de Paris\)\. Réessayez plus tard, ou réinitialisez votre mot de passe depuis le portail Carnet\.$/);
  const right = await typeCredentials(f, b, fifth, h.ins, PASSWORD);
  assert.equal(right.status, 403);
  assert.match(errorText(right)!, /ce compte est bloqué/);
  assert.ok(!b.cookies.has('carnet_login_challenge'), 'no second step while locked');
  const locks = await f.s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', h.recordId!).where('action', '=', 'account.lockout').execute();
  assert.equal(locks.length, 1);
});

test('a wrong code is said so; a spent or expired second step starts over with the password', async () => {
  const h = await newHolder(f);
  // a wrong code, then the right one
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const step1 = await typeCredentials(f, b, await b.get(consentUrl), h.ins, PASSWORD);
  const codePage = await b.get(`${f.s.baseUrl}${step1.location}`);
  const code = await emailedCode(f, h.accountId);
  const wrong = await typeCode(f, b, codePage, code === '000000' ? '000001' : '000000');
  assert.equal(wrong.status, 401);
  assert.equal(errorText(wrong), 'Ce code est incorrect ou a expiré. Vérifiez-le et réessayez.');
  assert.match(wrong.html, /id="code"[^>]*aria-describedby="code-intro form-error" aria-invalid="true" autofocus/);
  const challengeCookie = b.cookies.get('carnet_login_challenge')!;
  const ok = await typeCode(f, b, wrong, code);
  assert.equal(ok.status, 303);
  assert.ok(b.cookies.has('carnet_holder'));

  // the same challenge again (replayed from a copy of the cookies): spent
  const replay = new Browser();
  replay.cookies.set('carnet_login_csrf', b.cookies.get('carnet_login_csrf')!);
  replay.cookies.set('carnet_login_challenge', challengeCookie);
  const again = await typeCode(f, replay, wrong, code);
  assert.equal(again.status, 401);
  assert.equal(errorText(again), 'Cette étape de connexion a expiré ou a déjà servi. Recommencez avec votre INS et votre mot de passe.');
  assert.match(again.html, /<label for="ins">/, 'back to the first step');
  assert.ok(!replay.cookies.has('carnet_holder'));
  assert.ok(!replay.cookies.has('carnet_login_challenge'), 'the dead challenge is dropped');

  // a challenge left for more than 10 minutes: expired, even with the right code
  const late = new Browser();
  const first = await startLaunch(late);
  await typeCredentials(f, late, await late.get(first.consentUrl), h.ins, PASSWORD);
  const lateCode = await emailedCode(f, h.accountId);
  f.s.carnet.advance(10 * 60_000 + 1000);
  try {
    const second = await startLaunch(late); // the first request has expired too
    const page = await late.get(second.consentUrl);
    assert.match(page.html, /<label for="code">/, 'the browser still holds a challenge');
    const expired = await typeCode(f, late, page, lateCode);
    assert.equal(expired.status, 401);
    assert.match(errorText(expired)!, /Cette étape de connexion a expiré/);
    assert.ok(!late.cookies.has('carnet_holder'));
  } finally {
    f.s.carnet.advance(-(10 * 60_000 + 1000));
  }

  // "start again with another account" from the code page: back to step 1, the challenge dropped
  const other = new Browser();
  const third = await startLaunch(other);
  const s1 = await typeCredentials(f, other, await other.get(third.consentUrl), h.ins, PASSWORD);
  const cp = await other.get(`${f.s.baseUrl}${s1.location}`);
  const restart = /href="([^"]*restart=1[^"]*)"/.exec(cp.html)![1].replaceAll('&amp;', '&');
  const back = await other.get(`${f.s.baseUrl}${restart}`);
  assert.match(back.html, /<label for="ins">/);
  assert.ok(!other.cookies.has('carnet_login_challenge'));
});

test('the login forms refuse a post without their anti-forgery token, or with another browser’s', async () => {
  const h = await newHolder(f);
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const page = await b.get(consentUrl);
  const requestId = field(page.html, 'request')!;
  const before = [await loginCodesSent(h.accountId), await loginAudits()];
  const post = (br: Browser | undefined, form: Record<string, string>) =>
    (br ?? new Browser()).post(`${f.s.baseUrl}/oauth2/authorize/login`, { request: requestId, lang: 'fr', ins: h.ins, password: PASSWORD, ...form });

  // no token; a cross-site post (no cookie reaches us: SameSite=Lax); another browser's token
  const attacker = new Browser();
  const attackerPage = await attacker.get(consentUrl); // the attacker may well know the request
  for (const forged of [
    await post(b, {}),
    await post(undefined, { csrf: field(page.html, 'csrf')! }),
    await post(b, { csrf: field(attackerPage.html, 'csrf')! }),
    await post(b, { csrf: 'x' }),
  ]) {
    assert.equal(forged.status, 403);
    assert.equal(errorText(forged), 'Le formulaire n’est pas valide ou a expiré : réessayez. Votre navigateur doit accepter les cookies de Carnet.');
  }
  assert.ok(!b.cookies.has('carnet_login_challenge'));
  assert.deepEqual([await loginCodesSent(h.accountId), await loginAudits()], before, 'no login was even tried');

  // the code step too: refused without the token, and the challenge is still good afterwards
  const step1 = await typeCredentials(f, b, page, h.ins, PASSWORD);
  const codePage = await b.get(`${f.s.baseUrl}${step1.location}`);
  const code = await emailedCode(f, h.accountId);
  const noToken = await b.post(`${f.s.baseUrl}/oauth2/authorize/login/code`, { request: requestId, lang: 'fr', code });
  assert.equal(noToken.status, 403);
  assert.ok(!b.cookies.has('carnet_holder'));
  assert.equal((await typeCode(f, b, codePage, code)).status, 303);
  assert.ok(b.cookies.has('carnet_holder'));
});

test('a legal representative who logs in here is told apps cannot be connected by them yet', async () => {
  const child = await newRecord(f.s.carnet, { minor: true });
  const parentIns = freshIns();
  const OPERATOR = { kind: 'operator' as const, id: 'op', name: 'Opérateur' };
  const { id: personId } = await addPerson(f.s.carnet.ctx, OPERATOR, child.recordId, { kind: 'legal_representative', ins: parentIns, insOid: TEST_OID, name: 'Parent Un' });
  const inv = await issueInvitation(f.s.carnet.ctx, OPERATOR, child.recordId, personId);
  const { accountId } = await activateAccount(f.s.carnet.ctx, { ins: parentIns, insOid: TEST_OID, code: inv.code, password: PASSWORD, email: 'parent@example.org' });
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const step1 = await typeCredentials(f, b, await b.get(consentUrl), parentIns, PASSWORD);
  const out = await typeCode(f, b, await b.get(`${f.s.baseUrl}${step1.location}`), await emailedCode(f, accountId));
  assert.equal(out.status, 403);
  assert.match(out.html, /seul le titulaire du dossier peut y connecter une application/);
  assert.match(out.html, /NOT_HOLDER/);
  assert.ok(!b.cookies.has('carnet_holder'));
  const sessions = await f.s.carnet.ctx.db.selectFrom('account_sessions').selectAll().where('subject_id', '=', accountId).execute();
  assert.equal(sessions.length, 1);
  assert.ok(sessions[0].revoked_at, 'the login was not kept');
});

test('ending the session in the portal ends the authorize login', async () => {
  const h = await newHolder(f);
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const consent = await holderLogsIn(f, b, consentUrl, h);
  assert.match(consent.html, /name="decision"/);
  const sid = decodeJwt(b.cookies.get('carnet_holder')!).sid as string;

  // in the portal (its own login), the holder sees that session and ends it
  const portal = await portalLogin(h);
  const list = (await (await fetch(`${f.s.baseUrl}/accounts/sessions`, { headers: { authorization: `Bearer ${portal.access_token}` } })).json()) as any;
  assert.ok(list.sessions.some((s: any) => s.id === sid && !s.current));
  const end = await fetch(`${f.s.baseUrl}/accounts/sessions/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${portal.access_token}` } });
  assert.equal(end.status, 204);

  // the consent page is gone, and so is the decision
  const after = await b.get(consentUrl);
  assert.match(after.html, /<label for="ins">/);
  assert.doesNotMatch(after.html, /name="decision"/);
  const decided = await holderDecides(f, { page: consent, browser: b }, ['suivi-biologie']);
  assert.equal(decided.status, 401);
  assert.match(errorText(decided)!, /Votre connexion a pris fin/);
});

test('TOTP, in English: the code of the authenticator app', async () => {
  const h = await newHolder(f);
  // enrolled half a minute ago, so that the code of now is a fresh one
  f.s.carnet.advance(-30_000);
  let secret: string;
  try {
    secret = (await startTotpEnrolment(f.s.carnet.ctx, h.accountId, PASSWORD)).secret;
    await confirmTotpEnrolment(f.s.carnet.ctx, h.accountId, await generate({ secret, epoch: Math.floor(f.s.carnet.ctx.clock().getTime() / 1000) }));
  } finally {
    f.s.carnet.advance(30_000);
  }
  const b = new Browser();
  const { launch, consentUrl } = await startLaunch(b, { ui_locales: 'en' });
  const login = await b.get(consentUrl);
  assert.match(login.html, /<html lang="en">/);
  assert.match(login.html, /<label for="ins">Your INS/);
  const step1 = await typeCredentials(f, b, login, h.ins, PASSWORD);
  const codePage = await b.get(`${f.s.baseUrl}${step1.location}`);
  assert.match(codePage.html, /Enter the 6-digit code shown by your authenticator app/);
  assert.match(codePage.html, /href="[^"]*lang=fr" hreflang="fr" lang="fr">Français/, 'the French switch');
  const done = await typeCode(f, b, codePage, await generate({ secret, epoch: Math.floor(f.s.carnet.ctx.clock().getTime() / 1000) }));
  assert.equal(done.status, 303, done.html.slice(0, 300));
  const consent = await b.get(`${f.s.baseUrl}${done.location}`);
  assert.match(consent.html, /Allow “Suivi Santé”\?/);
  const answer = await holderDecides(f, { page: consent, browser: b }, ['suivi-biologie']);
  assert.ok(answer.location!.startsWith(REDIRECT_URI));
  const tokens = await oidc.authorizationCodeGrant(config, new URL(answer.location!), {
    pkceCodeVerifier: launch.verifier, expectedState: launch.state, expectedNonce: launch.nonce, idTokenExpected: true,
  });
  assert.equal(tokens.patient, h.recordId);
});

test('a portal may hand over the holder’s session token: posted with the form’s token, for a live session only', async () => {
  const h = await newHolder(f);
  const portal = await portalLogin(h);
  const b = new Browser();
  const { consentUrl } = await startLaunch(b);
  const page = await b.get(consentUrl);
  const handOver = (form: Record<string, string>) =>
    b.post(`${f.s.baseUrl}/oauth2/authorize/login`, { request: field(page.html, 'request')!, lang: 'fr', ...form });

  // without the form's token: refused
  assert.equal((await handOver({ holder_token: portal.access_token })).status, 403);
  // a token of no login session (minted by the operator's CLI): refused
  const sessionless = await token(f.s, { as: `holder:${h.recordId}` });
  const refused = await handOver({ holder_token: sessionless, csrf: field(page.html, 'csrf')! });
  assert.equal(refused.status, 401);
  assert.match(errorText(refused)!, /Votre session Carnet n’est pas valide/);
  assert.ok(!b.cookies.has('carnet_holder'));
  // the portal's own token, properly posted: logged in, on the portal's session, with a credential of its own
  const ok = await handOver({ holder_token: portal.access_token, csrf: field(page.html, 'csrf')! });
  assert.equal(ok.status, 303);
  const credential = b.cookies.get('carnet_holder')!;
  assert.notEqual(decodeURIComponent(credential), portal.access_token);
  assert.equal(decodeJwt(credential).sid, portal.session_id);
  assert.equal(decodeJwt(credential).aud, `${f.s.baseUrl}/oauth2/authorize`);
  const opened = await holderOpens(f, (await launchUrl(f, config, SCOPE)).url, { browser: b });
  assert.match(opened.page.html, /Autoriser « Suivi Santé » \?/);
});
