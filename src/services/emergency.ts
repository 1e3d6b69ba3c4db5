/**
 * Break-glass (L1111-17) and centre 15: a professional opens a time-boxed emergency session on a
 * record; the holder and the médecin traitant are notified at once (DOMAIN §5.8–9).
 */
import { randomUUID } from 'node:crypto';
import { CarnetError, invalid } from '../domain/errors.ts';
import type { Actor } from '../domain/access/types.ts';
import { emergencyWindowEnd } from '../domain/access/index.ts';
import { sealJson } from '../crypto/envelope.ts';
import { appendAudit } from '../audit/audit.ts';
import { aad, auditActor, recordById, settingsOf } from './internal/repo.ts';
import { medecinTraitantOf, notify, notifyHolder } from './internal/notify.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface EmergencySessionResult {
  sessionId: string;
  mode: 'bris_de_glace' | 'centre_15';
  startedAt: string;
  expiresAt: string;
}

export async function startEmergency(
  ctx: Ctx,
  actor: Actor,
  recordId: string,
  mode: 'bris_de_glace' | 'centre_15',
  justification: string,
): Promise<EmergencySessionResult> {
  if (actor.kind !== 'professional') throw new CarnetError('EMERGENCY_PROFESSIONALS_ONLY', 'forbidden', 'Only a health professional may open an emergency access');
  const text = (justification ?? '').trim();
  if (mode === 'bris_de_glace' && text.length < 5) {
    throw invalid('EMERGENCY_JUSTIFICATION_REQUIRED', 'Break-glass access needs a justification');
  }
  if (mode === 'centre_15' && actor.professionCode !== '10') {
    throw new CarnetError('CENTRE_15_PHYSICIANS_ONLY', 'forbidden', 'Centre 15 access is for SAMU regulating physicians');
  }
  const result = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    const settings = await settingsOf(tx, record.id);
    const now = tx.clock();
    const refusal =
      record.state !== 'active' ? 'DENY_RECORD_STATE'
      : mode === 'bris_de_glace' && !settings.breakGlassAllowed ? 'DENY_BREAK_GLASS_DISABLED'
      : mode === 'centre_15' && !settings.samuAllowed ? 'DENY_SAMU_DISABLED'
      : undefined;
    if (refusal) {
      await appendAudit(tx.db, tx.engine, {
        recordId: record.id, actor: auditActor(actor), action: 'emergency.start', mode, outcome: 'deny', reason: refusal, at: now,
      });
      return { refusal };
    }
    const id = randomUUID();
    const expiresAt = emergencyWindowEnd(now, tx.config.emergencyWindowHours).toISOString();
    await tx.db.insertInto('emergency_sessions').values({
      id, record_id: record.id, practitioner_id: actor.id, mode,
      justification_enc: sealJson(await tx.keys.get(tx.db, record.id), { text: text || 'centre 15' }, aad.justification(record.id, id)),
      started_at: now.toISOString(), expires_at: expiresAt,
    }).execute();
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: 'emergency.start', mode, outcome: 'allow',
      reason: mode === 'bris_de_glace' ? 'ALLOW_BRIS_DE_GLACE' : 'ALLOW_CENTRE_15', detail: { sessionId: id, expiresAt }, at: now,
    });
    const payload = { practitioner: actor.id, name: actor.name, professionCode: actor.professionCode, mode, startedAt: now.toISOString(), expiresAt };
    await notifyHolder(tx, record.id, { kind: 'emergency_access', payload, dedupeKey: `emergency:${id}:holder` });
    const mt = await medecinTraitantOf(tx, record.id);
    if (mt && mt !== actor.id) {
      await notify(tx, { recordId: record.id, recipient: { kind: 'professional', id: mt }, kind: 'emergency_access', payload, dedupeKey: `emergency:${id}:mt` });
    }
    return { session: { sessionId: id, mode, startedAt: now.toISOString(), expiresAt } };
  });
  if ('refusal' in result && result.refusal) {
    throw new CarnetError(result.refusal, result.refusal === 'DENY_RECORD_STATE' ? 'conflict' : 'forbidden', `Emergency access refused (${result.refusal})`);
  }
  return (result as { session: EmergencySessionResult }).session;
}

/**
 * A professional's software asserts an emergency mode in its token (IUA purpose_of_use): the first
 * request on a record opens the time-boxed session (with its notifications); later requests within
 * the window reuse it. Normal mode does nothing.
 */
export async function ensureEmergencySession(
  ctx: Ctx,
  actor: Actor,
  recordId: string,
  mode: 'normal' | 'bris_de_glace' | 'centre_15',
  justification: string | undefined,
): Promise<void> {
  if (mode === 'normal' || actor.kind !== 'professional') return;
  const now = ctx.clock().toISOString();
  const open = await ctx.db.selectFrom('emergency_sessions').select('id')
    .where('record_id', '=', recordId).where('practitioner_id', '=', actor.id).where('mode', '=', mode)
    .where('expires_at', '>', now).executeTakeFirst();
  if (open) return;
  await startEmergency(ctx, actor, recordId, mode, justification ?? '');
}
