/**
 * Opening an account (DOMAIN §3, §8). A holder activates with the one-time code of their opening
 * notice and their INS: a pending record is activated at once, the code is spent, and the account
 * is created with a password and — until TOTP is enrolled — one-time codes by e-mail as second
 * factor. A legal representative or caregiver who has no record of their own activates with an
 * invitation code issued for their link (`issueInvitation`); one who has a record uses its code.
 */
import { randomUUID } from 'node:crypto';
import { conflict, forbidden, invalid } from '../../domain/errors.ts';
import type { Actor } from '../../domain/access/types.ts';
import { canManageSharing } from '../../domain/access/index.ts';
import { parseIns } from '../../domain/ins.ts';
import { appendAudit } from '../../audit/audit.ts';
import { activateRecord } from '../recordLifecycle.ts';
import { auditActor, holderDemographics, recordById, relationshipOf } from '../internal/repo.ts';
import { hashSecret, newActivationCode, verifySecret } from '../internal/secrets.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { checkPasswordPolicy, hashPassword } from './passwords.ts';
import {
  auditAccount, availableRoles, checkEmail, createAccountKey, notifyAccount, rolesOf, rolesView, sealForAccount,
} from './common.ts';

export interface ActivateInput {
  ins: string;
  insOid?: string;
  /** The code of the opening notice, or an invitation code. */
  code: string;
  password: string;
  /** Where one-time codes go; defaults to the e-mail of the holder's record. */
  email?: string;
}

export interface ActivateResult {
  accountId: string;
  via: 'activation_code' | 'invitation';
  recordId?: string;
  recordState?: string;
  secondFactor: 'email';
  roles: ReturnType<typeof rolesView>;
}

/** Invitation codes stay valid 30 days. */
export const INVITATION_DAYS = 30;

export async function activateAccount(ctx: Ctx, input: ActivateInput): Promise<ActivateResult> {
  const ins = parseIns(input.ins, input.insOid);
  if (typeof input.code !== 'string' || !input.code.trim()) throw invalid('ACTIVATION_CODE_MISSING', 'The one-time code is required');
  checkPasswordPolicy(input.password, ins.value);
  const email = input.email !== undefined && input.email !== null && input.email !== '' ? checkEmail(input.email) : undefined;
  const passwordHash = await hashPassword(input.password);

  const out = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const existing = await tx.db.selectFrom('accounts').select('id').where('ins', '=', ins.value).executeTakeFirst();
    if (existing) throw conflict('ACCOUNT_EXISTS', 'An account already exists for this INS: log in, or reset the password');
    const record = await tx.db.selectFrom('records').selectAll().where('ins', '=', ins.value).executeTakeFirst();
    let via: ActivateResult['via'] | undefined;
    let invitationId: string | undefined;
    if (record && verifySecret(input.code, record.activation_code_hash)) via = 'activation_code';
    else {
      const invitations = await tx.db.selectFrom('account_codes').select(['id', 'code_hash']).where('purpose', '=', 'invitation')
        .where('person_ins', '=', ins.value).where('used_at', 'is', null).where('expires_at', '>', now.toISOString()).execute();
      const hit = invitations.find((i) => verifySecret(input.code, i.code_hash));
      if (hit) {
        via = 'invitation';
        invitationId = hit.id;
      }
    }
    if (!via) {
      // returned, not thrown, so that the audit entry commits
      if (record) {
        await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: { kind: 'holder', id: record.id }, action: 'account.activate', outcome: 'failure', reason: 'ACTIVATION_CODE_WRONG', at: now });
      } else {
        await appendAudit(tx.db, tx.engine, { actor: { kind: 'account', id: 'unknown' }, action: 'account.activate', outcome: 'failure', reason: 'ACTIVATION_CODE_WRONG', at: now });
      }
      return { wrongCode: true as const };
    }

    let recordState = record?.state;
    if (via === 'activation_code' && record) {
      if (record.state === 'pending') {
        recordState = (await activateRecord(tx, { kind: 'holder', id: record.id, name: 'Titulaire' }, record.id)).state;
      } else if (!['active', 'closed'].includes(record.state)) {
        throw conflict('RECORD_STATE', `An account cannot be opened on a record in state ${record.state}`, { details: { state: record.state } });
      }
      // the code is one-time: spent now
      await tx.db.updateTable('records').set({ activation_code_hash: null, updated_at: now.toISOString() }).where('id', '=', record.id).execute();
    } else if (invitationId) {
      await tx.db.updateTable('account_codes').set({ used_at: now.toISOString() }).where('id', '=', invitationId).execute();
    }

    const address = email ?? (record ? (await holderDemographics(tx, record))?.email : undefined);
    if (!address) throw invalid('EMAIL_REQUIRED', 'An e-mail address is required: one-time codes are sent there');
    const accountId = randomUUID();
    await createAccountKey(tx, accountId);
    await tx.db.insertInto('accounts').values({
      id: accountId, ins: ins.value, password_hash: passwordHash, second_factor: 'email',
      totp_secret_enc: null, totp_pending_enc: null, totp_last_step: null,
      email_enc: await sealForAccount(tx, accountId, 'email', checkEmail(address)),
      failed_count: 0, lock_count: 0, locked_until: null,
      created_at: now.toISOString(), updated_at: now.toISOString(), last_login_at: null,
    }).execute();
    const account = { id: accountId, ins: ins.value };
    const roles = await rolesOf(tx, ins.value);
    if (!availableRoles(roles).length) throw forbidden('ACCOUNT_NO_ROLE', 'This INS gives access to no record');
    await auditAccount(tx, account, { action: 'account.activate', outcome: 'success', detail: { via } });
    await notifyAccount(tx, account, 'account_activated', { via });
    return {
      accountId, via, secondFactor: 'email' as const, roles: rolesView(roles),
      ...(record && via === 'activation_code' ? { recordId: record.id, recordState } : {}),
    };
  });
  if ('wrongCode' in out) throw forbidden('ACTIVATION_CODE_WRONG', 'The code does not match this INS');
  return out;
}

/**
 * An invitation code for a linked legal representative or caregiver who has no record of their
 * own: issued by whoever may manage the record's sharing (the holder, a representative) or by the
 * operator; shown once, valid 30 days, only its hash kept.
 */
export async function issueInvitation(ctx: Ctx, actor: Actor, recordId: string, personId: string): Promise<{ code: string; expiresAt: string }> {
  const out = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    if (actor.kind !== 'operator') {
      const d = canManageSharing(actor, await relationshipOf(tx, record.id, actor));
      if (!d.allow) {
        await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: 'account.invite', outcome: 'deny', reason: d.reason, at: tx.clock() });
        return { denied: d };
      }
    }
    const person = await tx.db.selectFrom('record_persons').select(['person_ins']).where('record_id', '=', record.id).where('id', '=', personId)
      .where('removed_at', 'is', null).executeTakeFirst();
    if (!person) throw invalid('PERSON_UNKNOWN', 'No such linked person on this record');
    const code = newActivationCode();
    const now = tx.clock();
    const expiresAt = new Date(now.getTime() + INVITATION_DAYS * 86_400_000).toISOString();
    await tx.db.insertInto('account_codes').values({
      id: randomUUID(), account_id: null, purpose: 'invitation', handle_hash: null, code_hash: hashSecret(code), method: null,
      person_ins: person.person_ins, record_id: record.id, attempts: 0, created_at: now.toISOString(), expires_at: expiresAt, used_at: null,
    }).execute();
    await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: 'account.invite', outcome: 'success', detail: { personId }, at: now });
    return { code, expiresAt };
  });
  if ('denied' in out && out.denied) throw forbidden(out.denied.reason, out.denied.explanation.en);
  return out as { code: string; expiresAt: string };
}
