/**
 * The OAuth 2.0 token endpoint for establishment systems: SMART Backend Services
 * (`client_credentials` grant, `private_key_jwt` client authentication, RFC 7523) whose client
 * assertion also names the acting professional in the IHE IUA `ihe_iua` claims (see iua.ts).
 *
 * This is the logic only: the HTTP layer parses the `application/x-www-form-urlencoded` body
 * (refusing repeated parameters, RFC 6749 §3.2), calls `clientCredentialsGrant`, answers 200 with
 * the `TokenResponse` and `Cache-Control: no-store`, or `err.status` with `err.body()` on an
 * `OAuthError`, and audits `err.reason` (never sent to the client).
 *
 * Order of checks: grant type → authentication method → assertion header `alg` → `iss`/`sub` →
 * client known → signature and `aud`/`exp` → `exp` horizon → `jti` replay → scope → `ihe_iua`.
 * A `jti` is spent only once the signature is good, so nobody can burn another client's nonces.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { mintToken, DEFAULT_TOKEN_TTL_SECONDS, type TokenResponse } from './access-token.ts';
import { findIuaClaims, IuaClaimError, normaliseFiness, parseIuaActor } from './iua.ts';
import { covers, parseScopes } from './scopes.ts';
import type { TokenSigner } from './signing-keys.ts';

export type { TokenResponse } from './access-token.ts';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Client assertion algorithms SMART names (client-confidential-asymmetric). */
export const ASSERTION_ALGS = ['RS384', 'ES384'] as const;
/** SMART: the assertion's `exp` SHALL be no more than five minutes in the future. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export interface RegisteredClient {
  clientId: string;
  name: string;
  /** FINESS of the establishment the system belongs to (9 characters). */
  finess: string;
  /** Public keys registered inline… */
  jwks?: { keys: JWK[] };
  /** …or where to fetch them (preferred: lets the client rotate its keys). */
  jwksUrl?: string;
  /** The most this client may be granted (SMART scope strings). */
  scopes: string[];
  kind: 'system';
}

export interface ClientRegistry {
  get(clientId: string): Promise<RegisteredClient | undefined>;
}

export interface JtiStore {
  /** false if already seen (replay). Entries may be forgotten after `expiresAt`. */
  remember(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
}

export interface TokenEndpointDeps {
  registry: ClientRegistry;
  jtiStore: JtiStore;
  signer: TokenSigner;
  /** Accepted assertion `aud` values: the token endpoint URL(s). */
  audiences: string[];
  /** `iss` of the access tokens issued. */
  issuer: string;
  /** `aud` of the access tokens issued: the FHIR base URL. */
  fhirBase: string;
  now: () => Date;
  /** Access token lifetime; default 300 (SMART: SHOULD NOT exceed 300). */
  tokenTtlSeconds?: number;
  /** Clock skew tolerated on the assertion's `exp`/`nbf`/`iat`; default 0. */
  clockToleranceSeconds?: number;
  /** How to resolve a `jwksUrl`; default: jose `createRemoteJWKSet`, one cached resolver per URL. */
  remoteJwks?: (url: URL) => JWTVerifyGetKey;
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

/** An RFC 6749 §5.2 error response. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  /** 401 for `invalid_client`, 400 otherwise. */
  readonly status: 400 | 401;
  /** Why, precisely, for the audit log only (e.g. `ASSERTION_SIGNATURE`, `UNKNOWN_CLIENT`). Never send it. */
  readonly reason: string;

  constructor(error: OAuthErrorCode, description: string, reason: string, opts: { cause?: unknown } = {}) {
    super(description, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
    this.status = error === 'invalid_client' ? 401 : 400;
    this.reason = reason;
  }

  /** The JSON body to send. */
  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** One description for every failure that could tell an attacker which clients exist or why a key failed. */
const AUTH_FAILED = 'client authentication failed';
const fail = (error: OAuthErrorCode, description: string, reason: string, cause?: unknown) =>
  new OAuthError(error, description, reason, cause !== undefined ? { cause } : {});

/**
 * The unverified claims of a client assertion, once its header names an algorithm SMART allows
 * (RS384, ES384): `none` and HMAC never reach a key. Signature, audience and lifetime come after.
 */
export function inspectClientAssertion(assertion: string): JWTPayload {
  let alg: unknown;
  let unverified: JWTPayload;
  try {
    alg = decodeProtectedHeader(assertion).alg;
    unverified = decodeJwt(assertion);
  } catch (cause) {
    throw fail('invalid_client', 'client_assertion is not a JWT', 'ASSERTION_MALFORMED', cause);
  }
  if (typeof alg !== 'string' || !(ASSERTION_ALGS as readonly string[]).includes(alg)) {
    throw fail('invalid_client', `client_assertion must be signed with ${ASSERTION_ALGS.join(' or ')}`, 'ASSERTION_ALG');
  }
  return unverified;
}

export async function clientCredentialsGrant(
  form: Record<string, string | undefined>,
  deps: TokenEndpointDeps,
): Promise<TokenResponse> {
  // 1. Grant type.
  const grantType = form.grant_type;
  if (!grantType) throw fail('invalid_request', 'grant_type is required', 'GRANT_TYPE_MISSING');
  if (grantType !== 'client_credentials') {
    throw fail('unsupported_grant_type', 'only the client_credentials grant is supported here', 'GRANT_TYPE_UNSUPPORTED');
  }

  // 2. Authentication method: private_key_jwt only.
  if (form.client_secret !== undefined) {
    throw fail('invalid_request', 'use a single client authentication method (private_key_jwt)', 'MULTIPLE_AUTH_METHODS');
  }
  const assertion = form.client_assertion;
  if (form.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE || !assertion) {
    throw fail(
      'invalid_client',
      `client authentication required: client_assertion_type=${JWT_BEARER_ASSERTION_TYPE} with a signed client_assertion`,
      form.client_assertion_type === undefined && !assertion ? 'NO_CLIENT_AUTH' : 'ASSERTION_TYPE_UNSUPPORTED',
    );
  }

  // 3. Header: an asymmetric algorithm SMART names. `none` and HMAC never reach a key.
  const unverified = inspectClientAssertion(assertion);

  // 4. Who claims to be calling: iss = sub = client_id.
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || !clientId) {
    throw fail('invalid_client', 'client_assertion iss must be the client_id', 'ASSERTION_ISS');
  }
  if (unverified.sub !== clientId) {
    throw fail('invalid_client', 'client_assertion iss and sub must both be the client_id', 'ASSERTION_SUB');
  }
  if (form.client_id !== undefined && form.client_id !== clientId) {
    throw fail('invalid_client', 'client_id does not match the client_assertion', 'CLIENT_ID_MISMATCH');
  }
  const client = await deps.registry.get(clientId);
  if (!client) throw fail('invalid_client', AUTH_FAILED, 'UNKNOWN_CLIENT');
  if (client.kind !== 'system') {
    throw fail('unauthorized_client', 'this client may not use the client_credentials grant', 'CLIENT_KIND');
  }

  // 5. Signature against the client's registered keys, then aud / exp / iss / sub.
  const keys = clientKeys(client, assertion, deps);
  const now = deps.now();
  const tolerance = deps.clockToleranceSeconds ?? 0;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: [...ASSERTION_ALGS],
      audience: deps.audiences,
      issuer: clientId,
      subject: clientId,
      currentDate: now,
      clockTolerance: tolerance,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (e) {
    throw assertionError(e);
  }

  // 6. Lifetime: SMART caps the assertion's exp at five minutes ahead.
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS + tolerance) {
    throw fail('invalid_client', 'client_assertion exp must be at most 5 minutes in the future', 'ASSERTION_EXP_TOO_FAR');
  }

  // 7. One-time use.
  const jti = payload.jti;
  if (typeof jti !== 'string' || !jti || jti.length > 255) {
    throw fail('invalid_client', 'client_assertion jti must be a non-empty string', 'ASSERTION_JTI');
  }
  if (!(await deps.jtiStore.remember(clientId, jti, new Date(payload.exp * 1000)))) {
    throw fail('invalid_client', 'client_assertion jti was already used', 'ASSERTION_REPLAYED');
  }

  // 8. Scope: within what the client is registered for.
  const scope = checkScope(form.scope, client);

  // 9. The acting professional.
  let actor;
  try {
    const iua = findIuaClaims(payload);
    if (!iua) {
      throw fail('invalid_request', 'the client_assertion must name the acting professional in extensions.ihe_iua', 'IUA_MISSING');
    }
    actor = parseIuaActor(iua);
  } catch (e) {
    if (e instanceof IuaClaimError) throw fail('invalid_request', e.message, 'IUA_INVALID', e);
    throw e;
  }
  const clientFiness = normaliseFiness(client.finess) ?? client.finess;
  if (actor.organisation !== undefined && actor.organisation !== clientFiness) {
    throw fail(
      'invalid_grant',
      'ihe_iua.subject_organization_id must be the FINESS this client is registered for: an establishment asserts for its own users',
      'IUA_ORGANISATION_MISMATCH',
    );
  }

  return mintToken({ kind: 'professional', ...actor, organisation: clientFiness }, scope, deps.signer, {
    issuer: deps.issuer,
    audience: deps.fhirBase,
    clientId,
    ttlSeconds: deps.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
    now: deps.now,
  });
}

function checkScope(requested: string | undefined, client: RegisteredClient): string {
  if (!requested || !requested.trim()) {
    throw fail('invalid_scope', 'scope is required (for example system/DocumentReference.crus)', 'SCOPE_MISSING');
  }
  const parsed = parseScopes(requested);
  if (parsed.invalid.length) {
    throw fail('invalid_scope', `malformed scope: ${parsed.invalid.join(' ')}`, 'SCOPE_MALFORMED');
  }
  const allowed = parseScopes(client.scopes);
  const refused = [
    ...parsed.scopes.filter((s) => !covers(allowed.scopes, s)).map((s) => s.raw),
    ...parsed.other.filter((o) => !allowed.other.includes(o)),
  ];
  if (refused.length) {
    throw fail('invalid_scope', `scope beyond what this client is registered for: ${refused.join(' ')}`, 'SCOPE_EXCEEDS_CLIENT');
  }
  return [...parsed.scopes.map((s) => s.raw), ...parsed.other].join(' ');
}

/** Maps a jose failure to an RFC 6749 answer that says which claim, never why a key or signature failed. */
function assertionError(e: unknown): OAuthError {
  if (e instanceof errors.JWTExpired) return fail('invalid_client', 'client_assertion has expired', 'ASSERTION_EXPIRED', e);
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') {
      return fail('invalid_client', 'client_assertion aud must be the token endpoint URL', 'ASSERTION_AUD', e);
    }
    return fail('invalid_client', `client_assertion claim ${e.claim} is missing or invalid`, `ASSERTION_CLAIM_${e.claim.toUpperCase()}`, e);
  }
  // jose throws the bare JOSEError class (and network errors pass through) when a JWKS URL fails.
  const jwksDown =
    e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid ||
    !(e instanceof errors.JOSEError) || e.constructor === errors.JOSEError;
  const reason = jwksDown ? 'JWKS_UNAVAILABLE' : 'ASSERTION_SIGNATURE';
  return fail('invalid_client', AUTH_FAILED, reason, e);
}

const localSets = new WeakMap<object, JWTVerifyGetKey>();
const remoteSets = new Map<string, JWTVerifyGetKey>();
const MAX_REMOTE_SETS = 256;

/** SMART key resolution: a `jku` header must be the registered URL; else registered JWKS, else URL. */
function clientKeys(client: RegisteredClient, assertion: string, deps: TokenEndpointDeps): JWTVerifyGetKey {
  const { jku } = decodeProtectedHeader(assertion);
  if (jku !== undefined && jku !== client.jwksUrl) {
    throw fail('invalid_client', AUTH_FAILED, 'ASSERTION_JKU_NOT_REGISTERED');
  }
  if (client.jwks && jku === undefined) {
    let set = localSets.get(client.jwks);
    if (!set) {
      set = createLocalJWKSet(client.jwks);
      localSets.set(client.jwks, set);
    }
    return set;
  }
  if (!client.jwksUrl) throw fail('invalid_client', AUTH_FAILED, 'CLIENT_HAS_NO_KEYS');
  let url: URL;
  try {
    url = new URL(client.jwksUrl);
  } catch (cause) {
    throw fail('invalid_client', AUTH_FAILED, 'CLIENT_JWKS_URL_INVALID', cause);
  }
  // SMART: the JWKS URL is TLS-protected. Plain HTTP only on loopback (development, tests).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw fail('invalid_client', AUTH_FAILED, 'CLIENT_JWKS_URL_INSECURE');
  }
  if (deps.remoteJwks) return deps.remoteJwks(url);
  let set = remoteSets.get(url.href);
  if (!set) {
    if (remoteSets.size >= MAX_REMOTE_SETS) remoteSets.delete(remoteSets.keys().next().value!);
    set = createRemoteJWKSet(url, { headers: { accept: 'application/json' } });
    remoteSets.set(url.href, set);
  }
  return set;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
