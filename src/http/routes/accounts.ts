/**
 * Holder, legal representative and caregiver accounts over HTTP (docs/accounts.md): activation or
 * objection with the opening notice's code, login (password + TOTP or e-mailed code), password
 * reset, TOTP enrolment, sessions (fresh token, list, revoke, log out), invitations for linked
 * persons. Thin: read the JSON body, call services/accounts, answer JSON (errors: OperationOutcome).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../../domain/errors.ts';
import { opposeRecord } from '../../services/recordLifecycle.ts';
import { activateAccount, issueInvitation } from '../../services/accounts/activate.ts';
import { completeLogin, login, type ClientInfo } from '../../services/accounts/login.ts';
import { requestPasswordReset, resetPassword } from '../../services/accounts/passwordReset.ts';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../services/accounts/secondFactor.ts';
import { accountOfToken, endMySession, mySessions, refreshPersonToken } from '../../services/accounts/accountSessions.ts';
import { accountById } from '../../services/accounts/common.ts';
import type { TokenIssuer } from '../../services/accounts/sessions.ts';
import { authenticate } from '../auth.ts';
import type { RouteDeps } from '../app.ts';

type Body = Record<string, unknown>;

export function bodyOf(req: FastifyRequest): Body {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('BODY_EXPECTED', 'A JSON object body is expected');
  return b as Body;
}

/** A string field of the body (required unless `optional`). */
export function field(b: Body, name: string, optional = false): string | undefined {
  const v = b[name];
  if (v === undefined || v === null || v === '') {
    if (optional) return undefined;
    throw invalid('FIELD_MISSING', `The field ${name} is required`, { expression: [name] });
  }
  if (typeof v !== 'string' || v.length > 1000) throw invalid('FIELD_INVALID', `The field ${name} must be a string`, { expression: [name] });
  return v;
}
const req$ = (b: Body, name: string) => field(b, name) as string;

export const clientInfo = (req: FastifyRequest): ClientInfo => ({
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
  ip: req.ip,
});

export const tokenIssuer = (deps: RouteDeps): TokenIssuer => ({ signer: deps.signingKey, issuer: deps.issuer, audience: deps.fhirBase });

/** Answers carrying secrets or tokens are never cached. */
export const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

/** Stricter than the global limit: login-like routes, per client address (CARNET_LOGIN_RATE_LIMIT a minute, 30). */
export const loginRateLimit = () => ({ rateLimit: { max: Number(process.env.CARNET_LOGIN_RATE_LIMIT ?? 30), timeWindow: '1 minute' } });

export function registerAccounts(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  const LOGIN_RATE_LIMIT = loginRateLimit();
  const issuer = tokenIssuer(deps);

  app.post('/accounts/activate', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await activateAccount(ctx, {
      ins: req$(b, 'ins'), insOid: field(b, 'ins_oid', true), code: req$(b, 'code'), password: req$(b, 'password'), email: field(b, 'email', true),
    });
    return noStore(reply).code(201).send({
      account_id: r.accountId, via: r.via, second_factor: r.secondFactor, roles: r.roles,
      ...(r.recordId ? { record_id: r.recordId, record_state: r.recordState } : {}),
    });
  });

  // objection to the opening, with the same code (DOMAIN §3): the signed proof comes back
  app.post('/accounts/oppose', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await opposeRecord(ctx, { ins: req$(b, 'ins'), insOid: field(b, 'ins_oid', true), activationCode: req$(b, 'code') });
    return noStore(reply).send({
      record_id: r.recordId, record_state: r.state, proof_id: r.proofId, opposed_at: r.opposedAt, statement: r.statement, signature: r.signature,
    });
  });

  app.post('/accounts/login', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await login(ctx, issuer, {
      ins: req$(b, 'ins'), insOid: field(b, 'ins_oid', true), password: req$(b, 'password'), otp: field(b, 'otp', true),
      actAs: field(b, 'act_as', true), client: clientInfo(req),
    });
    return noStore(reply).send(r);
  });

  app.post('/accounts/login/second-factor', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await completeLogin(ctx, issuer, { challenge: req$(b, 'challenge'), code: req$(b, 'code'), actAs: field(b, 'act_as', true), client: clientInfo(req) });
    return noStore(reply).send(r);
  });

  app.post('/accounts/password/forgot', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await requestPasswordReset(ctx, { ins: req$(b, 'ins'), insOid: field(b, 'ins_oid', true) });
    // the same answer whether or not the INS has an account
    return reply.code(202).send({ status: 'sent_if_account_exists', expires_in: r.expiresInSeconds });
  });

  app.post('/accounts/password/reset', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await resetPassword(ctx, { ins: req$(b, 'ins'), insOid: field(b, 'ins_oid', true), code: req$(b, 'code'), password: req$(b, 'password') });
    return noStore(reply).send({ status: 'password_changed', sessions_ended: r.sessionsEnded });
  });

  app.post('/accounts/session/token', { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const b = bodyOf(req);
    const r = await refreshPersonToken(ctx, issuer, { sessionSecret: req$(b, 'session_secret'), actAs: field(b, 'act_as', true) });
    return noStore(reply).send(r);
  });

  app.get('/accounts/sessions', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const sessions = await mySessions(ctx, caller.token);
    return noStore(reply).send({
      sessions: sessions.map((s) => ({
        id: s.id, method: s.method, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt,
        user_agent: s.userAgent, ip: s.ip, current: s.current,
      })),
    });
  });

  app.delete<{ Params: { id: string } }>('/accounts/sessions/:id', async (req, reply) => {
    const caller = await authenticate(req, deps);
    await endMySession(ctx, caller.token, req.params.id);
    return reply.code(204).send();
  });

  app.post('/accounts/logout', async (req, reply) => {
    const caller = await authenticate(req, deps);
    await endMySession(ctx, caller.token, caller.token.sessionId ?? '', 'logout');
    return reply.code(204).send();
  });

  app.post('/accounts/totp', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const { accountId } = await accountOfToken(ctx, caller.token);
    const r = await startTotpEnrolment(ctx, accountId, req$(bodyOf(req), 'password'));
    return noStore(reply).send({ secret: r.secret, otpauth_uri: r.otpauthUri });
  });

  // which second factor the person's account uses (the portal's "Double authentification" section)
  app.get('/accounts/totp', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const { accountId } = await accountOfToken(ctx, caller.token);
    const account = await accountById(ctx, accountId);
    return noStore(reply).send({ second_factor: account?.second_factor === 'totp' ? 'totp' : 'email', enrolment_pending: !!account?.totp_pending_enc });
  });

  app.post('/accounts/totp/confirm', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const { accountId } = await accountOfToken(ctx, caller.token);
    const r = await confirmTotpEnrolment(ctx, accountId, req$(bodyOf(req), 'code'));
    return noStore(reply).send({ second_factor: r.secondFactor });
  });

  // an invitation code for a linked representative or caregiver who has no record of their own
  app.post('/accounts/invitations', async (req, reply) => {
    const caller = await authenticate(req, deps);
    const b = bodyOf(req);
    const r = await issueInvitation(ctx, caller.actor, req$(b, 'record_id'), req$(b, 'person_id'));
    return noStore(reply).code(201).send({ code: r.code, expires_at: r.expiresAt });
  });
}
