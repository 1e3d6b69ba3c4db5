/**
 * Who is calling: the bearer access token (issued by /oauth2/token or `carnet token`), verified
 * against Carnet's own key, turned into the domain's actor and access mode; scopes checked per
 * route.
 */
import type { FastifyRequest } from 'fastify';
import { CarnetError } from '../domain/errors.ts';
import type { AccessMode, Actor } from '../domain/access/types.ts';
import { bearerToken, toDomainActor, verifyAccessToken, type AccessContext, type TokenActor } from '../auth/access-token.ts';
import { allows, type Interaction } from '../auth/scopes.ts';
import type { SigningKey } from '../auth/signing-keys.ts';
import type { Ctx } from '../services/context.ts';
import { grantIsActive } from '../services/apps/grants.ts';

export interface Caller {
  actor: Actor;
  mode: AccessMode;
  token: AccessContext;
  /** The professional's break-glass justification carried in the token (never logged). */
  justification?: string;
}

export interface AuthDeps {
  signingKey: SigningKey;
  issuer: string;
  fhirBase: string;
  now: () => Date;
  /**
   * Checks the login session a token belongs to (`sid` claim: holder, representative, caregiver
   * and professional logins); throws `SESSION_REVOKED` / `SESSION_EXPIRED`. One primary-key lookup.
   */
  checkSession?: (sessionId: string) => Promise<void>;
  /** The store, to check app grants (RouteDeps has it); app tokens are refused without it. */
  carnet?: { ctx: Ctx };
}

const callers = new WeakMap<FastifyRequest, Caller>();

/** Most verified tokens remembered per signing key (the oldest is forgotten first). */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * Verified tokens, per signing key, keyed by issuer, audience and the exact token string: the
 * signature check (ES256) is done once per token. Only what `verifyAccessToken` derives from the
 * token alone is kept; expiry is checked again on every hit, and the session and app-grant checks
 * stay per request. Entries are forgotten once expired (on a hit) or when the cache is full.
 */
const verifiedTokens = new WeakMap<object, Map<string, AccessContext>>();

async function verifyCached(raw: string, deps: AuthDeps): Promise<AccessContext> {
  let cache = verifiedTokens.get(deps.signingKey);
  if (!cache) {
    cache = new Map();
    verifiedTokens.set(deps.signingKey, cache);
  }
  const key = `${deps.issuer}\n${deps.fhirBase}\n${raw}`;
  const hit = cache.get(key);
  if (hit) {
    // as jose does with no clock tolerance: expired once `exp` (seconds) <= now (whole seconds)
    if (Math.floor(hit.expiresAt.getTime() / 1000) > Math.floor(deps.now().getTime() / 1000)) return hit;
    cache.delete(key);
  }
  const token = await verifyAccessToken(raw, { verifier: deps.signingKey.verifier, issuer: deps.issuer, audience: deps.fhirBase, now: deps.now });
  if (cache.size >= VERIFIED_TOKEN_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, token);
  return token;
}

export async function authenticate(req: FastifyRequest, deps: AuthDeps): Promise<Caller> {
  const cached = callers.get(req);
  if (cached) return cached;
  const raw = bearerToken(req.headers.authorization);
  if (!raw) throw new CarnetError('TOKEN_MISSING', 'unauthorized', 'An access token is required (Authorization: Bearer …)');
  const token = await verifyCached(raw, deps);
  if (token.sessionId) {
    // a session token is only good while its session is: fail closed when nothing can check it
    if (!deps.checkSession) throw new CarnetError('SESSION_UNKNOWN', 'unauthorized', 'This token belongs to a login session this server cannot check');
    await deps.checkSession(token.sessionId);
  }
  // An app's token is only as good as the holder's consent behind it: checked on every request, so
  // a revocation kills it at once (services/apps/grants.ts).
  if (token.actor.kind === 'app' && !(deps.carnet && (await grantIsActive(deps.carnet.ctx, token.actor.grantId)))) {
    throw new CarnetError('TOKEN_REVOKED', 'unauthorized', 'This access token was revoked');
  }
  const { actor, mode } = toDomainActor(token.actor);
  const caller: Caller = { actor, mode, token, justification: justificationOf(token.actor) };
  callers.set(req, caller);
  return caller;
}

const justificationOf = (a: TokenActor) => (a.kind === 'professional' ? a.justification : undefined);

/** Refuses (403) when the token's scopes do not cover `interaction` on `resourceType`. */
export function requireScope(caller: Caller, resourceType: string, interaction: Interaction) {
  const ok = (['system', 'user', 'patient'] as const).some((ctx) => allows(caller.token.scopes, ctx, resourceType, interaction));
  if (!ok) {
    throw new CarnetError('SCOPE_MISSING', 'forbidden', `The token's scopes do not allow '${interaction}' on ${resourceType}`, {
      details: { resourceType, interaction },
    });
  }
}
