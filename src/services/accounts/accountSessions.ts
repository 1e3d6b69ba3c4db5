/**
 * The person's own sessions: mint a fresh token from the session secret (optionally acting in
 * another of their roles), list the active sessions, end one, log out.
 */
import { CarnetError } from '../../domain/errors.ts';
import type { AccessContext } from '../../auth/access-token.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { accountById, auditAccount, personActor, PERSON_SCOPES, PORTAL_CLIENT_ID, rolesOf, rolesView } from './common.ts';
import {
  checkSession, listActiveSessions, mintSessionToken, revokeSession, sessionBySecret, type SessionView, type TokenIssuer,
} from './sessions.ts';
import type { PersonTokenResponse } from './login.ts';

/** The account behind a token of a person's login session (401 for any other token). */
export async function accountOfToken(ctx: Ctx, token: AccessContext): Promise<{ accountId: string; sessionId: string }> {
  if (!token.sessionId) throw new CarnetError('SESSION_REQUIRED', 'unauthorized', 'This needs a token from a holder, representative or caregiver login');
  const s = await checkSession(ctx, token.sessionId);
  if (s.subject_kind !== 'account') throw new CarnetError('SESSION_REQUIRED', 'unauthorized', 'This needs a token from a holder, representative or caregiver login');
  return { accountId: s.subject_id, sessionId: s.id };
}

export async function refreshPersonToken(ctx: Ctx, issuer: TokenIssuer, input: { sessionSecret: string; actAs?: string }): Promise<PersonTokenResponse> {
  const s = await sessionBySecret(ctx, input.sessionSecret);
  if (s.subject_kind !== 'account') throw new CarnetError('SESSION_UNKNOWN', 'unauthorized', 'Not a person’s session');
  const account = await accountById(ctx, s.subject_id);
  if (!account) throw new CarnetError('SESSION_UNKNOWN', 'unauthorized', 'The account no longer exists');
  const roles = await rolesOf(ctx, account.ins);
  const actor = await personActor(ctx, account, roles, input.actAs);
  const token = await mintSessionToken(ctx, issuer, actor, PERSON_SCOPES, { id: s.id, expiresAt: s.expires_at }, PORTAL_CLIENT_ID);
  return { status: 'authenticated', ...token, act_as: actor.kind, roles: rolesView(roles) };
}

export async function mySessions(ctx: Ctx, token: AccessContext): Promise<SessionView[]> {
  const { accountId, sessionId } = await accountOfToken(ctx, token);
  return listActiveSessions(ctx, 'account', accountId, sessionId);
}

export async function endMySession(ctx: Ctx, token: AccessContext, sessionId: string, reason: 'revoked_by_holder' | 'logout' = 'revoked_by_holder') {
  const { accountId } = await accountOfToken(ctx, token);
  await inTransaction(ctx, async (tx) => {
    await revokeSession(tx, 'account', accountId, sessionId, reason);
    const account = (await accountById(tx, accountId))!;
    await auditAccount(tx, account, { action: reason === 'logout' ? 'account.logout' : 'account.session.revoke', outcome: 'success', detail: { sessionId } });
  });
}
