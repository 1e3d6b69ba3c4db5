/**
 * The holder's login on the authorize pages at the service level, on both engines: INS + password
 * then the e-mailed or TOTP code through the accounts service, the authorize credential bound to
 * the login session (dead when the session ends, useless at the FHIR API), one answer for every
 * wrong credential, lockout, spent and expired challenges, representatives turned away, the
 * portal's hand-over, and the login forms' anti-forgery token.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { createInMemorySigningKey, type SigningKey } from '../../auth/signing-keys.ts';
import { mintToken, verifyAccessToken } from '../../auth/access-token.ts';
import { mintActorToken } from '../mintActorToken.ts';
import { addPerson } from '../persons.ts';
import { activateAccount, issueInvitation } from '../accounts/activate.ts';
import { completeLogin, login, type PersonTokenResponse, type SecondFactorRequired } from '../accounts/login.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from '../accounts/secondFactor.ts';
import { listActiveSessions, revokeSession } from '../accounts/sessions.ts';
import { totpNow } from '../accounts/totp.ts';
import { inTransaction } from '../context.ts';
import { freshIns, newRecord, TEST_OID } from '../testkit.ts';
import {
  AUTHORIZE_CLIENT_ID, authenticateHolder, credentialAudience, holderHandOver, holderLogin, holderSecondFactor, loginFormToken,
  loginFormTokenMatches, type HolderLoginOutcome, type HolderSessionDeps,
} from './holder-session.ts';

const BASE = 'https://carnet.example';
const FHIR = `${BASE}/fhir`;
const PASSWORD = 'un mot de passe assez long';

let c: TestCarnet;
let key: SigningKey;
let deps: HolderSessionDeps;

before(async () => {
  c = await openTestCarnet();
  key = await createInMemorySigningKey();
  deps = { signingKey: key, issuer: BASE, fhirBase: FHIR };
});
after(async () => {
  await c.database.db.destroy();
  await new Promise((r) => setTimeout(r, 200));
  await c.cleanup();
});

/** An active record whose holder has activated an account (second factor: e-mailed codes). */
async function holder() {
  const r = await newRecord(c);
  const a = await activateAccount(c.ctx, { ins: r.ins, insOid: TEST_OID, code: r.activationCode, password: PASSWORD, email: 'camille@example.org' });
  return { ins: r.ins, recordId: r.recordId, accountId: a.accountId };
}

async function lastEmailedCode(accountId: string): Promise<string> {
  const rows = await c.ctx.db.selectFrom('notifications').selectAll().where('recipient_kind', '=', 'account').where('recipient_id', '=', accountId)
    .where('kind', '=', 'login_code').orderBy('created_at').execute();
  return JSON.parse(rows.at(-1)!.payload).code;
}

function secondFactor(out: HolderLoginOutcome) {
  assert.equal(out.kind, 'second_factor', JSON.stringify(out));
  return out as Extract<HolderLoginOutcome, { kind: 'second_factor' }>;
}
function authenticated(out: HolderLoginOutcome) {
  assert.equal(out.kind, 'authenticated', JSON.stringify(out));
  return out as Extract<HolderLoginOutcome, { kind: 'authenticated' }>;
}
const refusal = (out: HolderLoginOutcome) => (out.kind === 'refused' ? out.reason : `not refused: ${out.kind}`);

/** The whole login the page does: INS + password, then the e-mailed code. */
async function logIn(h: { ins: string; accountId: string }) {
  const step = secondFactor(await holderLogin(c.ctx, { ins: h.ins, password: PASSWORD }, deps));
  assert.equal(step.method, 'email');
  return authenticated(await holderSecondFactor(c.ctx, { challenge: step.challenge, code: await lastEmailedCode(h.accountId) }, deps));
}

/** A portal's own login (the accounts API), for the hand-over. */
async function portalLogin(ins: string, accountId: string): Promise<PersonTokenResponse> {
  const issuer = { signer: key, issuer: BASE, audience: FHIR };
  const step = (await login(c.ctx, issuer, { ins, insOid: TEST_OID, password: PASSWORD })) as SecondFactorRequired;
  return completeLogin(c.ctx, issuer, { challenge: step.challenge, code: await lastEmailedCode(accountId) });
}

test('INS + password + e-mailed code: a credential for the authorize pages only, alive as long as its login session', async () => {
  const h = await holder();
  const ok = await logIn(h);
  assert.equal(ok.session.recordId, h.recordId);
  assert.equal(ok.session.actor.kind, 'holder');
  assert.equal(ok.session.actor.id, h.recordId);
  // the INS typed with spaces, as on the card, works too
  const spaced = h.ins.replace(/^(.)(..)(..)(..)(...)(...)(..)$/, '$1 $2 $3 $4 $5 $6 $7');
  assert.notEqual(spaced, h.ins);
  assert.equal(secondFactor(await holderLogin(c.ctx, { ins: spaced, password: PASSWORD }, deps)).method, 'email');

  // the credential: bound to the session, for the authorize endpoint, no scope
  const claims = await verifyAccessToken(ok.credential, { verifier: key.verifier, issuer: BASE, audience: credentialAudience(BASE), now: c.ctx.clock });
  assert.equal(claims.sessionId, ok.session.sessionId);
  assert.equal(claims.clientId, AUTHORIZE_CLIENT_ID);
  assert.deepEqual(claims.scopes, []);
  assert.ok(claims.expiresAt.getTime() - c.ctx.clock().getTime() <= 900_000);
  // …which the FHIR API refuses (another audience)
  await assert.rejects(verifyAccessToken(ok.credential, { verifier: key.verifier, issuer: BASE, audience: FHIR, now: c.ctx.clock }), (e: any) => e.code === 'TOKEN_WRONG_AUDIENCE');
  assert.equal((await authenticateHolder(c.ctx, ok.credential, deps))?.recordId, h.recordId);

  // the holder sees the session among theirs, and ending it ends the authorize login
  const sessions = await listActiveSessions(c.ctx, 'account', h.accountId);
  assert.ok(sessions.some((s) => s.id === ok.session.sessionId));
  await inTransaction(c.ctx, (tx) => revokeSession(tx, 'account', h.accountId, ok.session.sessionId, 'revoked_by_holder'));
  assert.equal(await authenticateHolder(c.ctx, ok.credential, deps), undefined);
});

test('the credential expires with its own lifetime, and nothing else passes for it', async () => {
  const h = await holder();
  const ok = await logIn(h);
  assert.equal(await authenticateHolder(c.ctx, undefined, deps), undefined);
  assert.equal(await authenticateHolder(c.ctx, 'garbage', deps), undefined);
  // the portal's token (audience: the FHIR base) is not an authorize credential
  const portal = await portalLogin(h.ins, h.accountId);
  assert.equal(await authenticateHolder(c.ctx, portal.access_token, deps), undefined);
  // nor is a token without a session, nor one signed with another key
  const sessionless = await mintActorToken(c.ctx, key, BASE, { as: `holder:${h.recordId}` });
  assert.equal(await authenticateHolder(c.ctx, sessionless.access_token, deps), undefined);
  const other = await createInMemorySigningKey();
  const forged = await mintToken(ok.session.actor, [], other, {
    issuer: BASE, audience: credentialAudience(BASE), clientId: AUTHORIZE_CLIENT_ID, sessionId: ok.session.sessionId, now: c.ctx.clock,
  });
  assert.equal(await authenticateHolder(c.ctx, forged.access_token, deps), undefined);
  // the same, signed with Carnet's key, passes: the refusal above is the signature's
  const genuine = await mintToken(ok.session.actor, [], key, {
    issuer: BASE, audience: credentialAudience(BASE), clientId: AUTHORIZE_CLIENT_ID, sessionId: ok.session.sessionId, now: c.ctx.clock,
  });
  assert.equal((await authenticateHolder(c.ctx, genuine.access_token, deps))?.recordId, h.recordId);
  // 15 minutes at most
  c.advance(15 * 60_000 + 1000);
  try {
    assert.equal(await authenticateHolder(c.ctx, ok.credential, deps), undefined);
  } finally {
    c.advance(-(15 * 60_000 + 1000));
  }
});

test('TOTP as second factor: the code of the authenticator app', async () => {
  const h = await holder();
  // enrolled half a minute ago, so that the code of now is a fresh one
  c.advance(-30_000);
  let secret: string;
  try {
    secret = (await startTotpEnrolment(c.ctx, h.accountId, PASSWORD)).secret;
    await confirmTotpEnrolment(c.ctx, h.accountId, await totpNow(secret, c.ctx.clock()));
  } finally {
    c.advance(30_000);
  }
  const step = secondFactor(await holderLogin(c.ctx, { ins: h.ins, password: PASSWORD }, deps));
  assert.equal(step.method, 'totp');
  const right = await totpNow(secret, c.ctx.clock());
  assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: step.challenge, code: right === '000000' ? '111111' : '000000' }, deps)), 'SECOND_FACTOR_WRONG');
  const ok = authenticated(await holderSecondFactor(c.ctx, { challenge: step.challenge, code: right }, deps));
  assert.equal(ok.session.recordId, h.recordId);
});

test('unknown INS, malformed INS and wrong password get one answer; five failures lock, even the right password then', async () => {
  const h = await holder();
  const answers = [
    await holderLogin(c.ctx, { ins: h.ins, password: 'not the password at all' }, deps),
    await holderLogin(c.ctx, { ins: freshIns(), password: PASSWORD }, deps),
    await holderLogin(c.ctx, { ins: '123', password: PASSWORD }, deps),
    await holderLogin(c.ctx, { ins: h.ins, password: '' }, deps),
  ];
  assert.deepEqual(answers, answers.map(() => ({ kind: 'refused', reason: 'LOGIN_FAILED' })));
  for (let i = 2; i <= 4; i++) assert.equal(refusal(await holderLogin(c.ctx, { ins: h.ins, password: `wrong ${i} wrong wrong` }, deps)), 'LOGIN_FAILED');
  const fifth = await holderLogin(c.ctx, { ins: h.ins, password: 'wrong 5 wrong wrong' }, deps);
  assert.equal(refusal(fifth), 'ACCOUNT_LOCKED');
  assert.ok(fifth.kind === 'refused' && fifth.lockedUntil && fifth.lockedUntil > c.ctx.clock().toISOString());
  assert.equal(refusal(await holderLogin(c.ctx, { ins: h.ins, password: PASSWORD }, deps)), 'ACCOUNT_LOCKED');
});

test('a challenge serves once and expires; a wrong code is only a wrong code', async () => {
  const h = await holder();
  const step = secondFactor(await holderLogin(c.ctx, { ins: h.ins, password: PASSWORD }, deps));
  const code = await lastEmailedCode(h.accountId);
  assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: step.challenge, code: code === '000000' ? '000001' : '000000' }, deps)), 'SECOND_FACTOR_WRONG');
  authenticated(await holderSecondFactor(c.ctx, { challenge: step.challenge, code }, deps));
  assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: step.challenge, code }, deps)), 'CHALLENGE_EXPIRED');
  assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: 'x'.repeat(43), code }, deps)), 'CHALLENGE_EXPIRED');
  assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: undefined, code }, deps)), 'CHALLENGE_EXPIRED');

  const late = secondFactor(await holderLogin(c.ctx, { ins: h.ins, password: PASSWORD }, deps));
  const lateCode = await lastEmailedCode(h.accountId);
  c.advance(10 * 60_000 + 1000);
  try {
    assert.equal(refusal(await holderSecondFactor(c.ctx, { challenge: late.challenge, code: lateCode }, deps)), 'CHALLENGE_EXPIRED');
  } finally {
    c.advance(-(10 * 60_000 + 1000));
  }
});

test('a legal representative’s login is turned away and its session ended at once', async () => {
  const child = await newRecord(c, { minor: true });
  const parentIns = freshIns();
  const OPERATOR = { kind: 'operator' as const, id: 'op', name: 'Opérateur' };
  const { id: personId } = await addPerson(c.ctx, OPERATOR, child.recordId, { kind: 'legal_representative', ins: parentIns, insOid: TEST_OID, name: 'Parent Un' });
  const inv = await issueInvitation(c.ctx, OPERATOR, child.recordId, personId);
  const { accountId } = await activateAccount(c.ctx, { ins: parentIns, insOid: TEST_OID, code: inv.code, password: PASSWORD, email: 'parent@example.org' });
  const step = secondFactor(await holderLogin(c.ctx, { ins: parentIns, password: PASSWORD }, deps));
  const out = await holderSecondFactor(c.ctx, { challenge: step.challenge, code: await lastEmailedCode(accountId) }, deps);
  assert.equal(refusal(out), 'NOT_HOLDER');
  assert.deepEqual(await listActiveSessions(c.ctx, 'account', accountId), []);
  const ended = await c.ctx.db.selectFrom('account_sessions').selectAll().where('subject_id', '=', accountId).execute();
  assert.equal(ended.length, 1);
  assert.equal(ended[0].revoked_reason, 'logout');
  // their portal token handed over: refused the same way (their portal session is left alone)
  const portal = await portalLogin(parentIns, accountId);
  assert.equal(refusal(await holderHandOver(c.ctx, portal.access_token, deps)), 'NOT_HOLDER');
  assert.equal((await listActiveSessions(c.ctx, 'account', accountId)).length, 1);
});

test('the portal’s hand-over: a holder token of a live session only', async () => {
  const h = await holder();
  const portal = await portalLogin(h.ins, h.accountId);
  const ok = authenticated(await holderHandOver(c.ctx, portal.access_token, deps));
  assert.equal(ok.session.sessionId, portal.session_id, 'the same login session, not a new one');
  assert.notEqual(ok.credential, portal.access_token, 'the cookie never holds the portal token');
  const sessionless = await mintActorToken(c.ctx, key, BASE, { as: `holder:${h.recordId}` });
  assert.equal(refusal(await holderHandOver(c.ctx, sessionless.access_token, deps)), 'CREDENTIAL_INVALID');
  assert.equal(refusal(await holderHandOver(c.ctx, ok.credential, deps)), 'CREDENTIAL_INVALID');
  assert.equal(refusal(await holderHandOver(c.ctx, undefined, deps)), 'CREDENTIAL_INVALID');
  await inTransaction(c.ctx, (tx) => revokeSession(tx, 'account', h.accountId, portal.session_id, 'logout'));
  assert.equal(refusal(await holderHandOver(c.ctx, portal.access_token, deps)), 'CREDENTIAL_INVALID');
  assert.equal(await authenticateHolder(c.ctx, ok.credential, deps), undefined);
});

test('the login forms’ token is tied to the request and to the browser', () => {
  const browser = 'b'.repeat(43);
  const t = loginFormToken('request-csrf', browser);
  assert.equal(loginFormTokenMatches('request-csrf', browser, t), true);
  assert.equal(loginFormTokenMatches('request-csrf', 'c'.repeat(43), t), false, 'another browser');
  assert.equal(loginFormTokenMatches('other-request', browser, t), false, 'another request');
  assert.equal(loginFormTokenMatches('request-csrf', undefined, t), false, 'no browser cookie');
  assert.equal(loginFormTokenMatches('request-csrf', browser, undefined), false, 'no token');
  assert.equal(loginFormTokenMatches('request-csrf', browser, 'request-csrf'), false, 'the request’s own csrf is not enough');
});
