/**
 * Holder, representative and caregiver login: password, then the second factor (a TOTP code, or a
 * one-time code sent by e-mail through the outbox), then a session and a Carnet access token. Every
 * success, failure and lockout is audited on the chains of the person's records. Failures of either
 * step count towards the lockout (lockout.ts); a locked account is refused before its password is
 * checked. Unknown INS and wrong password give the same answer, after the same work.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { CarnetError, invalid } from '../../domain/errors.ts';
import { parseIns } from '../../domain/ins.ts';
import { appendAudit } from '../../audit/audit.ts';
import { hashSecret, verifySecret } from '../internal/secrets.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';
import { checkTotp } from './totp.ts';
import { afterFailure, isLocked, LOCKOUT } from './lockout.ts';
import {
  accountById, auditAccount, notifyAccount, openForAccount, personActor, PERSON_SCOPES, PORTAL_CLIENT_ID, rolesOf, rolesView,
  type AccountRow,
} from './common.ts';
import { createSession, mintSessionToken, sha256, type LoginMethod, type SessionTokenResponse, type TokenIssuer } from './sessions.ts';

/** A second-factor challenge lives 10 minutes and takes at most 5 wrong codes. */
export const CHALLENGE = { ttlMs: 10 * 60_000, maxAttempts: 5 } as const;

export interface ClientInfo {
  userAgent?: string;
  ip?: string;
}

export interface LoginInput {
  ins: string;
  insOid?: string;
  password: string;
  /** TOTP code, to log in in one step when TOTP is the account's second factor. */
  otp?: string;
  /** holder | legal_representative | caregiver (default: the first the person has). */
  actAs?: string;
  client?: ClientInfo;
}

export type PersonTokenResponse = SessionTokenResponse & { status: 'authenticated'; act_as: string; roles: ReturnType<typeof rolesView> };
export type SecondFactorRequired = { status: 'second_factor_required'; challenge: string; method: 'totp' | 'email'; expires_at: string };

const loginFailed = () => new CarnetError('LOGIN_FAILED', 'unauthorized', 'Unknown INS or wrong password');
const locked = (until: string) =>
  new CarnetError('ACCOUNT_LOCKED', 'forbidden', 'Too many failed attempts: this account is locked for now; try again later or reset the password', {
    details: { lockedUntil: until },
  });

/** One more failed attempt, committed with its audit entries (and the lock, when it is the fifth). */
async function recordFailure(ctx: Ctx, accountId: string, reason: string, step: 'password' | 'second_factor'): Promise<CarnetError> {
  return inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const rows = await tx.db.selectFrom('accounts').selectAll().where('id', '=', accountId).$if(tx.engine === 'postgres', (q) => q.forUpdate()).execute();
    const account = rows[0];
    const next = afterFailure({ failedCount: account.failed_count, lockCount: account.lock_count, lockedUntil: account.locked_until }, now);
    await tx.db.updateTable('accounts').set({
      failed_count: next.failedCount, lock_count: next.lockCount, locked_until: next.lockedUntil, updated_at: now.toISOString(),
    }).where('id', '=', account.id).execute();
    await auditAccount(tx, account, { action: 'account.login', outcome: 'failure', reason, detail: { step, failures: next.lockedNow ? LOCKOUT.maxFailures : next.failedCount } });
    if (next.lockedNow) {
      await auditAccount(tx, account, { action: 'account.lockout', outcome: 'success', detail: { lockedUntil: next.lockedUntil, lockCount: next.lockCount } });
      await notifyAccount(tx, account, 'account_locked', { lockedUntil: next.lockedUntil });
      return locked(next.lockedUntil!);
    }
    return step === 'password' ? loginFailed() : new CarnetError('SECOND_FACTOR_WRONG', 'unauthorized', 'The one-time code is wrong or expired');
  });
}

async function refuseLocked(ctx: Ctx, account: AccountRow): Promise<CarnetError> {
  await inTransaction(ctx, (tx) => auditAccount(tx, account, { action: 'account.login', outcome: 'failure', reason: 'ACCOUNT_LOCKED', detail: { lockedUntil: account.locked_until } }));
  return locked(account.locked_until!);
}

/** Step 1: INS + password (+ TOTP code in one go). */
export async function login(ctx: Ctx, issuer: TokenIssuer, input: LoginInput): Promise<PersonTokenResponse | SecondFactorRequired> {
  const ins = parseIns(input.ins, input.insOid);
  if (typeof input.password !== 'string' || !input.password) throw invalid('PASSWORD_MISSING', 'A password is required');
  const account = await ctx.db.selectFrom('accounts').selectAll().where('ins', '=', ins.value).executeTakeFirst();
  if (!account) {
    await burnPasswordCheck(input.password);
    await inTransaction(ctx, (tx) => appendAudit(tx.db, tx.engine, { actor: { kind: 'account', id: 'unknown' }, action: 'account.login', outcome: 'failure', reason: 'ACCOUNT_UNKNOWN', at: tx.clock() }));
    throw loginFailed();
  }
  if (isLocked({ lockedUntil: account.locked_until }, ctx.clock())) throw await refuseLocked(ctx, account);
  if (!(await verifyPassword(input.password, account.password_hash))) throw await recordFailure(ctx, account.id, 'PASSWORD_WRONG', 'password');

  if (account.second_factor === 'totp' && input.otp !== undefined && input.otp !== '') {
    const step = await totpStep(ctx, account, input.otp);
    if (step === undefined) throw await recordFailure(ctx, account.id, 'TOTP_WRONG', 'second_factor');
    return finish(ctx, issuer, account.id, 'password+totp', { totpStep: step, actAs: input.actAs, client: input.client });
  }
  return startChallenge(ctx, account);
}

async function totpStep(ctx: Ctx, account: AccountRow, code: string): Promise<number | undefined> {
  if (!account.totp_secret_enc) return undefined;
  const secret = await openForAccount(ctx, account.id, 'totp', account.totp_secret_enc);
  return checkTotp(secret, code, ctx.clock(), account.totp_last_step);
}

async function startChallenge(ctx: Ctx, account: AccountRow): Promise<SecondFactorRequired> {
  const method = account.second_factor === 'totp' ? 'totp' : 'email';
  const handle = randomBytes(32).toString('base64url');
  return inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const expiresAt = new Date(now.getTime() + CHALLENGE.ttlMs).toISOString();
    // spent or stale challenges of this account are useless: keep the table small
    await tx.db.deleteFrom('account_codes').where('account_id', '=', account.id).where('purpose', '=', 'login')
      .where('expires_at', '<', new Date(now.getTime() - 86_400_000).toISOString()).execute();
    let codeHash: string | null = null;
    if (method === 'email') {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      codeHash = hashSecret(code);
      await notifyAccount(tx, account, 'login_code', { code, expiresAt });
    }
    await tx.db.insertInto('account_codes').values({
      id: randomUUID(), account_id: account.id, purpose: 'login', handle_hash: sha256(handle), code_hash: codeHash, method,
      person_ins: null, record_id: null, attempts: 0, created_at: now.toISOString(), expires_at: expiresAt, used_at: null,
    }).execute();
    return { status: 'second_factor_required' as const, challenge: handle, method, expires_at: expiresAt };
  });
}

/** Step 2: the challenge handle and the code (TOTP or e-mailed). */
export async function completeLogin(
  ctx: Ctx,
  issuer: TokenIssuer,
  input: { challenge: string; code: string; actAs?: string; client?: ClientInfo },
): Promise<PersonTokenResponse> {
  if (typeof input.challenge !== 'string' || !input.challenge || typeof input.code !== 'string') {
    throw invalid('CHALLENGE_MISSING', 'challenge and code are required');
  }
  const now = ctx.clock();
  const ch = await ctx.db.selectFrom('account_codes').selectAll().where('handle_hash', '=', sha256(input.challenge))
    .where('purpose', '=', 'login').executeTakeFirst();
  if (!ch || ch.used_at || now.toISOString() >= ch.expires_at || ch.attempts >= CHALLENGE.maxAttempts || !ch.account_id) {
    throw new CarnetError('CHALLENGE_EXPIRED', 'unauthorized', 'This login step has expired: start again with the password');
  }
  const account = (await accountById(ctx, ch.account_id))!;
  if (isLocked({ lockedUntil: account.locked_until }, now)) throw await refuseLocked(ctx, account);
  let totp: number | undefined;
  let ok: boolean;
  if (ch.method === 'totp') {
    totp = await totpStep(ctx, account, input.code);
    ok = totp !== undefined;
  } else {
    ok = /^\d{6}$/.test(input.code.trim()) && verifySecret(input.code.trim(), ch.code_hash);
  }
  if (!ok) {
    await ctx.db.updateTable('account_codes').set({ attempts: ch.attempts + 1 }).where('id', '=', ch.id).execute();
    throw await recordFailure(ctx, account.id, ch.method === 'totp' ? 'TOTP_WRONG' : 'EMAIL_CODE_WRONG', 'second_factor');
  }
  // spent at once, atomically: a second use of the same challenge finds it used
  const spent = await ctx.db.updateTable('account_codes').set({ used_at: now.toISOString() }).where('id', '=', ch.id).where('used_at', 'is', null).executeTakeFirst();
  if (!Number(spent.numUpdatedRows)) throw new CarnetError('CHALLENGE_EXPIRED', 'unauthorized', 'This login step was already used');
  return finish(ctx, issuer, account.id, ch.method === 'totp' ? 'password+totp' : 'password+email', { totpStep: totp, actAs: input.actAs, client: input.client });
}

/** Both factors passed: counters reset, session opened, token minted, success audited. */
async function finish(
  ctx: Ctx,
  issuer: TokenIssuer,
  accountId: string,
  method: LoginMethod,
  o: { totpStep?: number; actAs?: string; client?: ClientInfo },
): Promise<PersonTokenResponse> {
  const r = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const account = (await accountById(tx, accountId))!;
    const roles = await rolesOf(tx, account.ins);
    const actor = await personActor(tx, account, roles, o.actAs);
    await tx.db.updateTable('accounts').set({
      failed_count: 0, lock_count: 0, locked_until: null, last_login_at: now.toISOString(), updated_at: now.toISOString(),
      ...(o.totpStep !== undefined ? { totp_last_step: o.totpStep } : {}),
    }).where('id', '=', account.id).execute();
    const session = await createSession(tx, { subjectKind: 'account', subjectId: account.id, method, userAgent: o.client?.userAgent, ip: o.client?.ip });
    await auditAccount(tx, account, { action: 'account.login', outcome: 'success', detail: { method, sessionId: session.id, actAs: actor.kind } });
    return { session, actor, roles };
  });
  const token = await mintSessionToken(ctx, issuer, r.actor, PERSON_SCOPES, r.session, PORTAL_CLIENT_ID);
  return { status: 'authenticated', ...token, act_as: r.actor.kind, roles: rolesView(r.roles) };
}
