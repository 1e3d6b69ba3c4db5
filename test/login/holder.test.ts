/**
 * Issue 5, must show — holders over real HTTP: activation (code + INS), TOTP enrolment, login with
 * password + TOTP computed by otplib, five failures and the lock (the right password refused while
 * locked), reset with the one-time code from the outbox, sessions listed and revoked (the revoked
 * session's token is then refused by /fhir), objection with the same code, idle expiry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { verifyAudit } from '../../src/audit/audit.ts';
import { assertRefused, call, docIds, freshIns, outbox, recordWithDocument, startServer, TEST_OID, type Server } from './helpers.ts';

let s: Server;
before(async () => {
  // this file logs in more than a person would in a minute: the per-address limit is tested below
  process.env.CARNET_LOGIN_RATE_LIMIT = '500';
  s = await startServer();
  delete process.env.CARNET_LOGIN_RATE_LIMIT;
});
after(() => s.close());

const PASSWORD = 'un mot de passe assez long';
const NEW_PASSWORD = 'un tout nouveau mot de passe';
/** The code an authenticator app would show now (Carnet's clock is the test's settable one). */
const totp = (secret: string) => generate({ secret, epoch: Math.floor(s.carnet.ctx.clock().getTime() / 1000) });
const searchDocs = (recordId: string, token: string) => call(`${s.baseUrl}/fhir/DocumentReference?patient=${recordId}`, { token });

test('a holder activates, enrols TOTP, logs in, is locked after five failures, resets, and manages sessions', async () => {
  const h = await recordWithDocument(s, { pending: true });

  // activation: code of the opening notice + INS; the pending record opens at once
  const wrong = await call(`${s.baseUrl}/accounts/activate`, { body: { ins: h.ins, ins_oid: TEST_OID, code: 'ABCD-EFGH-JKLM', password: PASSWORD } });
  assertRefused(wrong, 403, 'ACTIVATION_CODE_WRONG');
  const act = await call(`${s.baseUrl}/accounts/activate`, { body: { ins: h.ins, ins_oid: TEST_OID, code: h.activationCode, password: PASSWORD } });
  assert.equal(act.status, 201, act.text);
  assert.equal(act.json.record_state, 'active');
  assert.equal(act.json.second_factor, 'email');
  const accountId: string = act.json.account_id;
  const docId = await h.fileOne();
  assertRefused(await call(`${s.baseUrl}/accounts/activate`, { body: { ins: h.ins, ins_oid: TEST_OID, code: h.activationCode, password: PASSWORD } }), 409, 'ACCOUNT_EXISTS');

  // first login: password, then the code e-mailed through the outbox
  const step = await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD } });
  assert.equal(step.status, 200, step.text);
  assert.equal(step.json.status, 'second_factor_required');
  assert.equal(step.json.method, 'email');
  const emailed = (await outbox(s, accountId, 'login_code')).at(-1)!.code;
  const first = await call(`${s.baseUrl}/accounts/login/second-factor`, { body: { challenge: step.json.challenge, code: emailed } });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers['cache-control'], 'no-store');

  // TOTP enrolment (password asked again), confirmed with a code from otplib
  const enrol = await call(`${s.baseUrl}/accounts/totp`, { token: first.json.access_token, body: { password: PASSWORD } });
  assert.equal(enrol.status, 200, enrol.text);
  assert.match(enrol.json.otpauth_uri, /^otpauth:\/\/totp\//);
  const secret: string = enrol.json.secret;
  const confirm = await call(`${s.baseUrl}/accounts/totp/confirm`, { token: first.json.access_token, body: { code: await totp(secret) } });
  assert.equal(confirm.status, 200, confirm.text);
  assert.equal(confirm.json.second_factor, 'totp');

  // login with password + TOTP; the token reads the record through /fhir like any client
  s.carnet.advance(30_000);
  const login = await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD, otp: await totp(secret) } });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.json.status, 'authenticated');
  assert.equal(login.json.act_as, 'holder');
  const read = await searchDocs(h.recordId, login.json.access_token);
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(docIds(read), [docId]);
  // the same TOTP code twice: refused (replay)
  assertRefused(await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD, otp: await totp(secret) } }), 401, 'SECOND_FACTOR_WRONG');

  // five failures lock the account (the replayed code above was the first one); then even the right password is refused
  for (let i = 2; i <= 4; i++) {
    assertRefused(await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: `wrong password ${i}` } }), 401, 'LOGIN_FAILED');
  }
  const fifth = await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: 'wrong password 5' } });
  assertRefused(fifth, 403, 'ACCOUNT_LOCKED');
  s.carnet.advance(30_000);
  assertRefused(await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD, otp: await totp(secret) } }), 403, 'ACCOUNT_LOCKED');
  const lockouts = await s.carnet.ctx.db.selectFrom('audit_log').select(['action', 'outcome']).where('record_id', '=', h.recordId).where('action', '=', 'account.lockout').execute();
  assert.equal(lockouts.length, 1, 'the lockout is on the record’s chain');

  // reset with the one-time code from the outbox: the lock goes, the old sessions end, TOTP stays
  const forgot = await call(`${s.baseUrl}/accounts/password/forgot`, { body: { ins: h.ins, ins_oid: TEST_OID } });
  assert.equal(forgot.status, 202);
  const unknown = await call(`${s.baseUrl}/accounts/password/forgot`, { body: { ins: freshIns(), ins_oid: TEST_OID } });
  assert.deepEqual([unknown.status, unknown.json], [forgot.status, forgot.json], 'no hint whether the INS has an account');
  const resetCode = (await outbox(s, accountId, 'password_reset_code')).at(-1)!.code;
  const reset = await call(`${s.baseUrl}/accounts/password/reset`, { body: { ins: h.ins, ins_oid: TEST_OID, code: resetCode, password: NEW_PASSWORD } });
  assert.equal(reset.status, 200, reset.text);
  assert.equal(reset.json.sessions_ended, 2);
  assertRefused(await searchDocs(h.recordId, login.json.access_token), 401, 'SESSION_REVOKED');
  s.carnet.advance(30_000);
  assertRefused(await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: PASSWORD, otp: await totp(secret) } }), 401, 'LOGIN_FAILED');
  s.carnet.advance(30_000);
  const a = await call(`${s.baseUrl}/accounts/login`, { body: { ins: h.ins, ins_oid: TEST_OID, password: NEW_PASSWORD, otp: await totp(secret) } });
  assert.equal(a.status, 200, a.text);

  // a second session (another device); the holder lists both and revokes the first
  s.carnet.advance(30_000);
  const b = await call(`${s.baseUrl}/accounts/login`, {
    body: { ins: h.ins, ins_oid: TEST_OID, password: NEW_PASSWORD, otp: await totp(secret) }, headers: { 'user-agent': 'Carnet mobile' },
  });
  assert.equal(b.status, 200, b.text);
  const list = await call(`${s.baseUrl}/accounts/sessions`, { token: b.json.access_token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.sessions.map((x: any) => [x.id, x.current]).sort(), [[a.json.session_id, false], [b.json.session_id, true]].sort());
  assert.equal(list.json.sessions.find((x: any) => x.current).user_agent, 'Carnet mobile');
  assert.equal((await searchDocs(h.recordId, a.json.access_token)).status, 200);
  const revoke = await call(`${s.baseUrl}/accounts/sessions/${a.json.session_id}`, { method: 'DELETE', token: b.json.access_token });
  assert.equal(revoke.status, 204, revoke.text);
  assertRefused(await searchDocs(h.recordId, a.json.access_token), 401, 'SESSION_REVOKED');
  assertRefused(await call(`${s.baseUrl}/accounts/session/token`, { body: { session_secret: a.json.session_secret } }), 401, 'SESSION_REVOKED');
  assert.equal((await searchDocs(h.recordId, b.json.access_token)).status, 200);
  const after = await call(`${s.baseUrl}/accounts/sessions`, { token: b.json.access_token });
  assert.deepEqual(after.json.sessions.map((x: any) => x.id), [b.json.session_id]);

  // the session secret mints fresh tokens while the session is used; 30 idle minutes end it
  s.carnet.advance(20 * 60_000);
  const fresh = await call(`${s.baseUrl}/accounts/session/token`, { body: { session_secret: b.json.session_secret } });
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal((await searchDocs(h.recordId, fresh.json.access_token)).status, 200);
  s.carnet.advance(31 * 60_000);
  assertRefused(await call(`${s.baseUrl}/accounts/session/token`, { body: { session_secret: b.json.session_secret } }), 401, 'SESSION_EXPIRED');

  // every login, failure and lockout is on the record's chain, and the chain holds
  const audit = await s.carnet.ctx.db.selectFrom('audit_log').select(['action', 'outcome', 'reason']).where('record_id', '=', h.recordId)
    .where('action', 'like', 'account.%').orderBy('record_seq').execute();
  const logins = audit.filter((x) => x.action === 'account.login').map((x) => `${x.outcome}:${x.reason ?? ''}`);
  assert.deepEqual(logins, [
    'success:', 'success:', 'failure:TOTP_WRONG', 'failure:PASSWORD_WRONG', 'failure:PASSWORD_WRONG', 'failure:PASSWORD_WRONG', 'failure:PASSWORD_WRONG',
    'failure:ACCOUNT_LOCKED', 'failure:PASSWORD_WRONG', 'success:', 'success:',
  ]);
  assert.ok((await verifyAudit(s.carnet.ctx.db, { recordId: h.recordId })).ok);
  // no secret reached the outbox's other messages or the audit trail
  const trail = JSON.stringify(await s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', h.recordId).execute());
  for (const secretText of [PASSWORD, NEW_PASSWORD, secret, resetCode]) assert.ok(!trail.includes(secretText));
});

test('objection over HTTP with the same code gives the signed proof, and then no account opens', async () => {
  const h = await recordWithDocument(s, { pending: true });
  const oppose = await call(`${s.baseUrl}/accounts/oppose`, { body: { ins: h.ins, ins_oid: TEST_OID, code: h.activationCode } });
  assert.equal(oppose.status, 200, oppose.text);
  assert.equal(oppose.json.record_state, 'opposed');
  assert.match(oppose.json.statement.fr, /s'est opposée/);
  assert.equal(oppose.json.signature.split('.').length, 3);
  assertRefused(await call(`${s.baseUrl}/accounts/activate`, { body: { ins: h.ins, ins_oid: TEST_OID, code: h.activationCode, password: PASSWORD } }), 409, 'RECORD_STATE');
  assertRefused(await call(`${s.baseUrl}/accounts/oppose`, { body: { ins: h.ins, ins_oid: TEST_OID, code: 'WXYZ-WXYZ-WXYZ' } }), 403, 'ACTIVATION_CODE_WRONG');
});

test('a token that is not from a person’s login cannot list sessions; a malformed INS is a 400', async () => {
  assertRefused(await call(`${s.baseUrl}/accounts/sessions`), 401, 'TOKEN_MISSING');
  assertRefused(await call(`${s.baseUrl}/accounts/login`, { body: { ins: '123', password: PASSWORD } }), 400, 'INS');
});

test('login routes are rate-limited per address', async () => {
  process.env.CARNET_LOGIN_RATE_LIMIT = '3';
  const small = await startServer();
  delete process.env.CARNET_LOGIN_RATE_LIMIT;
  try {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(`${small.baseUrl}/accounts/login`, { body: { ins: freshIns(), ins_oid: TEST_OID, password: PASSWORD } })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  } finally {
    await small.close();
  }
});
