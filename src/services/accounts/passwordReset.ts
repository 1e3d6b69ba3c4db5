/**
 * Password reset with a one-time code sent to the account's e-mail (through the outbox). Asking
 * never says whether the INS has an account. The code (8 characters, 15 minutes, 5 tries) sets a
 * new password, clears the failure count and the current lock (not the back-off), and ends every
 * session of the account. The second factor is kept: a reset does not bypass TOTP.
 */
import { randomUUID } from 'node:crypto';
import { CarnetError, invalid } from '../../domain/errors.ts';
import { parseIns } from '../../domain/ins.ts';
import { appendAudit } from '../../audit/audit.ts';
import { hashSecret, newActivationCode, verifySecret } from '../internal/secrets.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import { auditAccount, notifyAccount } from './common.ts';
import { revokeAllSessions } from './sessions.ts';

export const RESET = { ttlMs: 15 * 60_000, maxAttempts: 5 } as const;

/** Always answers the same way; writes a `password_reset_code` to the outbox when the account exists. */
export async function requestPasswordReset(ctx: Ctx, input: { ins: string; insOid?: string }): Promise<{ expiresInSeconds: number }> {
  const ins = parseIns(input.ins, input.insOid);
  await inTransaction(ctx, async (tx) => {
    const account = await tx.db.selectFrom('accounts').selectAll().where('ins', '=', ins.value).executeTakeFirst();
    const now = tx.clock();
    if (!account) {
      await appendAudit(tx.db, tx.engine, { actor: { kind: 'account', id: 'unknown' }, action: 'account.password.reset_request', outcome: 'failure', reason: 'ACCOUNT_UNKNOWN', at: now });
      return;
    }
    // one live code at a time
    await tx.db.updateTable('account_codes').set({ used_at: now.toISOString() }).where('account_id', '=', account.id)
      .where('purpose', '=', 'reset').where('used_at', 'is', null).execute();
    const code = newActivationCode().replace(/-/g, '').slice(0, 8);
    const expiresAt = new Date(now.getTime() + RESET.ttlMs).toISOString();
    await tx.db.insertInto('account_codes').values({
      id: randomUUID(), account_id: account.id, purpose: 'reset', handle_hash: null, code_hash: hashSecret(code), method: 'email',
      person_ins: null, record_id: null, attempts: 0, created_at: now.toISOString(), expires_at: expiresAt, used_at: null,
    }).execute();
    await notifyAccount(tx, account, 'password_reset_code', { code, expiresAt });
    await auditAccount(tx, account, { action: 'account.password.reset_request', outcome: 'success' });
  });
  return { expiresInSeconds: RESET.ttlMs / 1000 };
}

export async function resetPassword(ctx: Ctx, input: { ins: string; insOid?: string; code: string; password: string }): Promise<{ sessionsEnded: number }> {
  const ins = parseIns(input.ins, input.insOid);
  checkPasswordPolicy(input.password, ins.value);
  if (typeof input.code !== 'string' || !input.code.trim()) throw invalid('RESET_CODE_MISSING', 'The code is required');
  const passwordHash = await hashPassword(input.password);
  const out = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const account = await tx.db.selectFrom('accounts').selectAll().where('ins', '=', ins.value).executeTakeFirst();
    if (!account) return { wrong: true as const };
    const live = await tx.db.selectFrom('account_codes').selectAll().where('account_id', '=', account.id).where('purpose', '=', 'reset')
      .where('used_at', 'is', null).where('expires_at', '>', now.toISOString()).where('attempts', '<', RESET.maxAttempts).execute();
    const hit = live.find((c) => verifySecret(input.code, c.code_hash));
    if (!hit) {
      for (const c of live) await tx.db.updateTable('account_codes').set({ attempts: c.attempts + 1 }).where('id', '=', c.id).execute();
      await auditAccount(tx, account, { action: 'account.password.reset', outcome: 'failure', reason: 'RESET_CODE_WRONG' });
      return { wrong: true as const };
    }
    await tx.db.updateTable('account_codes').set({ used_at: now.toISOString() }).where('id', '=', hit.id).execute();
    await tx.db.updateTable('accounts').set({
      password_hash: passwordHash, failed_count: 0, locked_until: null, updated_at: now.toISOString(),
    }).where('id', '=', account.id).execute();
    const sessionsEnded = await revokeAllSessions(tx, 'account', account.id, 'password_reset');
    await auditAccount(tx, account, { action: 'account.password.reset', outcome: 'success', detail: { sessionsEnded } });
    await notifyAccount(tx, account, 'password_changed', {});
    return { sessionsEnded };
  });
  if ('wrong' in out) throw new CarnetError('RESET_CODE_WRONG', 'forbidden', 'The code is wrong or expired');
  return out;
}
