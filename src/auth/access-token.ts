/**
 * Carnet's access tokens: JWTs (RFC 9068 shape, header `typ: at+jwt`) signed with Carnet's own key,
 * issued by the token endpoint and by `mintToken` (CLI `carnet token --as …`), checked by
 * `verifyAccessToken` on every FHIR request.
 *
 * Claims: `iss`, `aud` (the FHIR base), `sub` = `client_id`, `client_id`, `iat`, `exp`, `jti`,
 * `scope` (space-separated SMART scopes) and `carnet_actor`, who acts:
 *
 *   { "kind": "professional", "rpps": "10100997245", "name": "…", "profession_code": "10",
 *     "specialty"?: "SM26", "organisation"?: "<FINESS>", "organisation_name"?: "…",
 *     "purpose_of_use": "normal" | "bris_de_glace" | "centre_15", "justification"?: "…" }
 *   { "kind": "holder" | "legal_representative" | "caregiver" | "operator" | "system",
 *     "id": "…", "name": "…" }
 *   { "kind": "app", "id": "<client_id>", "name": "<app name>", "record": "<record id>",
 *     "grant": "<grant id>", "allowed_types": ["11502-2"], "allowed_categories": ["BIOLOGIE"] }
 *
 * App tokens (SMART App Launch, services/apps) are only good while their grant is: the HTTP layer
 * checks `grant` against the database on every request (http/auth.ts).
 */
import { createLocalJWKSet, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { CarnetError } from '../domain/errors.ts';
import type { AccessMode, Actor } from '../domain/access/types.ts';
import { ACCESS_MODES } from '../domain/access/types.ts';
import { FINESS_RE, MAX_JUSTIFICATION_LENGTH, RPPS_RE } from './iua.ts';
import { parseScopes, scopeString, type Scope } from './scopes.ts';
import { TOKEN_SIGNING_ALG, type TokenSigner } from './signing-keys.ts';

export const ACCESS_TOKEN_TYP = 'at+jwt';
export const DEFAULT_TOKEN_TTL_SECONDS = 300;
/** Tokens minted for operators and tests may live longer, but not more than a day. */
export const MAX_TOKEN_TTL_SECONDS = 86_400;

export type ProfessionalActor = {
  kind: 'professional';
  rpps: string;
  name: string;
  professionCode: string;
  specialty?: string;
  /** FINESS of the structure the professional acts for. */
  organisation?: string;
  organisationName?: string;
  purposeOfUse: AccessMode;
  /** Required for `bris_de_glace`. */
  justification?: string;
};

/** A catalogue app acting on the one record the holder connected it to, within the consented purposes. */
export type AppActor = {
  kind: 'app';
  /** The app's client_id. */
  id: string;
  name: string;
  recordId: string;
  /** The authorization (one holder consent) the token belongs to; revoking it kills the token. */
  grantId: string;
  /** Document type codes / class codes or MES categories the holder consented to. */
  allowedTypes: string[];
  allowedCategories: string[];
};

export type TokenActor =
  | ProfessionalActor
  | AppActor
  | { kind: 'holder' | 'legal_representative' | 'caregiver'; id: string; name: string }
  | { kind: 'operator'; id: string; name: string }
  | { kind: 'system'; id: string; name: string };

export interface AccessContext {
  clientId: string;
  /** Granted SMART clinical scopes (check them with `allows`). */
  scopes: Scope[];
  actor: TokenActor;
  /** The token's `jti`, for the audit trail. */
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
  /** The login session the token belongs to (`sid` claim), checked on every request when present. */
  sessionId?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** Public keys to verify with: a JWK Set, or a jose key resolver (e.g. `SigningKey.verifier`). */
export type VerificationKeys = { keys: JWK[] } | JWTVerifyGetKey;

export interface VerifyDeps {
  verifier: VerificationKeys;
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud`: the FHIR base URL. */
  audience: string;
  now: () => Date;
  /** Seconds of clock skew tolerated on `exp`/`iat`/`nbf`; default 0 (same clock: Carnet minted it). */
  clockToleranceSeconds?: number;
}

const resolvers = new WeakMap<object, JWTVerifyGetKey>();
function resolverFor(keys: VerificationKeys): JWTVerifyGetKey {
  if (typeof keys === 'function') return keys;
  let r = resolvers.get(keys);
  if (!r) {
    r = createLocalJWKSet(keys);
    resolvers.set(keys, r);
  }
  return r;
}

const unauthorized = (code: string, message: string, cause?: unknown) =>
  new CarnetError(code, 'unauthorized', message, cause !== undefined ? { cause } : {});

/**
 * Checks a bearer token and returns who acts with which scopes. Refuses (CarnetError kind
 * `unauthorized`): `TOKEN_EXPIRED`, `TOKEN_WRONG_AUDIENCE`, and `TOKEN_INVALID` for everything
 * else (unsigned, other key, other algorithm, other issuer, malformed). The signature is checked
 * before any claim, so claim-specific codes are only given for tokens Carnet really signed.
 */
export async function verifyAccessToken(token: string, deps: VerifyDeps): Promise<AccessContext> {
  if (typeof token !== 'string' || !token) throw unauthorized('TOKEN_INVALID', 'access token missing');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, resolverFor(deps.verifier), {
      algorithms: [TOKEN_SIGNING_ALG],
      typ: ACCESS_TOKEN_TYP,
      issuer: deps.issuer,
      audience: deps.audience,
      currentDate: deps.now(),
      clockTolerance: deps.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw unauthorized('TOKEN_EXPIRED', 'access token expired', e);
    if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') {
      throw unauthorized('TOKEN_WRONG_AUDIENCE', 'access token was issued for another audience', e);
    }
    throw unauthorized('TOKEN_INVALID', 'access token invalid', e);
  }
  const clientId = payload.client_id;
  if (typeof clientId !== 'string' || !clientId || payload.sub !== clientId) throw unauthorized('TOKEN_INVALID', 'access token invalid: client_id');
  if (typeof payload.scope !== 'string') throw unauthorized('TOKEN_INVALID', 'access token invalid: scope');
  const parsed = parseScopes(payload.scope);
  if (parsed.invalid.length) throw unauthorized('TOKEN_INVALID', 'access token invalid: scope');
  const actor = actorFromClaim(payload.carnet_actor);
  if (!actor) throw unauthorized('TOKEN_INVALID', 'access token invalid: carnet_actor');
  // an app acts only under its own client_id
  if (actor.kind === 'app' && actor.id !== clientId) throw unauthorized('TOKEN_INVALID', 'access token invalid: carnet_actor');
  return {
    clientId,
    scopes: parsed.scopes,
    actor,
    tokenId: payload.jti!,
    issuedAt: new Date(payload.iat! * 1000),
    expiresAt: new Date(payload.exp! * 1000),
    ...(typeof payload.sid === 'string' && payload.sid ? { sessionId: payload.sid } : {}),
  };
}

export interface MintOptions {
  issuer: string;
  /** The FHIR base URL the token is for. */
  audience: string;
  /** `client_id` and `sub`; default `carnet-cli`. */
  clientId?: string;
  ttlSeconds?: number;
  now?: () => Date;
  /** Login session (`sid` claim): the resource server refuses the token once the session ends. */
  sessionId?: string;
}

/**
 * Issues an access token for `actor` with `scopes` (SMART scope strings or parsed scopes). Used by
 * the token endpoint and by `carnet token --as …`. Checks the actor's shape, so a token Carnet
 * signs always passes `verifyAccessToken`.
 */
export async function mintToken(
  actor: TokenActor,
  scopes: string | readonly string[] | readonly Scope[],
  signer: TokenSigner,
  opts: MintOptions,
): Promise<TokenResponse> {
  const ttl = opts.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new CarnetError('TOKEN_TTL_INVALID', 'invalid', `token lifetime must be 1..${MAX_TOKEN_TTL_SECONDS} seconds`);
  }
  const claim = actorToClaim(actor);
  if (!actorFromClaim(claim)) throw new CarnetError('TOKEN_ACTOR_INVALID', 'invalid', 'the actor is incomplete or malformed');
  const scope = toScopeString(scopes);
  const iat = Math.floor((opts.now ?? (() => new Date()))().getTime() / 1000);
  const clientId = opts.clientId ?? 'carnet-cli';
  if (actor.kind === 'app' && actor.id !== clientId) {
    throw new CarnetError('TOKEN_ACTOR_INVALID', 'invalid', 'an app token is issued to the app itself (client_id = app id)');
  }
  const access_token = await signer.sign(
    {
      iss: opts.issuer,
      aud: opts.audience,
      sub: clientId,
      client_id: clientId,
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
      scope,
      carnet_actor: claim,
      ...(opts.sessionId ? { sid: opts.sessionId } : {}),
    },
    ACCESS_TOKEN_TYP,
  );
  return { access_token, token_type: 'Bearer', expires_in: ttl, scope };
}

function toScopeString(scopes: string | readonly string[] | readonly Scope[]): string {
  if (typeof scopes !== 'string' && scopes.length && typeof scopes[0] !== 'string') {
    return scopeString(scopes as readonly Scope[]);
  }
  const parsed = parseScopes(scopes as string | readonly string[]);
  if (parsed.invalid.length) {
    throw new CarnetError('SCOPE_INVALID', 'invalid', 'malformed SMART scope', { details: { scopes: parsed.invalid } });
  }
  return scopeString(parsed.scopes, parsed.other);
}

/** The `carnet_actor` claim for an actor (snake_case on the wire). */
export function actorToClaim(actor: TokenActor): Record<string, unknown> {
  if (actor.kind === 'professional') {
    return {
      kind: 'professional',
      rpps: actor.rpps,
      name: actor.name,
      profession_code: actor.professionCode,
      ...(actor.specialty ? { specialty: actor.specialty } : {}),
      ...(actor.organisation ? { organisation: actor.organisation } : {}),
      ...(actor.organisationName ? { organisation_name: actor.organisationName } : {}),
      purpose_of_use: actor.purposeOfUse,
      ...(actor.justification ? { justification: actor.justification } : {}),
    };
  }
  if (actor.kind === 'app') {
    return {
      kind: 'app', id: actor.id, name: actor.name, record: actor.recordId, grant: actor.grantId,
      allowed_types: [...actor.allowedTypes], allowed_categories: [...actor.allowedCategories],
    };
  }
  return { kind: actor.kind, id: actor.id, name: actor.name };
}

const OTHER_KINDS = ['holder', 'legal_representative', 'caregiver', 'operator', 'system'] as const;
const str = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const optStr = (v: unknown, max = 200) => v === undefined || str(v, max);

/** Reads a `carnet_actor` claim back; `undefined` when it is malformed. */
export function actorFromClaim(c: unknown): TokenActor | undefined {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return undefined;
  const o = c as Record<string, unknown>;
  if (o.kind === 'professional') {
    if (!str(o.rpps) || !RPPS_RE.test(o.rpps) || !str(o.name) || !str(o.profession_code) || !/^\d{1,3}$/.test(o.profession_code)) return undefined;
    if (!optStr(o.specialty, 16) || !optStr(o.organisation_name)) return undefined;
    if (o.organisation !== undefined && !(typeof o.organisation === 'string' && FINESS_RE.test(o.organisation))) return undefined;
    if (!(ACCESS_MODES as readonly unknown[]).includes(o.purpose_of_use)) return undefined;
    if (!optStr(o.justification, MAX_JUSTIFICATION_LENGTH)) return undefined;
    if (o.purpose_of_use === 'bris_de_glace' && !o.justification) return undefined;
    return {
      kind: 'professional',
      rpps: o.rpps,
      name: o.name,
      professionCode: o.profession_code,
      ...(o.specialty ? { specialty: o.specialty as string } : {}),
      ...(o.organisation ? { organisation: o.organisation as string } : {}),
      ...(o.organisation_name ? { organisationName: o.organisation_name as string } : {}),
      purposeOfUse: o.purpose_of_use as AccessMode,
      ...(o.justification ? { justification: o.justification as string } : {}),
    };
  }
  if (o.kind === 'app') {
    const codes = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 200 && v.every((x) => str(x, 64));
    if (!str(o.id) || !str(o.name) || !str(o.record) || !str(o.grant) || !codes(o.allowed_types) || !codes(o.allowed_categories)) return undefined;
    return {
      kind: 'app', id: o.id, name: o.name, recordId: o.record, grantId: o.grant,
      allowedTypes: [...o.allowed_types], allowedCategories: [...o.allowed_categories],
    };
  }
  if ((OTHER_KINDS as readonly unknown[]).includes(o.kind) && str(o.id) && str(o.name)) {
    return { kind: o.kind as (typeof OTHER_KINDS)[number], id: o.id, name: o.name } as TokenActor;
  }
  return undefined;
}

/** The domain's view of the actor (for `decide`), plus the access mode the token carries. */
export function toDomainActor(actor: TokenActor): { actor: Actor; mode: AccessMode } {
  if (actor.kind === 'professional') {
    return {
      actor: {
        kind: 'professional',
        id: actor.rpps,
        name: actor.name,
        professionCode: actor.professionCode,
        ...(actor.specialty ? { specialty: actor.specialty } : {}),
        ...(actor.organisation ? { organisation: actor.organisation } : {}),
      },
      mode: actor.purposeOfUse,
    };
  }
  if (actor.kind === 'app') {
    return {
      actor: {
        kind: 'app', id: actor.id, name: actor.name, recordId: actor.recordId,
        allowedTypes: [...actor.allowedTypes], allowedCategories: [...actor.allowedCategories],
      },
      mode: 'normal',
    };
  }
  return { actor: { kind: actor.kind, id: actor.id, name: actor.name }, mode: 'normal' };
}

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1); `undefined` if there is none. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim()) : null;
  return m ? m[1] : undefined;
}
