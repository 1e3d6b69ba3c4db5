/**
 * Login sessions (holders, representatives, caregivers, professionals). A session lasts at most
 * 12 hours and ends after 30 minutes without use; it can be revoked (by its owner, by a password
 * reset). Access tokens minted for it carry its id (`sid`) and live 15 minutes at most, never past
 * the session: the HTTP layer refuses a token whose session is revoked or over (one primary-key
 * lookup per request, `checkSession`). The session secret, returned once at login and kept only as
 * a SHA-256 hash, mints fresh access tokens while the session lives.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CarnetError, notFound } from '../../domain/errors.ts';
import { mintToken, type TokenActor, type TokenResponse } from '../../auth/access-token.ts';
import type { TokenSigner } from '../../auth/signing-keys.ts';
import type { AccountSessionTable } from '../../store/schema-accounts.ts';
import type { Ctx } from '../context.ts';

export const SESSION_LIMITS = {
  /** Without any use (token minted or API call), the session ends. */
  idleMs: 30 * 60_000,
  /** Whatever the use, the session ends. */
  absoluteMs: 12 * 3_600_000,
  /** Lifetime of one access token (capped by the session's end). */
  accessTokenSeconds: 900,
  /** `last_seen_at` is written at most once a minute per session (cheap checks). */
  touchEveryMs: 60_000,
  /** Ended sessions stay listed in the history this long, then go. */
  keepEndedMs: 30 * 86_400_000,
} as const;

export type SubjectKind = 'account' | 'professional';
export type LoginMethod = 'password+totp' | 'password+email' | 'x509' | 'oidc';

/** Where tokens are minted: Carnet's key, its issuer URL and the FHIR base (audience). */
export interface TokenIssuer {
  signer: TokenSigner;
  issuer: string;
  audience: string;
}

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

export interface NewSession {
  id: string;
  /** Shown once. */
  secret: string;
  expiresAt: string;
}

export async function createSession(
  tx: Ctx,
  s: { subjectKind: SubjectKind; subjectId: string; method: LoginMethod; actor?: TokenActor; notAfter?: Date; userAgent?: string; ip?: string },
): Promise<NewSession> {
  const now = tx.clock();
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  let end = now.getTime() + SESSION_LIMITS.absoluteMs;
  if (s.notAfter) end = Math.min(end, s.notAfter.getTime());
  const expiresAt = new Date(end).toISOString();
  // sessions ended a month ago are of no use to anyone any more (they hold an address and a device)
  await tx.db.deleteFrom('account_sessions').where('subject_kind', '=', s.subjectKind).where('subject_id', '=', s.subjectId)
    .where('expires_at', '<', new Date(now.getTime() - SESSION_LIMITS.keepEndedMs).toISOString()).execute();
  await tx.db.insertInto('account_sessions').values({
    id, subject_kind: s.subjectKind, subject_id: s.subjectId, method: s.method,
    actor: s.actor ? JSON.stringify(s.actor) : null,
    secret_hash: sha256(secret), created_at: now.toISOString(), last_seen_at: now.toISOString(), expires_at: expiresAt,
    revoked_at: null, revoked_reason: null,
    user_agent: s.userAgent ? s.userAgent.slice(0, 200) : null, ip: s.ip ? s.ip.slice(0, 64) : null,
  }).execute();
  return { id, secret, expiresAt };
}

const sessionError = (code: 'SESSION_REVOKED' | 'SESSION_EXPIRED' | 'SESSION_UNKNOWN', message: string) =>
  new CarnetError(code, 'unauthorized', message);

/** Why a session cannot be used now, or undefined when it can. */
function deadReason(row: Pick<AccountSessionTable, 'revoked_at' | 'expires_at' | 'last_seen_at'>, now: Date) {
  if (row.revoked_at) return sessionError('SESSION_REVOKED', 'This login session was ended; log in again');
  if (now.toISOString() >= row.expires_at) return sessionError('SESSION_EXPIRED', 'This login session has expired; log in again');
  if (now.getTime() - Date.parse(row.last_seen_at) >= SESSION_LIMITS.idleMs) {
    return sessionError('SESSION_EXPIRED', 'This login session expired after a period without use; log in again');
  }
  return undefined;
}

async function touch(ctx: Ctx, id: string, now: Date) {
  await ctx.db.updateTable('account_sessions').set({ last_seen_at: now.toISOString() })
    .where('id', '=', id).where('last_seen_at', '<', new Date(now.getTime() - SESSION_LIMITS.touchEveryMs).toISOString()).execute();
}

/** The check behind every request with a session token: alive, or a typed 401. */
export async function checkSession(ctx: Ctx, sessionId: string): Promise<AccountSessionTable> {
  const now = ctx.clock();
  const row = await ctx.db.selectFrom('account_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
  if (!row) throw sessionError('SESSION_UNKNOWN', 'This token belongs to no known login session');
  const dead = deadReason(row, now);
  if (dead) throw dead;
  await touch(ctx, row.id, now);
  return row;
}

/** For `AuthDeps.checkSession` (http/auth.ts). */
export const sessionChecker = (ctx: Ctx) => async (sessionId: string) => {
  await checkSession(ctx, sessionId);
};

/** The live session a session secret opens (it also counts as use). */
export async function sessionBySecret(ctx: Ctx, secret: unknown): Promise<AccountSessionTable> {
  if (typeof secret !== 'string' || secret.length < 20 || secret.length > 100) throw sessionError('SESSION_UNKNOWN', 'A session secret is required');
  const row = await ctx.db.selectFrom('account_sessions').selectAll().where('secret_hash', '=', sha256(secret)).executeTakeFirst();
  if (!row) throw sessionError('SESSION_UNKNOWN', 'Unknown session secret');
  const dead = deadReason(row, ctx.clock());
  if (dead) throw dead;
  await ctx.db.updateTable('account_sessions').set({ last_seen_at: ctx.clock().toISOString() }).where('id', '=', row.id).execute();
  return row;
}

export interface SessionView {
  id: string;
  method: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** The subject's sessions that are still usable, newest first. */
export async function listActiveSessions(ctx: Ctx, subjectKind: SubjectKind, subjectId: string, currentId?: string): Promise<SessionView[]> {
  const now = ctx.clock();
  const rows = await ctx.db.selectFrom('account_sessions').selectAll()
    .where('subject_kind', '=', subjectKind).where('subject_id', '=', subjectId)
    .where('revoked_at', 'is', null).where('expires_at', '>', now.toISOString())
    .where('last_seen_at', '>', new Date(now.getTime() - SESSION_LIMITS.idleMs).toISOString())
    .orderBy('created_at', 'desc').execute();
  return rows.map((r) => ({
    id: r.id, method: r.method, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at,
    userAgent: r.user_agent, ip: r.ip, current: r.id === currentId,
  }));
}

/** Revokes one session of the subject; NOT_FOUND when it is not theirs (or already ended). */
export async function revokeSession(tx: Ctx, subjectKind: SubjectKind, subjectId: string, sessionId: string, reason: string) {
  const res = await tx.db.updateTable('account_sessions').set({ revoked_at: tx.clock().toISOString(), revoked_reason: reason })
    .where('id', '=', sessionId).where('subject_kind', '=', subjectKind).where('subject_id', '=', subjectId)
    .where('revoked_at', 'is', null).executeTakeFirst();
  if (!Number(res.numUpdatedRows)) throw notFound('SESSION_UNKNOWN', 'No such active session');
}

export async function revokeAllSessions(tx: Ctx, subjectKind: SubjectKind, subjectId: string, reason: string): Promise<number> {
  const res = await tx.db.updateTable('account_sessions').set({ revoked_at: tx.clock().toISOString(), revoked_reason: reason })
    .where('subject_kind', '=', subjectKind).where('subject_id', '=', subjectId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export interface SessionTokenResponse extends TokenResponse {
  session_id: string;
  session_expires_at: string;
  /** Only at login: what mints the next access tokens (POST …/session/token). */
  session_secret?: string;
  idle_timeout_seconds: number;
}

/** An access token for `actor` inside the session, never outliving it. */
export async function mintSessionToken(
  ctx: Ctx,
  issuer: TokenIssuer,
  actor: TokenActor,
  scopes: string[],
  session: { id: string; expiresAt: string; secret?: string },
  clientId: string,
): Promise<SessionTokenResponse> {
  const left = Math.floor((Date.parse(session.expiresAt) - ctx.clock().getTime()) / 1000);
  const ttl = Math.max(1, Math.min(SESSION_LIMITS.accessTokenSeconds, left));
  const t = await mintToken(actor, scopes, issuer.signer, {
    issuer: issuer.issuer, audience: issuer.audience, clientId, ttlSeconds: ttl, now: ctx.clock, sessionId: session.id,
  });
  return {
    ...t, session_id: session.id, session_expires_at: session.expiresAt,
    ...(session.secret ? { session_secret: session.secret } : {}),
    idle_timeout_seconds: SESSION_LIMITS.idleMs / 1000,
  };
}
