/**
 * SMART App Launch at the service level, on both engines: authorization request checks, the
 * holder's decision, codes (one-time, short-lived, bound to redirect URI and PKCE), rotating refresh
 * tokens, grant revocation (immediate for `grantIsActive`), confidential apps with private_key_jwt,
 * the holder's view and the binding of an app token to its record in the access decision.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { createInMemorySigningKey, type SigningKey } from '../../auth/signing-keys.ts';
import { JWT_BEARER_ASSERTION_TYPE, OAuthError } from '../../auth/token-endpoint.ts';
import { toDomainActor, verifyAccessToken } from '../../auth/access-token.ts';
import { decide } from '../../domain/access/index.ts';
import { DEFAULT_HOLDER_SETTINGS } from '../../domain/access/types.ts';
import { fileDocuments } from '../fileDocuments.ts';
import { listDocuments, readDocument } from '../readDocuments.ts';
import { holderOf, labAuthor, newRecord, rejectsWith, syntheticDocument } from '../testkit.ts';
import { addApp, type CatalogueApp } from './catalogue.ts';
import { decideAuthorization, narrowAppScope, pendingAuthorization, startAuthorization, CODE_TTL_SECONDS, type AuthorizeDeps } from './authorize.ts';
import { connectedApps, disconnectApp, grantIsActive } from './grants.ts';
import type { HolderSession } from './holder-session.ts';
import { appTokenGrant, introspectAppToken, pkceMatches, revokeAppToken, type AppTokenDeps } from './tokens.ts';

const BASE = 'https://carnet.example';
const FHIR = `${BASE}/fhir`;
const REDIRECT = 'https://app.example/cb';
const authDeps: AuthorizeDeps = { issuer: BASE, fhirBase: FHIR };

let c: TestCarnet;
let key: SigningKey;
let tokenDeps: AppTokenDeps;
let app: CatalogueApp;
let recordId: string;
let labDoc: string;
let reportDoc: string;

before(async () => {
  c = await openTestCarnet();
  key = await createInMemorySigningKey();
  tokenDeps = { signer: key, issuer: BASE, fhirBase: FHIR, assertionAudiences: [`${BASE}/oauth2/token`] };
  app = await addApp(c.ctx, {
    name: 'Suivi Bio', redirectUris: [REDIRECT],
    purposes: [
      { id: 'bio', label: 'Suivre vos analyses', types: [], categories: ['BIOLOGIE'] },
      { id: 'cr', label: 'Comptes rendus', types: ['11488-4'], categories: [] },
    ],
  });
  recordId = (await newRecord(c)).recordId;
  const filed = await fileDocuments(c.ctx, labAuthor(), {
    patient: { recordId },
    documents: [
      syntheticDocument(c, { typeCode: '11502-2', author: { rpps: labAuthor().id } }),
      syntheticDocument(c, { typeCode: '11488-4', author: { rpps: labAuthor().id } }),
    ],
  });
  labDoc = filed.documents[0].id;
  reportDoc = filed.documents[1].id;
});
after(() => c.cleanup());

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/**
 * The holder as the authorize pages know them once logged in. The login itself (INS + password +
 * code through the accounts service, the credential, its session) is holder-session.test.ts's.
 */
async function holderSession(id = recordId): Promise<HolderSession> {
  const now = c.ctx.clock();
  return { actor: { kind: 'holder', id, name: 'Camille TESTNOM' }, recordId: id, sessionId: 'session-of-the-test', authTime: now, expiresAt: new Date(now.getTime() + 900_000) };
}

/** Authorization request + the holder's approval: the code and its verifier. */
async function consent(opts: { purposes?: string[]; scope?: string; forApp?: CatalogueApp; record?: string } = {}) {
  const a = opts.forApp ?? app;
  const p = pkce();
  const out = await startAuthorization(c.ctx, {
    response_type: 'code', client_id: a.clientId, redirect_uri: REDIRECT, scope: opts.scope ?? 'launch/patient openid fhirUser offline_access patient/*.rs',
    state: 's1', aud: FHIR, code_challenge: p.challenge, code_challenge_method: 'S256', nonce: 'n1',
  }, authDeps);
  assert.equal(out.kind, 'pending', JSON.stringify(out));
  const pending = await pendingAuthorization(c.ctx, (out as { requestId: string }).requestId);
  assert.ok(pending);
  const decided = await decideAuthorization(c.ctx, await holderSession(opts.record), {
    requestId: pending.id, csrf: pending.csrf, approve: true, purposeIds: opts.purposes ?? ['bio'],
  }, authDeps);
  assert.equal(decided.kind, 'redirect', JSON.stringify(decided));
  const loc = new URL((decided as { location: string }).location);
  assert.equal(loc.searchParams.get('state'), 's1');
  assert.equal(loc.searchParams.get('iss'), BASE);
  return { code: loc.searchParams.get('code')!, verifier: p.verifier };
}

const exchange = (code: string, verifier: string, clientId = app.clientId, extra: Record<string, string> = {}) =>
  appTokenGrant(c.ctx, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId, ...extra }, tokenDeps);

async function oauthFails(p: Promise<unknown>, error: string, reason?: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OAuthError, String(e));
    assert.equal(e.error, error);
    if (reason) assert.equal(e.reason, reason);
    return true;
  });
}

test('authorize: checks in the order RFC 6749 wants, errors go back to the app only once it is known', async () => {
  const p = pkce();
  const good = { response_type: 'code', client_id: app.clientId, redirect_uri: REDIRECT, scope: 'patient/DocumentReference.rs', state: 'st', aud: FHIR, code_challenge: p.challenge, code_challenge_method: 'S256' };
  const page = async (params: Record<string, unknown>, code: string) => {
    const out = await startAuthorization(c.ctx, params, authDeps);
    assert.equal(out.kind, 'error_page');
    assert.equal((out as { code: string }).code, code);
  };
  const redirect = async (params: Record<string, unknown>, error: string) => {
    const out = await startAuthorization(c.ctx, params, authDeps);
    assert.equal(out.kind, 'redirect', JSON.stringify(out));
    const u = new URL((out as { location: string }).location);
    assert.equal(`${u.origin}${u.pathname}`, REDIRECT);
    assert.equal(u.searchParams.get('error'), error);
    assert.equal(u.searchParams.get('state'), 'st');
  };
  await page({ ...good, client_id: 'nobody' }, 'APP_UNKNOWN');
  await page({ ...good, client_id: undefined }, 'APP_UNKNOWN');
  await page({ ...good, redirect_uri: 'https://app.example/cb/' }, 'REDIRECT_URI_MISMATCH');
  await page({ ...good, redirect_uri: undefined }, 'REDIRECT_URI_MISMATCH');
  await redirect({ ...good, response_type: 'token' }, 'unsupported_response_type');
  await redirect({ ...good, code_challenge_method: 'plain' }, 'invalid_request');
  await redirect({ ...good, code_challenge_method: undefined }, 'invalid_request');
  await redirect({ ...good, code_challenge: 'short' }, 'invalid_request');
  await redirect({ ...good, aud: undefined }, 'invalid_request');
  await redirect({ ...good, aud: 'https://other.example/fhir' }, 'invalid_request');
  await redirect({ ...good, launch: 'xyz' }, 'invalid_request');
  await redirect({ ...good, scope: ['a', 'b'] }, 'invalid_request');
  await redirect({ ...good, scope: 'user/*.rs' }, 'invalid_scope');
  await redirect({ ...good, scope: 'patient/Observation.dus' }, 'invalid_scope');
  assert.equal((await startAuthorization(c.ctx, { ...good, aud: `${FHIR}/` }, authDeps)).kind, 'pending');
});

test('scope narrowing: to the registration, then to documents read-only; v1 echoed; nothing left refused', () => {
  const n = (s: string) => narrowAppScope(s, app);
  const wide = n('patient/*.cruds openid profile');
  assert.ok(wide.ok);
  assert.equal(wide.scope, 'patient/DocumentReference.rs patient/Binary.r openid');
  assert.deepEqual(wide.other, ['openid'], 'profile is not something an app gets');
  assert.equal((n('patient/DocumentReference.read') as any).scope, 'patient/DocumentReference.read');
  assert.equal((n('patient/DocumentReference.s launch/patient') as any).scope, 'patient/DocumentReference.s launch/patient');
  assert.equal(n('patient/Observation.rs').ok, false);
  assert.equal(n('user/DocumentReference.rs').ok, false);
});

test('code: one use, bound to client, redirect URI and verifier, one minute; reuse revokes the grant', async () => {
  assert.ok(pkceMatches(pkce().verifier, pkce().challenge) === false);
  const first = await consent();
  const tokens = await exchange(first.code, first.verifier);
  assert.equal(tokens.patient, recordId);
  assert.equal(tokens.need_patient_banner, false);
  assert.ok(tokens.refresh_token && tokens.id_token);
  const idt = decodeJwt(tokens.id_token!);
  assert.equal(idt.nonce, 'n1');
  assert.equal(idt.fhirUser, `${FHIR}/Patient/${recordId}`);
  const at = await verifyAccessToken(tokens.access_token, { verifier: key.verifier, issuer: BASE, audience: FHIR, now: c.ctx.clock });
  assert.equal(at.actor.kind, 'app');
  assert.ok(at.actor.kind === 'app' && (await grantIsActive(c.ctx, at.actor.grantId)));
  // second presentation: refused, grant revoked, the refresh token dead too
  await oauthFails(exchange(first.code, first.verifier), 'invalid_grant', 'CODE_REUSED');
  assert.ok(at.actor.kind === 'app' && !(await grantIsActive(c.ctx, at.actor.grantId)));
  await oauthFails(appTokenGrant(c.ctx, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: app.clientId }, tokenDeps), 'invalid_grant');

  const expired = await consent();
  c.advance((CODE_TTL_SECONDS + 1) * 1000);
  await oauthFails(exchange(expired.code, expired.verifier), 'invalid_grant', 'CODE_EXPIRED');
  c.advance(-(CODE_TTL_SECONDS + 1) * 1000);

  const wrongVerifier = await consent();
  await oauthFails(exchange(wrongVerifier.code, pkce().verifier), 'invalid_grant', 'PKCE_MISMATCH');
  // the code was spent by the failed attempt: the right verifier now finds it used
  await oauthFails(exchange(wrongVerifier.code, wrongVerifier.verifier), 'invalid_grant', 'CODE_REUSED');

  const wrongRedirect = await consent();
  await oauthFails(exchange(wrongRedirect.code, wrongRedirect.verifier, app.clientId, { redirect_uri: 'https://app.example/other' }), 'invalid_grant', 'REDIRECT_URI_MISMATCH');
  await oauthFails(exchange('made-up', 'x'.repeat(43)), 'invalid_grant', 'CODE_UNKNOWN');
  await oauthFails(exchange(wrongRedirect.code, wrongRedirect.verifier, 'nobody'), 'invalid_client', 'UNKNOWN_CLIENT');
  await oauthFails(appTokenGrant(c.ctx, { grant_type: 'authorization_code', client_id: app.clientId, code: 'x', redirect_uri: REDIRECT }, tokenDeps), 'invalid_request');
  await oauthFails(appTokenGrant(c.ctx, { grant_type: 'authorization_code', client_id: app.clientId, client_secret: 's' }, tokenDeps), 'invalid_client');
});

test('refresh: rotation, narrower scope only, reuse revokes the grant, expiry', async () => {
  const { code, verifier } = await consent();
  const t0 = await exchange(code, verifier);
  const refresh = (rt: string, extra: Record<string, string> = {}) =>
    appTokenGrant(c.ctx, { grant_type: 'refresh_token', refresh_token: rt, client_id: app.clientId, ...extra }, tokenDeps);
  await oauthFails(refresh(t0.refresh_token!, { scope: 'patient/*.rs' }), 'invalid_scope');
  const t1 = await refresh(t0.refresh_token!, { scope: 'patient/DocumentReference.r' });
  assert.equal(t1.scope, 'patient/DocumentReference.r');
  assert.equal(t1.id_token, undefined);
  // the rotated token keeps the original scope
  const t2 = await refresh(t1.refresh_token!);
  assert.match(t2.scope, /patient\/Binary\.r/);
  await oauthFails(refresh(t1.refresh_token!), 'invalid_grant', 'REFRESH_REUSED');
  await oauthFails(refresh(t2.refresh_token!), 'invalid_grant');
  assert.deepEqual(await introspectAppToken(c.ctx, { client_id: app.clientId, token: t2.access_token }, tokenDeps), { active: false });

  const other = await consent();
  const u0 = await exchange(other.code, other.verifier);
  c.advance(91 * 86_400_000);
  await oauthFails(refresh(u0.refresh_token!), 'invalid_grant', 'REFRESH_EXPIRED');
  c.advance(-91 * 86_400_000);
  // no offline_access asked: no refresh token at all
  const online = await consent({ scope: 'patient/DocumentReference.rs' });
  assert.equal((await exchange(online.code, online.verifier)).refresh_token, undefined);
});

test('an app token reads only the consented documents of its own record, audited under the app name', async () => {
  const { code, verifier } = await consent({ purposes: ['cr'] });
  const t = await exchange(code, verifier);
  const at = await verifyAccessToken(t.access_token, { verifier: key.verifier, issuer: BASE, audience: FHIR, now: c.ctx.clock });
  const { actor } = toDomainActor(at.actor);
  assert.equal(actor.kind, 'app');
  const listed = await listDocuments(c.ctx, actor, recordId);
  assert.deepEqual(listed.map((l) => l.document.id), [reportDoc]);
  await rejectsWith(readDocument(c.ctx, actor, labDoc), 'DOCUMENT_UNKNOWN', 'not_found');
  assert.equal((await readDocument(c.ctx, actor, reportDoc)).document.id, reportDoc);
  // bound to its record: the same consent says nothing about another one
  const other = await newRecord(c);
  const view = { id: other.recordId, state: 'active' as const };
  const doc = { id: 'd', category: { code: '10' }, type: { code: '11488-4' }, status: 'current' as const, flags: [], authorIds: [], authorOrganisations: [], submittedAt: '2026-01-01T00:00:00Z' };
  assert.equal(decide(actor, view, {}, doc, DEFAULT_HOLDER_SETTINGS, 'normal', c.ctx.clock()).reason, 'DENY_NOT_LINKED');
  assert.equal(decide(actor, { ...view, id: recordId }, {}, doc, DEFAULT_HOLDER_SETTINGS, 'normal', c.ctx.clock()).reason, 'ALLOW_APP');
  const audit = await c.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', recordId).where('actor_kind', '=', 'app').execute();
  assert.ok(audit.some((r) => r.action === 'document.read' && r.document_id === reportDoc && r.actor_name === 'Suivi Bio'));
  assert.ok(audit.some((r) => r.action === 'app.token' && r.actor_name === 'Suivi Bio'));
});

test('the holder sees connected apps and takes one back; nobody else can', async () => {
  const { code, verifier } = await consent({ purposes: ['bio', 'cr'] });
  const t = await exchange(code, verifier);
  const at = await verifyAccessToken(t.access_token, { verifier: key.verifier, issuer: BASE, audience: FHIR, now: c.ctx.clock });
  const grantId = at.actor.kind === 'app' ? at.actor.grantId : '';
  const listed = await connectedApps(c.ctx, holderOf(recordId), recordId);
  const mine = listed.find((a) => a.clientId === app.clientId)!;
  const conn = mine.connections.find((x) => x.grantId === grantId)!;
  assert.deepEqual(conn.purposes.map((p) => p.id), ['bio', 'cr']);
  assert.deepEqual(conn.reads.map((r) => r.code).sort(), ['11488-4', 'BIOLOGIE']);
  // another holder, a professional, a caregiver cannot see or revoke
  const stranger = await newRecord(c);
  await rejectsWith(connectedApps(c.ctx, holderOf(stranger.recordId), recordId), 'DENY_NOT_LINKED', 'forbidden');
  await rejectsWith(disconnectApp(c.ctx, labAuthor(), recordId, app.clientId), 'DENY_NOT_HOLDER', 'forbidden');
  await rejectsWith(disconnectApp(c.ctx, { kind: 'caregiver', id: 'x', name: 'Aidant' }, recordId, app.clientId), 'DENY_CAREGIVER_LIMITS', 'forbidden');
  assert.ok(await grantIsActive(c.ctx, grantId));
  // the holder revokes: at once, every connection of that app
  const n = await disconnectApp(c.ctx, holderOf(recordId), recordId, app.clientId);
  assert.ok(n >= 1);
  assert.equal(await grantIsActive(c.ctx, grantId), false);
  assert.equal((await connectedApps(c.ctx, holderOf(recordId), recordId)).find((a) => a.clientId === app.clientId), undefined);
  await rejectsWith(disconnectApp(c.ctx, holderOf(recordId), recordId, app.clientId), 'APP_NOT_CONNECTED', 'not_found');
  const audit = await c.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', recordId).where('action', 'in', ['app.connect', 'app.revoke']).execute();
  assert.ok(audit.some((r) => r.action === 'app.connect' && r.actor_kind === 'holder'));
  assert.ok(audit.some((r) => r.action === 'app.revoke' && r.reason === 'holder'));
});

test('a confidential app authenticates with private_key_jwt (RS384/ES384), assertions serve once', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
  const conf = await addApp(c.ctx, { name: 'Appli confidentielle', redirectUris: [REDIRECT], jwks: { keys: [jwk] }, purposes: [{ id: 'bio', label: 'Analyses', types: [], categories: ['BIOLOGIE'] }] });
  assert.equal(conf.clientType, 'confidential');
  const assertion = (over: Record<string, unknown> = {}, aud = `${BASE}/oauth2/token`) =>
    new SignJWT({ jti: randomBytes(8).toString('hex'), ...over })
      .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
      .setIssuer(conf.clientId).setSubject(conf.clientId).setAudience(aud)
      .setIssuedAt(Math.floor(c.ctx.clock().getTime() / 1000)).setExpirationTime(Math.floor(c.ctx.clock().getTime() / 1000) + 120)
      .sign(privateKey);
  const { code, verifier } = await consent({ forApp: conf });
  // a confidential app cannot pass as public
  await oauthFails(exchange(code, verifier, conf.clientId), 'invalid_client', 'CONFIDENTIAL_WITHOUT_ASSERTION');
  const again = await consent({ forApp: conf });
  const a = await assertion();
  const form = { grant_type: 'authorization_code', code: again.code, code_verifier: again.verifier, redirect_uri: REDIRECT, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: a };
  const t = await appTokenGrant(c.ctx, form, tokenDeps);
  assert.ok(t.access_token);
  // the same assertion again: replay
  await oauthFails(appTokenGrant(c.ctx, { grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: a }, tokenDeps), 'invalid_client', 'ASSERTION_REPLAYED');
  await oauthFails(appTokenGrant(c.ctx, { grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion({}, 'https://elsewhere/token') }, tokenDeps), 'invalid_client', 'ASSERTION_AUD');
  const r = await appTokenGrant(c.ctx, { grant_type: 'refresh_token', refresh_token: t.refresh_token!, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion() }, tokenDeps);
  assert.ok(r.refresh_token);
  // a public app's token cannot be revoked by the confidential one
  const pub = await consent();
  const pt = await exchange(pub.code, pub.verifier);
  await oauthFails(revokeAppToken(c.ctx, { token: pt.refresh_token!, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion() }, tokenDeps), 'unauthorized_client');
  assert.equal((await introspectAppToken(c.ctx, { client_id: app.clientId, token: pt.access_token }, tokenDeps)).active, true);
  // its own access token, revoked through RFC 7009: the grant goes
  await revokeAppToken(c.ctx, { token: r.access_token, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion() }, tokenDeps);
  assert.deepEqual(await introspectAppToken(c.ctx, { token: r.refresh_token!, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: await assertion() }, tokenDeps), { active: false });
});

test('no app is connected to a record that is not open', async () => {
  const pendingRecord = (await newRecord(c, { activateNow: false })).recordId;
  const p = pkce();
  const out = await startAuthorization(c.ctx, {
    response_type: 'code', client_id: app.clientId, redirect_uri: REDIRECT, scope: 'patient/DocumentReference.rs',
    aud: FHIR, code_challenge: p.challenge, code_challenge_method: 'S256',
  }, authDeps);
  const pending = await pendingAuthorization(c.ctx, (out as { requestId: string }).requestId);
  const decided = await decideAuthorization(c.ctx, await holderSession(pendingRecord), { requestId: pending!.id, csrf: pending!.csrf, approve: true, purposeIds: ['bio'] }, authDeps);
  assert.equal(decided.kind, 'error_page');
  assert.equal((decided as { code: string }).code, 'RECORD_NOT_ACTIVE');
  const grants = await c.ctx.db.selectFrom('app_grants').select('id').where('record_id', '=', pendingRecord).execute();
  assert.equal(grants.length, 0);
});
