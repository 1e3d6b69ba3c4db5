/**
 * The notifications outbox (DOMAIN §6): rows written in the same transaction as what they announce;
 * delivery (e-mail, in-app, SMS) reads them later. Payloads carry no health content.
 */
import { randomUUID } from 'node:crypto';
import type { Ctx } from '../context.ts';

export type NotificationKind =
  | 'opening_notice'
  | 'record_opened'
  | 'record_opposed'
  | 'record_closed'
  | 'record_deleted'
  | 'record_reopened'
  | 'record_suspended'
  | 'new_document'
  | 'first_access'
  | 'emergency_access'
  | 'invisible_document_notice'
  | 'consent_changed'
  | 'block_changed';

export interface NotificationInput {
  recordId: string;
  recipient: { kind: 'holder' | 'professional' | 'legal_representative'; id: string };
  kind: NotificationKind;
  payload: Record<string, unknown>;
  dueAt?: Date;
  /** Makes the notification idempotent (e.g. one first-access notice per professional). */
  dedupeKey?: string;
}

export async function notify(ctx: Ctx, n: NotificationInput): Promise<void> {
  const now = ctx.clock();
  await ctx.db
    .insertInto('notifications')
    .values({
      id: randomUUID(),
      record_id: n.recordId,
      recipient_kind: n.recipient.kind,
      recipient_id: n.recipient.id,
      kind: n.kind,
      payload: JSON.stringify(n.payload),
      created_at: now.toISOString(),
      due_at: (n.dueAt ?? now).toISOString(),
      delivered_at: null,
      dedupe_key: n.dedupeKey ?? null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

/** The holder, plus their legal representatives (who act for a minor). */
export async function notifyHolder(ctx: Ctx, recordId: string, n: Omit<NotificationInput, 'recordId' | 'recipient'>) {
  await notify(ctx, { ...n, recordId, recipient: { kind: 'holder', id: recordId } });
  const reps = await ctx.db
    .selectFrom('record_persons')
    .select('person_ins')
    .where('record_id', '=', recordId)
    .where('kind', '=', 'legal_representative')
    .where('removed_at', 'is', null)
    .execute();
  for (const r of reps) {
    await notify(ctx, {
      ...n, recordId, recipient: { kind: 'legal_representative', id: r.person_ins },
      dedupeKey: n.dedupeKey ? `${n.dedupeKey}:rep:${r.person_ins}` : undefined,
    });
  }
}

export async function medecinTraitantOf(ctx: Ctx, recordId: string): Promise<string | undefined> {
  const row = await ctx.db
    .selectFrom('record_access')
    .select('practitioner_id')
    .where('record_id', '=', recordId)
    .where('kind', '=', 'medecin_traitant')
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row?.practitioner_id;
}

export async function listNotifications(ctx: Ctx, recordId: string) {
  return ctx.db.selectFrom('notifications').selectAll().where('record_id', '=', recordId).orderBy('created_at').execute();
}
