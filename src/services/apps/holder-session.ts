/**
 * The one integration point between the authorize page and the holder's login.
 *
 * Today the holder proves who they are with a Carnet access token of actor kind `holder` (what the
 * portal holds after logging in; in tests, `mintActorToken({ as: 'holder:<recordId>' })`), sent in
 * the login form of the authorize page and then kept in an HttpOnly cookie scoped to
 * `/oauth2/authorize`. When the accounts work (password + second factor, `services/accounts/`)
 * lands, switch this function to check its session instead: nothing else has to change.
 */
import { verifyAccessToken } from '../../auth/access-token.ts';
import type { VerificationKeys } from '../../auth/access-token.ts';
import type { Actor } from '../../domain/access/types.ts';
import { recordById } from '../internal/repo.ts';
import type { Ctx } from '../context.ts';

export interface HolderSession {
  actor: Extract<Actor, { kind: 'holder' }>;
  /** The holder's record: the one the app will be connected to. */
  recordId: string;
  /** When the holder authenticated (the id_token's `auth_time`). */
  authTime: Date;
  /** Until when the credential is good (the cookie does not outlive it). */
  expiresAt: Date;
}

export interface HolderSessionDeps {
  verifier: VerificationKeys;
  issuer: string;
  fhirBase: string;
  /** Checks the login session (`sid`) of a token from the holder's login; throws when it ended. */
  checkSession?: (sessionId: string) => Promise<void>;
}

/** The holder behind `credential`, or `undefined` when it is missing, invalid, expired or not a holder's. */
export async function authenticateHolder(ctx: Ctx, credential: string | undefined, deps: HolderSessionDeps): Promise<HolderSession | undefined> {
  if (!credential || credential.length > 8192) return undefined;
  try {
    const token = await verifyAccessToken(credential, { verifier: deps.verifier, issuer: deps.issuer, audience: deps.fhirBase, now: ctx.clock });
    if (token.actor.kind !== 'holder') return undefined;
    if (token.sessionId) {
      // a token of a login session is only good while the session is (fail closed)
      if (!deps.checkSession) return undefined;
      await deps.checkSession(token.sessionId);
    }
    const record = await recordById(ctx, token.actor.id);
    return {
      actor: { kind: 'holder', id: record.id, name: token.actor.name },
      recordId: record.id,
      authTime: token.issuedAt,
      expiresAt: token.expiresAt,
    };
  } catch {
    return undefined;
  }
}
