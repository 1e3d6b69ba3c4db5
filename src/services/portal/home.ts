/**
 * The holder's home: the record's state, what is new since the reader last looked (documents) and
 * the alerts of the notifications outbox — emergency accesses first, then new professionals, a
 * result awaiting its announcement, changes of the record's state.
 */
import type { Actor } from '../../domain/access/types.ts';
import { holderDemographics, holderDisplayName, recordById } from '../internal/repo.ts';
import { listDocuments } from '../readDocuments.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { readerKey, requireHolderSide, toPortalDocument, type PortalDocument } from './common.ts';

export const ALERT_KINDS = [
  'emergency_access',
  'first_access',
  'invisible_document_notice',
  'opening_notice',
  'record_opened',
  'record_closed',
  'record_reopened',
  'record_suspended',
] as const;

export interface Alert {
  id: string;
  kind: string;
  at: string;
  /** Came after the reader last marked their alerts as seen. */
  isNew: boolean;
  /** Emergency accesses are shown apart, always. */
  emergency: boolean;
  /** No health content: who, which mode, until when. */
  payload: Record<string, unknown>;
}

export interface HolderHome {
  record: { id: string; state: string; holderName: string; createdAt: string };
  documentsCount: number;
  newDocuments: PortalDocument[];
  alerts: Alert[];
  seenAt?: string;
}

const NEW_DOCUMENT_DAYS = 30;

export async function holderHome(ctx: Ctx, actor: Actor, recordId: string): Promise<HolderHome> {
  await requireHolderSide(ctx, actor, recordId);
  const record = await recordById(ctx, recordId);
  const seen = await ctx.db.selectFrom('portal_seen').select('seen_at').where('record_id', '=', recordId).where('reader', '=', readerKey(actor)).executeTakeFirst();
  const seenAt = seen?.seen_at;
  const listed = await listDocuments(ctx, actor, recordId);
  const horizon = new Date(ctx.clock().getTime() - NEW_DOCUMENT_DAYS * 86_400_000).toISOString();
  const since = seenAt && seenAt > horizon ? seenAt : horizon;
  const newDocuments = listed
    .filter((l) => l.document.submittedAt > since)
    .sort((a, b) => b.document.submittedAt.localeCompare(a.document.submittedAt) || b.document.creationTime.localeCompare(a.document.creationTime))
    .slice(0, 6)
    .map((l) => toPortalDocument(l.document, l.decision));
  const rows = await ctx.db
    .selectFrom('notifications')
    .selectAll()
    .where('record_id', '=', recordId)
    .where('recipient_kind', '=', 'holder')
    .where('kind', 'in', [...ALERT_KINDS])
    .orderBy('created_at', 'desc')
    .limit(50)
    .execute();
  const alerts: Alert[] = rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    at: r.created_at,
    isNew: !seenAt || r.created_at > seenAt,
    emergency: r.kind === 'emergency_access',
    payload: safePayload(JSON.parse(r.payload) as Record<string, unknown>),
  }));
  const demo = await holderDemographics(ctx, record);
  return {
    record: { id: record.id, state: record.state, holderName: holderDisplayName(demo), createdAt: record.created_at },
    documentsCount: listed.length,
    newDocuments,
    alerts,
    ...(seenAt ? { seenAt } : {}),
  };
}

/** Only the fields an alert shows (the outbox payloads carry no health content, keep it so). */
function safePayload(p: Record<string, unknown>): Record<string, unknown> {
  const keep = ['practitioner', 'name', 'professionCode', 'mode', 'startedAt', 'expiresAt', 'since', 'from', 'to'];
  return Object.fromEntries(Object.entries(p).filter(([k, v]) => keep.includes(k) && (typeof v === 'string' || typeof v === 'boolean')));
}

/** The reader has seen their alerts: what came before now is no longer "new". */
export async function markAlertsSeen(ctx: Ctx, actor: Actor, recordId: string): Promise<{ seenAt: string }> {
  await requireHolderSide(ctx, actor, recordId);
  const seenAt = ctx.clock().toISOString();
  await inTransaction(ctx, async (tx) => {
    await tx.db
      .insertInto('portal_seen')
      .values({ record_id: recordId, reader: readerKey(actor), seen_at: seenAt })
      .onConflict((oc) => oc.columns(['record_id', 'reader']).doUpdateSet({ seen_at: seenAt }))
      .execute();
  });
  return { seenAt };
}
