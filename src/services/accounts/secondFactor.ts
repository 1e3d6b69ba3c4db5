/**
 * Enrolling TOTP as second factor: the logged-in person asks for a secret (giving their password
 * again, so a stolen access token alone cannot swap the factor), adds it to an authenticator app
 * from the `otpauth://` URI, and confirms with a first code; only then does TOTP replace the
 * e-mailed codes. The secret is sealed under the account's key, never stored or logged in clear.
 */
import { CarnetError, conflict, invalid } from '../../domain/errors.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { verifyPassword } from './passwords.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';
import { accountById, auditAccount, openForAccount, sealForAccount } from './common.ts';

const maskedIns = (ins: string) => `${ins.slice(0, 1)}…${ins.slice(-4)}`;

export async function startTotpEnrolment(ctx: Ctx, accountId: string, password: string): Promise<{ secret: string; otpauthUri: string }> {
  const account = await accountById(ctx, accountId);
  if (!account) throw new CarnetError('ACCOUNT_UNKNOWN', 'unauthorized', 'No such account');
  if (typeof password !== 'string' || !(await verifyPassword(password, account.password_hash))) {
    await inTransaction(ctx, (tx) => auditAccount(tx, account, { action: 'account.totp.enrol', outcome: 'failure', reason: 'PASSWORD_WRONG' }));
    throw new CarnetError('PASSWORD_WRONG', 'forbidden', 'The password is wrong');
  }
  const secret = newTotpSecret();
  await inTransaction(ctx, async (tx) => {
    await tx.db.updateTable('accounts').set({
      totp_pending_enc: await sealForAccount(tx, account.id, 'totp-pending', secret), updated_at: tx.clock().toISOString(),
    }).where('id', '=', account.id).execute();
    await auditAccount(tx, account, { action: 'account.totp.enrol', outcome: 'success', detail: { step: 'start' } });
  });
  return { secret, otpauthUri: totpUri(secret, `Carnet:${maskedIns(account.ins)}`) };
}

export async function confirmTotpEnrolment(ctx: Ctx, accountId: string, code: string): Promise<{ secondFactor: 'totp' }> {
  const account = await accountById(ctx, accountId);
  if (!account) throw new CarnetError('ACCOUNT_UNKNOWN', 'unauthorized', 'No such account');
  if (!account.totp_pending_enc) throw conflict('TOTP_NOT_STARTED', 'Start the TOTP enrolment first');
  if (typeof code !== 'string') throw invalid('TOTP_CODE_MISSING', 'A code is required');
  const secret = await openForAccount(ctx, account.id, 'totp-pending', account.totp_pending_enc);
  const step = await checkTotp(secret, code, ctx.clock());
  if (step === undefined) {
    await inTransaction(ctx, (tx) => auditAccount(tx, account, { action: 'account.totp.confirm', outcome: 'failure', reason: 'TOTP_WRONG' }));
    throw new CarnetError('TOTP_WRONG', 'forbidden', 'The code does not match the new secret');
  }
  await inTransaction(ctx, async (tx) => {
    await tx.db.updateTable('accounts').set({
      second_factor: 'totp', totp_secret_enc: await sealForAccount(tx, account.id, 'totp', secret), totp_pending_enc: null,
      totp_last_step: step, updated_at: tx.clock().toISOString(),
    }).where('id', '=', account.id).execute();
    await auditAccount(tx, account, { action: 'account.totp.confirm', outcome: 'success' });
  });
  return { secondFactor: 'totp' };
}
