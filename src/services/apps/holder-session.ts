/**
 * The one integration point between the authorize pages and the holder's login (services/accounts).
 *
 * The holder logs in on the authorize page as anywhere else in Carnet: INS + password
 * (`holderLogin`), then the TOTP or e-mailed code (`holderSecondFactor`) — the accounts service's
 * `login` / `completeLogin`, with its lockout, back-off, audit and sessions. On success the page
 * keeps, in an HttpOnly cookie scoped to `/oauth2/authorize`, an **authorize credential**: a short
 * Carnet JWT bound to that login session (`sid`), with audience `<issuer>/oauth2/authorize` and no
 * scope. It is good for nothing but these pages (the FHIR API and the portal API refuse its
 * audience) and `authenticateHolder` checks its session on every use, so ending the session in the
 * portal (log-out, "end this session", password reset, idle or absolute expiry) ends the authorize
 * login too. The session's secret and the portal token the login also returns are dropped here:
 * the browser never sees them.
 *
 * A portal that already holds the holder's session token may hand it over (`holderHandOver`): only
 * a holder token of a live login session is taken, and it is exchanged for the same credential.
 *
 * Representatives and caregivers cannot connect apps yet: their login is ended at once and the page
 * says so (`NOT_HOLDER`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CarnetError } from '../../domain/errors.ts';
import { INS_OIDS } from '../../domain/ins.ts';
import type { Actor } from '../../domain/access/types.ts';
import { verifyAccessToken, type AccessContext } from '../../auth/access-token.ts';
import type { SigningKey } from '../../auth/signing-keys.ts';
import { completeLogin, login, type ClientInfo, type PersonTokenResponse } from '../accounts/login.ts';
import { checkSession, mintSessionToken } from '../accounts/sessions.ts';
import { accountById } from '../accounts/common.ts';
import { endMySession } from '../accounts/accountSessions.ts';
import { recordById } from '../internal/repo.ts';
import type { Ctx } from '../context.ts';

/** `client_id` of the authorize credential (never a token the APIs take). */
export const AUTHORIZE_CLIENT_ID = 'carnet-authorize';
/** Audience of the authorize credential: the authorize endpoint itself, not the FHIR base. */
export const credentialAudience = (issuer: string) => `${issuer.replace(/\/+$/, '')}/oauth2/authorize`;

export interface HolderSession {
  actor: Extract<Actor, { kind: 'holder' }>;
  /** The holder's record: the one the app will be connected to. */
  recordId: string;
  /** The login session behind the credential (accounts service). */
  sessionId: string;
  /** When the holder authenticated (the login session's start). */
  authTime: Date;
  /** Until when the credential is good (the cookie does not outlive it). */
  expiresAt: Date;
}

export interface HolderSessionDeps {
  /** Carnet's signing key: mints and verifies the authorize credential. */
  signingKey: SigningKey;
  issuer: string;
  /** The FHIR base: the audience of the portal tokens a hand-over brings. */
  fhirBase: string;
}

/** Why the page refuses: shown plainly, never saying which of INS or password was wrong. */
export type HolderLoginRefusal =
  /** Unknown INS, wrong password, malformed INS: one answer. */
  | 'LOGIN_FAILED'
  | 'ACCOUNT_LOCKED'
  | 'SECOND_FACTOR_WRONG'
  /** The second step is spent, expired or out of tries: start again with the password. */
  | 'CHALLENGE_EXPIRED'
  /** A representative's or caregiver's login: they cannot connect apps yet. */
  | 'NOT_HOLDER'
  /** The account reaches no record (closed to its holder, links removed). */
  | 'NO_RECORD'
  /** A handed-over token that is not a live holder session's. */
  | 'CREDENTIAL_INVALID';

export type HolderLoginOutcome =
  | { kind: 'authenticated'; credential: string; session: HolderSession }
  | { kind: 'second_factor'; challenge: string; method: 'totp' | 'email'; expiresAt: Date }
  | { kind: 'refused'; reason: HolderLoginRefusal; lockedUntil?: string };

/** The holder behind an authorize credential, or `undefined` when it is missing, invalid, expired, or its session ended. */
export async function authenticateHolder(ctx: Ctx, credential: string | undefined, deps: HolderSessionDeps): Promise<HolderSession | undefined> {
  if (!credential || credential.length > 8192) return undefined;
  try {
    const token = await verifyAccessToken(credential, {
      verifier: deps.signingKey.verifier, issuer: deps.issuer, audience: credentialAudience(deps.issuer), now: ctx.clock,
    });
    if (token.actor.kind !== 'holder' || token.clientId !== AUTHORIZE_CLIENT_ID || !token.sessionId) return undefined;
    return await holderOfSession(ctx, token);
  } catch {
    return undefined;
  }
}

/** A live account session whose account is the holder of the token's record. Throws otherwise. */
async function holderOfSession(ctx: Ctx, token: AccessContext): Promise<HolderSession> {
  if (token.actor.kind !== 'holder' || !token.sessionId) throw new CarnetError('NOT_HOLDER', 'forbidden', 'not a holder session');
  const session = await checkSession(ctx, token.sessionId);
  if (session.subject_kind !== 'account') throw new CarnetError('SESSION_REQUIRED', 'unauthorized', 'not a person’s session');
  const account = await accountById(ctx, session.subject_id);
  const record = await recordById(ctx, token.actor.id);
  // the account must be the record's holder (the actor's id is the record id)
  if (!account || account.ins !== record.ins) throw new CarnetError('NOT_HOLDER', 'forbidden', 'the session is not the holder’s');
  return {
    actor: { kind: 'holder', id: record.id, name: token.actor.name },
    recordId: record.id,
    sessionId: session.id,
    authTime: new Date(session.created_at),
    expiresAt: token.expiresAt,
  };
}

/** The authorize credential for a live holder session (≤ 15 minutes, never past the session). */
async function credentialFor(ctx: Ctx, token: AccessContext, deps: HolderSessionDeps): Promise<HolderLoginOutcome> {
  const live = await checkSession(ctx, token.sessionId!);
  const minted = await mintSessionToken(
    ctx, { signer: deps.signingKey, issuer: deps.issuer, audience: credentialAudience(deps.issuer) },
    token.actor, [], { id: live.id, expiresAt: live.expires_at }, AUTHORIZE_CLIENT_ID,
  );
  const session = await authenticateHolder(ctx, minted.access_token, deps);
  if (!session) return { kind: 'refused', reason: 'CREDENTIAL_INVALID' };
  return { kind: 'authenticated', credential: minted.access_token, session };
}

/** Both factors passed: a holder gets the credential; anyone else's new session is ended at once. */
async function afterLogin(ctx: Ctx, r: PersonTokenResponse, deps: HolderSessionDeps): Promise<HolderLoginOutcome> {
  const token = await verifyAccessToken(r.access_token, { verifier: deps.signingKey.verifier, issuer: deps.issuer, audience: deps.fhirBase, now: ctx.clock });
  if (token.actor.kind !== 'holder') {
    // a session nobody will use: ended (and audited as a log-out) rather than left to idle out
    await endMySession(ctx, token, r.session_id, 'logout');
    return { kind: 'refused', reason: 'NOT_HOLDER' };
  }
  return credentialFor(ctx, token, deps);
}

/** A login error of the accounts service as the page's refusal (unexpected errors are thrown). */
function refusalOf(e: unknown): HolderLoginOutcome {
  if (!(e instanceof CarnetError)) throw e;
  switch (e.code) {
    case 'ACCOUNT_LOCKED':
      return { kind: 'refused', reason: 'ACCOUNT_LOCKED', lockedUntil: (e.details as { lockedUntil?: string } | undefined)?.lockedUntil };
    case 'SECOND_FACTOR_WRONG':
      return { kind: 'refused', reason: 'SECOND_FACTOR_WRONG' };
    case 'CHALLENGE_EXPIRED':
    case 'CHALLENGE_MISSING':
      return { kind: 'refused', reason: 'CHALLENGE_EXPIRED' };
    case 'ACCOUNT_NO_ROLE':
      return { kind: 'refused', reason: 'NO_RECORD' };
    case 'LOGIN_FAILED':
    case 'PASSWORD_MISSING':
      return { kind: 'refused', reason: 'LOGIN_FAILED' };
  }
  // a malformed INS (INS_LENGTH, INS_KEY …): the same answer as a wrong password
  if (e.kind === 'invalid' && e.code.startsWith('INS_')) return { kind: 'refused', reason: 'LOGIN_FAILED' };
  throw e;
}

/** The INS system from the number itself: NIA sex digits 3, 4, 7, 8; NIR otherwise (accounts are found by the number). */
const insOidOf = (ins: string) => (/^\s*[3478]/.test(ins) ? INS_OIDS.NIA : INS_OIDS.NIR);

/** Step 1: INS + password. */
export async function holderLogin(
  ctx: Ctx,
  input: { ins: string | undefined; password: string | undefined; client?: ClientInfo },
  deps: HolderSessionDeps,
): Promise<HolderLoginOutcome> {
  const ins = typeof input.ins === 'string' ? input.ins.slice(0, 64) : '';
  const password = typeof input.password === 'string' ? input.password.slice(0, 1024) : '';
  if (!ins.trim() || !password) return { kind: 'refused', reason: 'LOGIN_FAILED' };
  try {
    const r = await login(ctx, { signer: deps.signingKey, issuer: deps.issuer, audience: deps.fhirBase }, {
      ins, insOid: insOidOf(ins), password, client: input.client,
    });
    if (r.status === 'second_factor_required') return { kind: 'second_factor', challenge: r.challenge, method: r.method, expiresAt: new Date(r.expires_at) };
    return await afterLogin(ctx, r, deps);
  } catch (e) {
    return refusalOf(e);
  }
}

/** Step 2: the challenge of step 1 and the TOTP or e-mailed code. */
export async function holderSecondFactor(
  ctx: Ctx,
  input: { challenge: string | undefined; code: string | undefined; client?: ClientInfo },
  deps: HolderSessionDeps,
): Promise<HolderLoginOutcome> {
  if (typeof input.challenge !== 'string' || !input.challenge || input.challenge.length > 200) return { kind: 'refused', reason: 'CHALLENGE_EXPIRED' };
  const code = typeof input.code === 'string' ? input.code.replace(/\s/g, '').slice(0, 32) : '';
  try {
    const r = await completeLogin(ctx, { signer: deps.signingKey, issuer: deps.issuer, audience: deps.fhirBase }, {
      challenge: input.challenge, code, client: input.client,
    });
    return await afterLogin(ctx, r, deps);
  } catch (e) {
    return refusalOf(e);
  }
}

/**
 * A portal's hand-over: the holder's own session token (audience: the FHIR base). Only a holder
 * token of a live account session is taken — a token without a session (`carnet token`, tests) is
 * not, since nothing would end it with the holder's login.
 */
export async function holderHandOver(ctx: Ctx, portalToken: string | undefined, deps: HolderSessionDeps): Promise<HolderLoginOutcome> {
  if (typeof portalToken !== 'string' || !portalToken || portalToken.length > 8192) return { kind: 'refused', reason: 'CREDENTIAL_INVALID' };
  let token: AccessContext;
  try {
    token = await verifyAccessToken(portalToken, { verifier: deps.signingKey.verifier, issuer: deps.issuer, audience: deps.fhirBase, now: ctx.clock });
  } catch {
    return { kind: 'refused', reason: 'CREDENTIAL_INVALID' };
  }
  if (token.actor.kind === 'legal_representative' || token.actor.kind === 'caregiver') return { kind: 'refused', reason: 'NOT_HOLDER' };
  if (token.actor.kind !== 'holder' || !token.sessionId) return { kind: 'refused', reason: 'CREDENTIAL_INVALID' };
  try {
    await holderOfSession(ctx, token);
    return await credentialFor(ctx, token, deps);
  } catch {
    return { kind: 'refused', reason: 'CREDENTIAL_INVALID' };
  }
}

// --- the login forms' anti-forgery token -------------------------------------------------------------
/**
 * The login forms carry a token tied both to the authorization request (its `csrf`, as the consent
 * form) and to the browser (a random value in an HttpOnly cookie set with the form): someone who
 * started the request themselves knows its `csrf` but not the victim's cookie, so cannot log the
 * victim's browser into their own account (login CSRF).
 */
export const loginFormToken = (requestCsrf: string, browserSecret: string) =>
  createHash('sha256').update(`carnet-authorize-login\n${requestCsrf}\n${browserSecret}`, 'utf8').digest('base64url');

export function loginFormTokenMatches(requestCsrf: string, browserSecret: string | undefined, presented: unknown): boolean {
  if (!browserSecret || !/^[A-Za-z0-9_-]{43}$/.test(browserSecret) || typeof presented !== 'string') return false;
  const a = Buffer.from(loginFormToken(requestCsrf, browserSecret));
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
