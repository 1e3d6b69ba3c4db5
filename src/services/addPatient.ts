import { randomUUID } from 'node:crypto';
import { parseIns } from '../domain/ins.ts';
import { conflict, invalid } from '../domain/errors.ts';
import { openRecord, applyEvent } from '../domain/lifecycle.ts';
import { sealJson } from '../crypto/envelope.ts';
import { appendAudit, startChain } from '../audit/audit.ts';
import { aad, type HolderDemographics } from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { newActivationCode, hashSecret } from './internal/secrets.ts';
import { DEFAULT_HOLDER_SETTINGS } from '../domain/access/types.ts';
import { dueAtOf } from './internal/lifecycle.ts';
import { inTransaction, type Ctx } from './context.ts';

export type IdentityStatus = 'provisoire' | 'recuperee' | 'validee' | 'qualifiee';

export interface AddPatientInput {
  ins: string;
  insOid?: string;
  identityStatus: IdentityStatus;
  demographics: HolderDemographics;
  minor?: boolean;
  /** Open at once (the person asked for it) instead of the 6-week opposition window. */
  activateNow?: boolean;
}

export interface AddPatientResult {
  recordId: string;
  ins: string;
  state: string;
  /** Shown once (opening notice); only its hash is kept. */
  activationCode: string;
}

/**
 * Loads a person into Carnet (DOMAIN §3): a record in `pending` with its opening notice and
 * 6-week opposition window, its own data key, the holder's demographics sealed under it.
 */
export async function addPatient(ctx: Ctx, input: AddPatientInput): Promise<AddPatientResult> {
  const ins = parseIns(input.ins, input.insOid);
  const d = input.demographics;
  if (!d.birthName?.trim() || !d.firstNames?.length || !d.birthDate) {
    throw invalid('IDENTITY_TRAITS_MISSING', 'Birth name, first names and birth date are required');
  }
  return inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const exists = await tx.db.selectFrom('records').select('id').where('ins', '=', ins.value).executeTakeFirst();
    if (exists) throw conflict('RECORD_EXISTS', 'A record already exists for this INS');
    const recordId = randomUUID();
    let lc = openRecord(now, { windowDays: tx.config.oppositionWindowDays });
    if (input.activateNow) lc = applyEvent(lc, { type: 'activate' }, now);
    const key = await tx.keys.create(tx.db, recordId, now);
    const code = newActivationCode();
    await tx.db
      .insertInto('records')
      .values({
        id: recordId,
        ins: ins.value,
        ins_oid: ins.oid,
        identity_status: input.identityStatus,
        state: lc.state,
        lifecycle: JSON.stringify(lc),
        due_at: dueAtOf(lc),
        minor: input.minor ? 1 : 0,
        holder_enc: sealJson(key, d, aad.holder(recordId)),
        activation_code_hash: hashSecret(code),
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .execute();
    await tx.db
      .insertInto('record_settings')
      .values({
        record_id: recordId,
        samu_allowed: DEFAULT_HOLDER_SETTINGS.samuAllowed ? 1 : 0,
        break_glass_allowed: DEFAULT_HOLDER_SETTINGS.breakGlassAllowed ? 1 : 0,
        masked_in_emergency: DEFAULT_HOLDER_SETTINGS.maskedInEmergency ? 1 : 0,
        mask_new_by_default: DEFAULT_HOLDER_SETTINGS.maskNewByDefault ? 1 : 0,
        updated_at: now.toISOString(),
      })
      .execute();
    await startChain(tx.db, recordId);
    await appendAudit(tx.db, tx.engine, {
      recordId, actor: { kind: 'operator', id: 'carnet', name: 'Carnet' }, action: 'record.create', outcome: 'success',
      detail: { state: lc.state, identityStatus: input.identityStatus }, at: now,
    });
    await notifyHolder(tx, recordId, {
      kind: lc.state === 'pending' ? 'opening_notice' : 'record_opened',
      payload: { state: lc.state, pendingUntil: lc.pendingUntil ?? null },
    });
    return { recordId, ins: ins.value, state: lc.state, activationCode: code };
  });
}
