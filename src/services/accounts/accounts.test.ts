/**
 * Holder accounts (DOMAIN §1, §3, §8) at the service level, on both engines: activation with the
 * opening notice's code, the two login paths (e-mailed code, TOTP), lockout and back-off, password
 * reset, sessions that expire and are revoked, representatives logging in as themselves, secrets
 * sealed, every step audited on the record's chain.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { verifyAudit } from '../../audit/audit.ts';
import { verifyAccessToken } from '../../auth/access-token.ts';
import { loadOrCreateSigningKey, type SigningKey } from '../../auth/signing-keys.ts';
import { addPatient } from '../addPatient.ts';
import { addPerson } from '../persons.ts';
import { opposeRecord } from '../recordLifecycle.ts';
import { auditOf, freshIns, holderOf, rejectsWith, TEST_OID } from '../testkit.ts';
import { activateAccount, issueInvitation } from './activate.ts';
import { completeLogin, login, type PersonTokenResponse, type SecondFactorRequired } from './login.ts';
import { requestPasswordReset, resetPassword } from './passwordReset.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from './secondFactor.ts';
import { checkSession, listActiveSessions, revokeSession, SESSION_LIMITS, type TokenIssuer } from './sessions.ts';
import { totpNow } from './totp.ts';
import { LOCKOUT } from './lockout.ts';
import { inTransaction } from '../context.ts';

let c: TestCarnet;
let signer: SigningKey;
let issuer: TokenIssuer;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  c = await openTestCarnet();
  signer = await loadOrCreateSigningKey(c.dataDir);
  issuer = { signer, issuer: 'https://carnet.test', audience: 'https://carnet.test/fhir' };
});
after(async () => {
  // pg-pool's end() resolves before its sockets are closed; the test database is then dropped with
  // (force), which would kill them mid-close: close first, give the sockets a moment, then clean up
  await c.database.db.destroy();
  await new Promise((r) => setTimeout(r, 200));
  await c.cleanup();
});

async function pendingHolder(opts: { minor?: boolean; email?: string | null } = {}) {
  const ins = freshIns();
  const r = await addPatient(c.ctx, {
    ins, insOid: TEST_OID, identityStatus: 'qualifiee', minor: opts.minor,
    demographics: { birthName: 'TESTNOM', firstNames: ['Camille'], sex: 'F', birthDate: '1985-03-01', ...(opts.email === null ? {} : { email: opts.email ?? 'camille@example.org' }) },
  });
  return { ins, recordId: r.recordId, code: r.activationCode };
}

async function outbox(kind: string, accountId: string) {
  const rows = await c.ctx.db.selectFrom('notifications').selectAll().where('recipient_kind', '=', 'account').where('recipient_id', '=', accountId)
    .where('kind', '=', kind).orderBy('created_at').execute();
  return rows.map((r) => JSON.parse(r.payload) as { code?: string; expiresAt?: string; lockedUntil?: string });
}

const verify = (t: string) => verifyAccessToken(t, { verifier: signer.verifier, issuer: issuer.issuer, audience: issuer.audience, now: c.ctx.clock });

async function loginWithEmailCode(ins: string, accountId: string, password = PASSWORD): Promise<PersonTokenResponse> {
  const step = (await login(c.ctx, issuer, { ins, insOid: TEST_OID, password })) as SecondFactorRequired;
  assert.equal(step.status, 'second_factor_required');
  assert.equal(step.method, 'email');
  const codes = await outbox('login_code', accountId);
  return completeLogin(c.ctx, issuer, { challenge: step.challenge, code: codes.at(-1)!.code! });
}

test('activation with the opening code + INS activates the pending record, spends the code, and a second try is refused', async () => {
  const h = await pendingHolder();
  await rejectsWith(activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: 'AAAA-BBBB-CCCC', password: PASSWORD }), 'ACTIVATION_CODE_WRONG', 'forbidden');
  await rejectsWith(activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: 'short' }), 'PASSWORD_POLICY', 'invalid');
  const r = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code.toLowerCase(), password: PASSWORD });
  assert.equal(r.via, 'activation_code');
  assert.equal(r.recordState, 'active');
  const rec = await c.ctx.db.selectFrom('records').select(['state', 'activation_code_hash']).where('id', '=', h.recordId).executeTakeFirstOrThrow();
  assert.equal(rec.state, 'active');
  assert.equal(rec.activation_code_hash, null, 'the one-time code is spent');
  await rejectsWith(activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD }), 'ACCOUNT_EXISTS', 'conflict');
  const audit = await auditOf(c, h.recordId, { action: 'account.activate' });
  assert.deepEqual(audit.map((a) => [a.outcome, a.reason]), [['failure', 'ACTIVATION_CODE_WRONG'], ['success', null]]);
  const actions = (await auditOf(c, h.recordId)).map((a) => a.action);
  assert.ok(actions.includes('record.activate'), 'the record activation is audited too');
});

test('objection with the same code still works before any activation, and then no account can be opened', async () => {
  const h = await pendingHolder();
  const proof = await opposeRecord(c.ctx, { ins: h.ins, insOid: TEST_OID, activationCode: h.code });
  assert.equal(proof.state, 'opposed');
  await rejectsWith(activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD }), 'RECORD_STATE', 'conflict');
});

test('login with password + e-mailed code: a session token whose sid is checked; the code is single use', async () => {
  const h = await pendingHolder();
  const { accountId } = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  const step = (await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD })) as SecondFactorRequired;
  const code = (await outbox('login_code', accountId)).at(-1)!.code!;
  assert.match(code, /^\d{6}$/);
  const ok = await completeLogin(c.ctx, issuer, { challenge: step.challenge, code });
  assert.equal(ok.status, 'authenticated');
  assert.equal(ok.act_as, 'holder');
  assert.ok(ok.session_secret);
  const t = await verify(ok.access_token);
  assert.equal(t.actor.kind, 'holder');
  assert.equal(t.actor.kind === 'holder' && t.actor.id, h.recordId);
  assert.equal(t.sessionId, ok.session_id);
  assert.ok(ok.expires_in <= SESSION_LIMITS.accessTokenSeconds);
  await checkSession(c.ctx, ok.session_id);
  await rejectsWith(completeLogin(c.ctx, issuer, { challenge: step.challenge, code }), 'CHALLENGE_EXPIRED', 'unauthorized');
  const logins = await auditOf(c, h.recordId, { action: 'account.login' });
  assert.equal(logins.at(-1)!.outcome, 'success');
  assert.equal(JSON.parse(logins.at(-1)!.detail!).method, 'password+email');
});

test('unknown INS and wrong password give the same refusal', async () => {
  const h = await pendingHolder();
  await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  await rejectsWith(login(c.ctx, issuer, { ins: freshIns(), insOid: TEST_OID, password: PASSWORD }), 'LOGIN_FAILED', 'unauthorized');
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: 'not the password at all' }), 'LOGIN_FAILED', 'unauthorized');
});

test('five failures lock the account (the right password is refused while locked); the next lock lasts twice as long', async () => {
  const h = await pendingHolder();
  const { accountId } = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  for (let i = 1; i < LOCKOUT.maxFailures; i++) {
    await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: `wrong password ${i}` }), 'LOGIN_FAILED');
  }
  const lock = await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: 'wrong password 5' }), 'ACCOUNT_LOCKED', 'forbidden');
  const until = lock.details!.lockedUntil as string;
  assert.equal(Date.parse(until) - c.ctx.clock().getTime(), 15 * 60_000);
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD }), 'ACCOUNT_LOCKED');
  assert.equal((await outbox('account_locked', accountId)).length, 1);
  const lockouts = await auditOf(c, h.recordId, { action: 'account.lockout' });
  assert.equal(lockouts.length, 1);
  const refused = (await auditOf(c, h.recordId, { action: 'account.login' })).filter((a) => a.reason === 'ACCOUNT_LOCKED');
  assert.equal(refused.length, 1);

  c.advance(15 * 60_000);
  // the lock is over: the right password works again (and resets the back-off)
  const ok = await loginWithEmailCode(h.ins, accountId);
  assert.equal(ok.status, 'authenticated');
  // two locks in a row without success in between: 15 then 30 minutes
  for (let round = 0; round < 2; round++) {
    let e;
    for (let i = 0; i < LOCKOUT.maxFailures; i++) e = await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: 'still wrong password' }).catch((x) => x);
    assert.equal(e.code, 'ACCOUNT_LOCKED');
    assert.equal(Date.parse(e.details.lockedUntil) - c.ctx.clock().getTime(), (round === 0 ? 15 : 30) * 60_000);
    c.advance(Date.parse(e.details.lockedUntil) - c.ctx.clock().getTime());
  }
  // five wrong attempts at once (a parallel guesser) lock the account just the same
  const parallel = await Promise.all(
    Array.from({ length: LOCKOUT.maxFailures }, (_, i) => login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: `parallel guess ${i}` }).catch((x) => x.code)),
  );
  assert.deepEqual(parallel.filter((x) => x === 'ACCOUNT_LOCKED').length, 1);
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD }), 'ACCOUNT_LOCKED');
});

test('TOTP: enrol (password again), confirm, then log in in one step; a code is accepted once; wrong codes count towards the lock', async () => {
  const h = await pendingHolder();
  const { accountId } = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  await rejectsWith(startTotpEnrolment(c.ctx, accountId, 'not my password!'), 'PASSWORD_WRONG', 'forbidden');
  const { secret, otpauthUri } = await startTotpEnrolment(c.ctx, accountId, PASSWORD);
  assert.match(otpauthUri, /^otpauth:\/\/totp\/Carnet:/);
  assert.ok(otpauthUri.includes(`secret=${secret}`));
  assert.ok(!otpauthUri.includes(h.ins), 'the URI does not carry the INS in clear');
  await rejectsWith(confirmTotpEnrolment(c.ctx, accountId, '000000' === (await totpNow(secret, c.ctx.clock())) ? '111111' : '000000'), 'TOTP_WRONG');
  await confirmTotpEnrolment(c.ctx, accountId, await totpNow(secret, c.ctx.clock()));

  // the secret is sealed: neither the row nor any column holds it in clear
  const row = await c.ctx.db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
  assert.equal(row.second_factor, 'totp');
  assert.ok(row.totp_secret_enc && !Buffer.from(row.totp_secret_enc).includes(secret));
  assert.ok(!JSON.stringify(row).includes(secret));
  assert.ok(!row.password_hash.includes(PASSWORD));

  c.advance(30_000);
  const ok = (await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD, otp: await totpNow(secret, c.ctx.clock()) })) as PersonTokenResponse;
  assert.equal(ok.status, 'authenticated');
  // the same code again (same time step): refused
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD, otp: await totpNow(secret, c.ctx.clock()) }), 'SECOND_FACTOR_WRONG');
  // two steps: password first, then the TOTP code
  c.advance(30_000);
  const step = (await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD })) as SecondFactorRequired;
  assert.equal(step.method, 'totp');
  const ok2 = await completeLogin(c.ctx, issuer, { challenge: step.challenge, code: await totpNow(secret, c.ctx.clock()) });
  assert.equal(ok2.status, 'authenticated');
  const audit = await auditOf(c, h.recordId, { action: 'account.login' });
  assert.deepEqual(audit.map((a) => [a.outcome, a.reason]), [['success', null], ['failure', 'TOTP_WRONG'], ['success', null]]);
});

test('password reset with the e-mailed code: unlocks, ends every session, keeps the second factor', async () => {
  const h = await pendingHolder();
  const { accountId } = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  const before = await loginWithEmailCode(h.ins, accountId);
  for (let i = 0; i < LOCKOUT.maxFailures; i++) await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: 'a wrong password' }).catch(() => {});
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD }), 'ACCOUNT_LOCKED');

  // asking for an unknown INS looks the same and sends nothing
  assert.deepEqual(await requestPasswordReset(c.ctx, { ins: freshIns(), insOid: TEST_OID }), await requestPasswordReset(c.ctx, { ins: h.ins, insOid: TEST_OID }));
  const code = (await outbox('password_reset_code', accountId)).at(-1)!.code!;
  const NEW = 'a brand new passphrase';
  await rejectsWith(resetPassword(c.ctx, { ins: h.ins, insOid: TEST_OID, code: 'ZZZZZZZZ', password: NEW }), 'RESET_CODE_WRONG');
  const r = await resetPassword(c.ctx, { ins: h.ins, insOid: TEST_OID, code, password: NEW });
  assert.equal(r.sessionsEnded, 1);
  await rejectsWith(checkSession(c.ctx, before.session_id), 'SESSION_REVOKED', 'unauthorized');
  await rejectsWith(resetPassword(c.ctx, { ins: h.ins, insOid: TEST_OID, code, password: 'yet another passphrase' }), 'RESET_CODE_WRONG');
  await rejectsWith(login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD }), 'LOGIN_FAILED');
  const ok = await loginWithEmailCode(h.ins, accountId, NEW);
  assert.equal(ok.status, 'authenticated');
  const resets = await auditOf(c, h.recordId, { action: 'account.password.reset' });
  assert.deepEqual(resets.map((a) => [a.outcome, a.reason]), [['failure', 'RESET_CODE_WRONG'], ['success', null], ['failure', 'RESET_CODE_WRONG']]);
});

test('sessions end after 30 idle minutes and after 12 hours whatever the use; a revoked one is refused at once', async () => {
  const h = await pendingHolder();
  const { accountId } = await activateAccount(c.ctx, { ins: h.ins, insOid: TEST_OID, code: h.code, password: PASSWORD });
  const a = await loginWithEmailCode(h.ins, accountId);
  const b = await loginWithEmailCode(h.ins, accountId);
  const listed = await listActiveSessions(c.ctx, 'account', accountId, b.session_id);
  assert.deepEqual(listed.map((s) => [s.id, s.current]).sort(), [[a.session_id, false], [b.session_id, true]].sort());
  await inTransaction(c.ctx, (tx) => revokeSession(tx, 'account', accountId, a.session_id, 'revoked_by_holder'));
  await rejectsWith(checkSession(c.ctx, a.session_id), 'SESSION_REVOKED');
  // another account cannot revoke it
  await rejectsWith(inTransaction(c.ctx, (tx) => revokeSession(tx, 'account', 'someone-else', b.session_id, 'x')), 'SESSION_UNKNOWN', 'not_found');

  c.advance(SESSION_LIMITS.idleMs - 60_000);
  await checkSession(c.ctx, b.session_id); // used just in time: idle clock restarts
  c.advance(SESSION_LIMITS.idleMs - 60_000);
  await checkSession(c.ctx, b.session_id);
  c.advance(SESSION_LIMITS.idleMs);
  await rejectsWith(checkSession(c.ctx, b.session_id), 'SESSION_EXPIRED');

  const d = await loginWithEmailCode(h.ins, accountId);
  assert.equal(Date.parse(d.session_expires_at) - c.ctx.clock().getTime(), SESSION_LIMITS.absoluteMs);
  // used every 20 minutes: never idle, still over at the 12th hour
  let uses = 0;
  while (c.ctx.clock().getTime() + 20 * 60_000 < Date.parse(d.session_expires_at)) {
    c.advance(20 * 60_000);
    await checkSession(c.ctx, d.session_id);
    uses++;
  }
  assert.ok(uses >= 35);
  c.setNow(d.session_expires_at);
  await rejectsWith(checkSession(c.ctx, d.session_id), 'SESSION_EXPIRED');
  assert.deepEqual(await listActiveSessions(c.ctx, 'account', accountId), []);
});

test('a legal representative without a record activates with an invitation and acts as themselves on the minor’s record', async () => {
  const child = await pendingHolder({ minor: true });
  const parentIns = freshIns();
  const OPERATOR = { kind: 'operator' as const, id: 'op', name: 'Opérateur' };
  const { id: personId } = await addPerson(c.ctx, OPERATOR, child.recordId, { kind: 'legal_representative', ins: parentIns, insOid: TEST_OID, name: 'Parent Un' });
  const inv = await issueInvitation(c.ctx, OPERATOR, child.recordId, personId);
  await rejectsWith(activateAccount(c.ctx, { ins: parentIns, insOid: TEST_OID, code: inv.code, password: PASSWORD }), 'EMAIL_REQUIRED', 'invalid');
  const r = await activateAccount(c.ctx, { ins: parentIns, insOid: TEST_OID, code: inv.code, password: PASSWORD, email: 'parent@example.org' });
  assert.equal(r.via, 'invitation');
  assert.deepEqual(r.roles, [{ kind: 'legal_representative', record_ids: [child.recordId] }]);
  const ok = await loginWithEmailCode(parentIns, r.accountId);
  assert.equal(ok.act_as, 'legal_representative');
  const t = await verify(ok.access_token);
  assert.deepEqual([t.actor.kind, t.actor.kind === 'legal_representative' && t.actor.id, t.actor.kind === 'legal_representative' && t.actor.name], ['legal_representative', parentIns, 'Parent Un']);
  await rejectsWith(login(c.ctx, issuer, { ins: parentIns, insOid: TEST_OID, password: PASSWORD, actAs: 'holder' }).then(async (s) => {
    const code = (await outbox('login_code', r.accountId)).at(-1)!.code!;
    return completeLogin(c.ctx, issuer, { challenge: (s as SecondFactorRequired).challenge, code, actAs: 'holder' });
  }), 'ROLE_UNAVAILABLE', 'forbidden');
  // the login is on the child's chain, under the representative's own id
  const logins = await auditOf(c, child.recordId, { action: 'account.login' });
  assert.ok(logins.some((a) => a.outcome === 'success' && a.actor_kind === 'legal_representative' && a.actor_id === parentIns));
  // only someone who manages the record's sharing may invite
  const e = await issueInvitation(c.ctx, holderOf('another-record'), child.recordId, personId).then(() => undefined, (x) => x);
  assert.equal(e?.kind, 'forbidden');
  const denied = await auditOf(c, child.recordId, { action: 'account.invite' });
  assert.deepEqual(denied.map((a) => a.outcome), ['success', 'deny']);
});

test('every chain still verifies', async () => {
  const v = await verifyAudit(c.ctx.db);
  assert.equal(v.ok, true, JSON.stringify(v.broken));
});
