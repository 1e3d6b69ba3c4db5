/**
 * Issue 5, must show — a professional logs in with their card: an X.509 client certificate over
 * mutual TLS (HTTPS, test CA from `carnet pki`), and the token reads through /fhir/DocumentReference.
 * Negative: a certificate from another CA, an expired certificate, no certificate, a subject that
 * carries no RPPS. Refusals are OperationOutcomes, not TLS aborts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCa, issueCard, issueServerCert, type KeyAndCert } from '../../src/auth/pki.ts';
import { addPractitioner } from '../../src/services/addPractitioner.ts';
import { assertRefused, call, docIds, recordWithDocument, startServer, type Server, type Tls } from './helpers.ts';

const RPPS = '10000000009';
let s: Server;
let ca: KeyAndCert;
let otherCa: KeyAndCert;
let record: Awaited<ReturnType<typeof recordWithDocument>>;
const DAY = 86_400_000;

before(async () => {
  ca = createTestCa();
  otherCa = createTestCa({ commonName: 'Some other CA' });
  const server = issueServerCert(ca, { hosts: ['127.0.0.1', 'localhost'] });
  s = await startServer({ https: { key: server.keyPem, cert: server.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false } });
  await addPractitioner(s.carnet.ctx, { rpps: RPPS, family: 'Martin', given: 'Claire', professionCode: '10', specialty: 'SM54', organisationFiness: '750712184' });
  record = await recordWithDocument(s, { consentTo: RPPS });
});
after(() => s.close());

const tlsWith = (card?: KeyAndCert): Tls => ({ ca: ca.certPem, ...(card ? { cert: card.certPem, key: card.keyPem } : {}) });
const loginWith = (card?: KeyAndCert) => call(`${s.baseUrl}/pro/login/certificate`, { method: 'POST', tls: tlsWith(card) });

test('a card issued by the configured CA logs in, and its token reads DocumentReference', async () => {
  const docId = await record.fileOne();
  const card = issueCard(ca, { rpps: RPPS, professionCode: '10', given: 'Claire', family: 'Martin' });
  const r = await loginWith(card);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'authenticated');
  assert.deepEqual(r.json.professional, { rpps: RPPS, profession_code: '10', name: 'Claire Martin' });
  const claims = JSON.parse(Buffer.from(r.json.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.carnet_actor.kind, 'professional');
  assert.equal(claims.carnet_actor.specialty, 'SM54', 'completed from the practitioner register');
  assert.equal(claims.sid, r.json.session_id);
  // the API itself needs no card: the bearer token is the credential
  const read = await call(`${s.baseUrl}/fhir/DocumentReference?patient=${record.recordId}`, { token: r.json.access_token, tls: tlsWith() });
  assert.equal(read.status, 200, read.text);
  assert.ok(docIds(read).includes(docId));
  // the login is audited, with the certificate's serial
  const entry = await s.carnet.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'pro.login').where('outcome', '=', 'success').executeTakeFirstOrThrow();
  assert.equal(entry.actor_id, RPPS);
  assert.equal(JSON.parse(entry.detail!).method, 'x509');

  // a fresh token from the session secret; logout ends the session and its tokens
  const fresh = await call(`${s.baseUrl}/pro/login/session/token`, { body: { session_secret: r.json.session_secret }, tls: tlsWith() });
  assert.equal(fresh.status, 200, fresh.text);
  const out = await call(`${s.baseUrl}/pro/logout`, { method: 'POST', token: fresh.json.access_token, tls: tlsWith() });
  assert.equal(out.status, 204, out.text);
  assertRefused(await call(`${s.baseUrl}/fhir/DocumentReference?patient=${record.recordId}`, { token: r.json.access_token, tls: tlsWith() }), 401, 'SESSION_REVOKED');
});

test('a session never outlives the card: it ends with the certificate', async () => {
  // the card's dates are real ones: put Carnet's clock on the real time for this one
  s.carnet.setNow(new Date());
  const soon = new Date(Date.now() + 2 * 3_600_000);
  const card = issueCard(ca, { rpps: RPPS, professionCode: '10', given: 'Claire', family: 'Martin', notAfter: soon });
  const r = await loginWith(card);
  assert.equal(r.status, 200, r.text);
  // the certificate's notAfter is second-precise
  assert.equal(Math.floor(Date.parse(r.json.session_expires_at) / 1000), Math.floor(soon.getTime() / 1000));
});

test('a card from another CA is refused with CERT_UNTRUSTED', async () => {
  const card = issueCard(otherCa, { rpps: RPPS, professionCode: '10', given: 'Claire', family: 'Martin' });
  const r = await loginWith(card);
  assertRefused(r, 401, 'CERT_UNTRUSTED');
});

test('an expired card is refused with CERT_EXPIRED', async () => {
  const card = issueCard(ca, { rpps: RPPS, professionCode: '10', given: 'Claire', family: 'Martin', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
  assertRefused(await loginWith(card), 401, 'CERT_EXPIRED');
});

test('no card, or a certificate of the right CA that is not a card, is refused', async () => {
  assertRefused(await loginWith(), 401, 'CERT_MISSING');
  // a server certificate of the same CA: not for client authentication, and no idNat_PS in it
  const server = issueServerCert(ca, { hosts: ['client.example'] });
  const r = await loginWith({ certPem: server.certPem, keyPem: server.keyPem });
  assertRefused(r, 401, 'CERT_UNTRUSTED');
  const failures = await s.carnet.ctx.db.selectFrom('audit_log').select(['reason']).where('action', '=', 'pro.login').where('outcome', '=', 'failure').execute();
  assert.ok(['CERT_UNTRUSTED', 'CERT_EXPIRED', 'CERT_MISSING'].every((code) => failures.some((f) => f.reason === code)), JSON.stringify(failures));
});
