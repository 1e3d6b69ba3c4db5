/**
 * SMART App Launch v2, the token side: the `authorization_code` grant (PKCE S256, exact redirect
 * URI, one-time code — a replayed code revokes its grant), the `refresh_token` grant (rotation: each
 * refresh token serves once; presenting a spent one revokes the grant), RFC 7009 revocation and
 * RFC 7662 introspection. Access tokens are Carnet's JWTs (`mintToken`) with an `app` actor bound
 * to the record and the grant; the `id_token` is signed with Carnet's key. Errors are RFC 6749
 * `OAuthError`s; `reason` is for the audit log only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { mintToken, verifyAccessToken, DEFAULT_TOKEN_TTL_SECONDS, type AppActor, type TokenResponse } from '../../auth/access-token.ts';
import { ASSERTION_ALGS, inspectClientAssertion, JWT_BEARER_ASSERTION_TYPE, MAX_ASSERTION_LIFETIME_SECONDS, OAuthError, type OAuthErrorCode } from '../../auth/token-endpoint.ts';
import { covers, parseScopes, scopeString } from '../../auth/scopes.ts';
import type { SigningKey } from '../../auth/signing-keys.ts';
import { appendAudit } from '../../audit/audit.ts';
import { jtiStore } from '../clients.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { getApp, type CatalogueApp } from './catalogue.ts';
import { appAuditActor, grantIsActive, revokeGrant, toGrant, type AppGrant } from './grants.ts';
import { newSecret, sha256Hex } from './authorize.ts';

/** `offline_access`: the refresh chain lives on while used at least every 90 days. */
export const OFFLINE_REFRESH_TTL_SECONDS = 90 * 86_400;
/** `online_access`: a working day. */
export const ONLINE_REFRESH_TTL_SECONDS = 12 * 3600;
export const ID_TOKEN_TTL_SECONDS = 300;

export interface AppTokenDeps {
  signer: SigningKey;
  /** Carnet's issuer (`iss` of every token). */
  issuer: string;
  /** `aud` of access tokens: the FHIR base. */
  fhirBase: string;
  /** `aud` values a confidential app's client assertion may carry (token endpoint, issuer, the endpoint called). */
  assertionAudiences: string[];
  accessTokenTtlSeconds?: number;
  /** How to resolve a `jwksUrl` (tests may stub it); default jose `createRemoteJWKSet`, cached per URL. */
  remoteJwks?: (url: URL) => JWTVerifyGetKey;
}

export interface SmartTokenResponse extends TokenResponse {
  refresh_token?: string;
  id_token?: string;
  /** SMART launch context: the Patient id (Carnet's record id). */
  patient: string;
  need_patient_banner: boolean;
}

const fail = (error: OAuthErrorCode, description: string, reason: string, cause?: unknown) =>
  new OAuthError(error, description, reason, cause !== undefined ? { cause } : {});
const AUTH_FAILED = 'client authentication failed';

// --- client authentication ------------------------------------------------------------------------

const remoteSets = new Map<string, JWTVerifyGetKey>();
const localSets = new WeakMap<object, JWTVerifyGetKey>();

function appKeys(app: CatalogueApp, deps: AppTokenDeps): JWTVerifyGetKey {
  if (app.jwks) {
    let k = localSets.get(app.jwks);
    if (!k) {
      k = createLocalJWKSet(app.jwks as { keys: JWK[] });
      localSets.set(app.jwks, k);
    }
    return k;
  }
  const url = app.jwksUrl!;
  if (deps.remoteJwks) return deps.remoteJwks(new URL(url));
  let r = remoteSets.get(url);
  if (!r) {
    r = createRemoteJWKSet(new URL(url));
    remoteSets.set(url, r);
  }
  return r;
}

/**
 * Public apps name themselves (`client_id`) and prove possession through PKCE; confidential apps
 * sign a client assertion (private_key_jwt, RS384/ES384, RFC 7523) with a registered key. Client
 * secrets are not used.
 */
export async function authenticateApp(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<CatalogueApp> {
  if (form.client_secret !== undefined) {
    throw fail('invalid_client', 'client secrets are not used: public apps send client_id, confidential apps use private_key_jwt', 'CLIENT_SECRET');
  }
  const assertion = form.client_assertion;
  if (assertion !== undefined || form.client_assertion_type !== undefined) {
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE || !assertion) {
      throw fail('invalid_client', `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE} with a client_assertion`, 'ASSERTION_TYPE_UNSUPPORTED');
    }
    const unverified = inspectClientAssertion(assertion);
    const clientId = unverified.iss;
    if (typeof clientId !== 'string' || !clientId || unverified.sub !== clientId) {
      throw fail('invalid_client', 'client_assertion iss and sub must both be the client_id', 'ASSERTION_ISS');
    }
    if (form.client_id !== undefined && form.client_id !== clientId) throw fail('invalid_client', 'client_id does not match the client_assertion', 'CLIENT_ID_MISMATCH');
    const app = await getApp(ctx, clientId);
    if (!app || app.disabled || app.clientType !== 'confidential') throw fail('invalid_client', AUTH_FAILED, app ? 'CLIENT_NOT_CONFIDENTIAL' : 'UNKNOWN_CLIENT');
    const now = ctx.clock();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, appKeys(app, deps), {
        algorithms: [...ASSERTION_ALGS], audience: deps.assertionAudiences, issuer: clientId, subject: clientId,
        currentDate: now, requiredClaims: ['exp', 'jti'],
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw fail('invalid_client', 'client_assertion has expired', 'ASSERTION_EXPIRED', e);
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') throw fail('invalid_client', 'client_assertion aud must be the token endpoint', 'ASSERTION_AUD', e);
      throw fail('invalid_client', AUTH_FAILED, 'ASSERTION_SIGNATURE', e);
    }
    if (typeof payload.exp !== 'number' || payload.exp > Math.floor(now.getTime() / 1000) + MAX_ASSERTION_LIFETIME_SECONDS) {
      throw fail('invalid_client', 'client_assertion exp must be at most 5 minutes in the future', 'ASSERTION_EXP_TOO_FAR');
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || !jti || jti.length > 255) throw fail('invalid_client', 'client_assertion jti must be a non-empty string', 'ASSERTION_JTI');
    if (!(await jtiStore(ctx).remember(clientId, jti, new Date(payload.exp * 1000)))) {
      throw fail('invalid_client', 'client_assertion jti was already used', 'ASSERTION_REPLAYED');
    }
    return app;
  }
  const clientId = form.client_id;
  if (!clientId) throw fail('invalid_client', 'client authentication required: client_id (public apps) or private_key_jwt', 'NO_CLIENT_AUTH');
  const app = await getApp(ctx, clientId);
  if (!app || app.disabled) throw fail('invalid_client', AUTH_FAILED, 'UNKNOWN_CLIENT');
  if (app.clientType !== 'public') throw fail('invalid_client', 'this app must authenticate with private_key_jwt', 'CONFIDENTIAL_WITHOUT_ASSERTION');
  return app;
}

// --- PKCE -----------------------------------------------------------------------------------------

/** RFC 7636 §4.6 with S256: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge. */
export function pkceMatches(verifier: string | undefined, challenge: string): boolean {
  if (typeof verifier !== 'string' || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

// --- issuing --------------------------------------------------------------------------------------

async function loadGrant(ctx: Ctx, grantId: string): Promise<AppGrant | undefined> {
  const row = await ctx.db.selectFrom('app_grants').selectAll().where('id', '=', grantId).executeTakeFirst();
  return row ? toGrant(row) : undefined;
}

const has = (scope: string, token: string) => scope.split(' ').includes(token);

async function issue(
  ctx: Ctx,
  app: CatalogueApp,
  grant: AppGrant,
  opts: { accessScope: string; refreshScope: string; nonce?: string | null; withIdToken: boolean; grantType: string },
  deps: AppTokenDeps,
): Promise<SmartTokenResponse> {
  const actor: AppActor = {
    kind: 'app', id: app.clientId, name: app.name, recordId: grant.recordId, grantId: grant.id,
    allowedTypes: grant.allowedTypes, allowedCategories: grant.allowedCategories,
  };
  const at = await mintToken(actor, opts.accessScope, deps.signer, {
    issuer: deps.issuer, audience: deps.fhirBase, clientId: app.clientId,
    ttlSeconds: deps.accessTokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, now: ctx.clock,
  });
  const response: SmartTokenResponse = { ...at, patient: grant.recordId, need_patient_banner: false };
  const refreshTtl = has(opts.refreshScope, 'offline_access') ? OFFLINE_REFRESH_TTL_SECONDS : has(opts.refreshScope, 'online_access') ? ONLINE_REFRESH_TTL_SECONDS : 0;
  await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    if (refreshTtl) {
      const rt = newSecret();
      await tx.db.insertInto('app_refresh_tokens').values({
        token_hash: sha256Hex(rt), grant_id: grant.id, record_id: grant.recordId, client_id: app.clientId, scope: opts.refreshScope,
        created_at: now.toISOString(), expires_at: new Date(now.getTime() + refreshTtl * 1000).toISOString(), used_at: null,
      }).execute();
      response.refresh_token = rt;
    }
    await appendAudit(tx.db, tx.engine, {
      recordId: grant.recordId, actor: appAuditActor(app), action: 'app.token', outcome: 'success',
      detail: { grantId: grant.id, grantType: opts.grantType, scope: opts.accessScope }, at: now,
    });
  });
  if (opts.withIdToken && has(opts.accessScope, 'openid')) {
    const iat = Math.floor(ctx.clock().getTime() / 1000);
    response.id_token = await deps.signer.sign(
      {
        iss: deps.issuer, sub: grant.recordId, aud: app.clientId, iat, exp: iat + ID_TOKEN_TTL_SECONDS,
        ...(opts.nonce ? { nonce: opts.nonce } : {}),
        ...(has(opts.accessScope, 'fhirUser') ? { fhirUser: `${deps.fhirBase}/Patient/${grant.recordId}` } : {}),
      },
      'JWT',
    );
  }
  return response;
}

// --- the grants -----------------------------------------------------------------------------------

/** `POST /oauth2/token` for apps: `authorization_code` and `refresh_token`. */
export async function appTokenGrant(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<SmartTokenResponse> {
  if (form.grant_type === 'authorization_code') return authorizationCodeGrant(ctx, form, deps);
  if (form.grant_type === 'refresh_token') return refreshTokenGrant(ctx, form, deps);
  throw fail('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token', 'GRANT_TYPE_UNSUPPORTED');
}

async function authorizationCodeGrant(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<SmartTokenResponse> {
  const app = await authenticateApp(ctx, form, deps);
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = form;
  if (!code) throw fail('invalid_request', 'code is required', 'CODE_MISSING');
  if (!redirectUri) throw fail('invalid_request', 'redirect_uri is required', 'REDIRECT_URI_MISSING');
  if (!verifier) throw fail('invalid_request', 'code_verifier is required (PKCE)', 'VERIFIER_MISSING');

  // The code is spent on first presentation, whatever follows: one attempt per code. Committed
  // before anything is checked, so a replay is caught even if this request then fails.
  const hash = sha256Hex(code);
  const spent = await inTransaction(ctx, async (tx) => {
    const row = await tx.db.selectFrom('app_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
    if (!row) return { status: 'unknown' as const };
    const upd = await tx.db.updateTable('app_codes').set({ used_at: tx.clock().toISOString() }).where('code_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
    if (Number(upd.numUpdatedRows ?? 0) !== 1) return { status: 'reused' as const, row };
    return { status: 'fresh' as const, row };
  });
  if (spent.status === 'unknown') throw fail('invalid_grant', 'authorization code unknown, expired or already used', 'CODE_UNKNOWN');
  const row = spent.row;
  if (spent.status === 'reused') {
    // RFC 6749 §4.1.2: a code used twice → revoke every token issued from it.
    await revokeGrant(ctx, row.grant_id, 'CODE_REUSED', appAuditActor(app));
    throw fail('invalid_grant', 'authorization code unknown, expired or already used', 'CODE_REUSED');
  }
  if (row.client_id !== app.clientId) throw fail('invalid_grant', 'authorization code was issued to another client', 'CODE_CLIENT_MISMATCH');
  if (row.expires_at <= ctx.clock().toISOString()) throw fail('invalid_grant', 'authorization code unknown, expired or already used', 'CODE_EXPIRED');
  if (row.redirect_uri !== redirectUri) throw fail('invalid_grant', 'redirect_uri does not match the authorization request', 'REDIRECT_URI_MISMATCH');
  if (!pkceMatches(verifier, row.code_challenge)) throw fail('invalid_grant', 'code_verifier does not match the code_challenge', 'PKCE_MISMATCH');
  const grant = await loadGrant(ctx, row.grant_id);
  if (!grant || grant.revokedAt || !(await grantIsActive(ctx, grant.id))) throw fail('invalid_grant', 'the authorization was revoked', 'GRANT_REVOKED');
  return issue(ctx, app, grant, { accessScope: grant.scope, refreshScope: grant.scope, nonce: row.nonce, withIdToken: true, grantType: 'authorization_code' }, deps);
}

async function refreshTokenGrant(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<SmartTokenResponse> {
  const app = await authenticateApp(ctx, form, deps);
  const presented = form.refresh_token;
  if (!presented) throw fail('invalid_request', 'refresh_token is required', 'REFRESH_MISSING');
  const hash = sha256Hex(presented);
  const outcome = await inTransaction(ctx, async (tx) => {
    const now = tx.clock().toISOString();
    const row = await tx.db.selectFrom('app_refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!row) return { status: 'unknown' as const };
    if (row.client_id !== app.clientId) return { status: 'other_client' as const };
    if (row.used_at !== null) return { status: 'reused' as const, row };
    if (row.expires_at <= now) return { status: 'expired' as const };
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one; checked before spending
    let accessScope = row.scope;
    if (form.scope !== undefined) {
      const asked = parseScopes(form.scope);
      const granted = parseScopes(row.scope);
      if (asked.invalid.length || !asked.scopes.every((s) => covers(granted.scopes, s)) || !asked.other.every((o) => granted.other.includes(o))) {
        return { status: 'scope' as const };
      }
      accessScope = scopeString(asked.scopes, asked.other);
    }
    const upd = await tx.db.updateTable('app_refresh_tokens').set({ used_at: now }).where('token_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
    if (Number(upd.numUpdatedRows ?? 0) !== 1) return { status: 'reused' as const, row };
    return { status: 'fresh' as const, row, accessScope };
  });
  switch (outcome.status) {
    case 'unknown':
    case 'other_client':
    case 'expired':
      throw fail('invalid_grant', 'refresh token unknown, expired or revoked', `REFRESH_${outcome.status.toUpperCase()}`);
    case 'scope':
      throw fail('invalid_scope', 'the scope asked for goes beyond what was granted', 'REFRESH_SCOPE_WIDER');
    case 'reused':
      // OAuth 2.0 Security BCP §4.14: a rotated refresh token presented again means one of the two
      // parties holding it is not the app → the whole grant goes.
      await revokeGrant(ctx, outcome.row.grant_id, 'REFRESH_REUSED', appAuditActor(app));
      throw fail('invalid_grant', 'refresh token unknown, expired or revoked', 'REFRESH_REUSED');
  }
  const grant = await loadGrant(ctx, outcome.row.grant_id);
  if (!grant || grant.revokedAt || !(await grantIsActive(ctx, grant.id))) throw fail('invalid_grant', 'refresh token unknown, expired or revoked', 'GRANT_REVOKED');
  return issue(ctx, app, grant, { accessScope: outcome.accessScope, refreshScope: outcome.row.scope, withIdToken: false, grantType: 'refresh_token' }, deps);
}

// --- RFC 7009 and RFC 7662 ------------------------------------------------------------------------

type FoundToken =
  | { kind: 'refresh'; clientId: string; grantId: string; recordId: string; scope: string; iat: Date; exp: Date; active: boolean }
  | { kind: 'access'; clientId: string; grantId: string; recordId: string; scope: string; iat: Date; exp: Date; jti: string; active: boolean };

async function findToken(ctx: Ctx, token: string, deps: AppTokenDeps): Promise<FoundToken | undefined> {
  if (token.split('.').length === 3) {
    try {
      // expired tokens are found too (active: false), so revoking one is a no-op rather than an error
      const t = await verifyAccessToken(token, { verifier: deps.signer.verifier, issuer: deps.issuer, audience: deps.fhirBase, now: ctx.clock, clockToleranceSeconds: 10 * 365 * 86_400 });
      if (t.actor.kind !== 'app') return undefined;
      const alive = t.expiresAt > ctx.clock() && (await grantIsActive(ctx, t.actor.grantId));
      return { kind: 'access', clientId: t.clientId, grantId: t.actor.grantId, recordId: t.actor.recordId, scope: scopeString(t.scopes, otherScopes(token)), iat: t.issuedAt, exp: t.expiresAt, jti: t.tokenId, active: alive };
    } catch {
      return undefined;
    }
  }
  const row = await ctx.db.selectFrom('app_refresh_tokens').selectAll().where('token_hash', '=', sha256Hex(token)).executeTakeFirst();
  if (!row) return undefined;
  const active = row.used_at === null && row.expires_at > ctx.clock().toISOString() && (await grantIsActive(ctx, row.grant_id));
  return { kind: 'refresh', clientId: row.client_id, grantId: row.grant_id, recordId: row.record_id, scope: row.scope, iat: new Date(row.created_at), exp: new Date(row.expires_at), active };
}

/** The non-clinical scope tokens of a JWT we just verified (openid, launch/patient …). */
function otherScopes(jwt: string): string[] {
  const scope = decodeJwt(jwt).scope;
  return typeof scope === 'string' ? parseScopes(scope).other : [];
}

/**
 * RFC 7009. Revoking a refresh token or an access token revokes the whole grant (RFC 7009 §2.1
 * allows it for access tokens): the app is disconnected. Unknown or dead tokens: 200 all the same.
 */
export async function revokeAppToken(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<void> {
  const app = await authenticateApp(ctx, form, deps);
  if (!form.token) throw fail('invalid_request', 'token is required', 'TOKEN_MISSING');
  const found = await findToken(ctx, form.token, deps);
  if (!found) return;
  if (found.clientId !== app.clientId) throw fail('unauthorized_client', 'this token was not issued to this client', 'REVOKE_OTHER_CLIENT');
  await revokeGrant(ctx, found.grantId, 'app', appAuditActor(app));
}

export interface Introspection {
  active: boolean;
  [claim: string]: unknown;
}

/**
 * RFC 7662, for the app itself: a token of another client, unknown, expired, rotated or of a
 * revoked grant is `{ active: false }` and nothing more.
 */
export async function introspectAppToken(ctx: Ctx, form: Record<string, string | undefined>, deps: AppTokenDeps): Promise<Introspection> {
  const app = await authenticateApp(ctx, form, deps);
  if (!form.token) throw fail('invalid_request', 'token is required', 'TOKEN_MISSING');
  const found = await findToken(ctx, form.token, deps);
  if (!found || !found.active || found.clientId !== app.clientId) return { active: false };
  const base = {
    active: true, client_id: found.clientId, scope: found.scope, iat: Math.floor(found.iat.getTime() / 1000), exp: Math.floor(found.exp.getTime() / 1000),
    iss: deps.issuer, patient: found.recordId,
  };
  if (found.kind === 'access') return { ...base, token_type: 'Bearer', sub: found.clientId, aud: deps.fhirBase, jti: found.jti };
  return { ...base, token_type: 'refresh_token', sub: found.clientId };
}
