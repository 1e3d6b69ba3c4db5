/**
 * What may change on a filed document (TD3.3): logical deletion (entered-in-error) by its author or
 * the author's organisation only; archive; masking (MASQUE_PS) by the holder's side or the author;
 * INVISIBLE_PATIENT set by the author and lifted by an announcement. Flags that cannot be combined
 * are refused.
 */
import { CarnetError, forbidden } from '../domain/errors.ts';
import { flagsOf, type VisibilityFlag } from '../domain/document.ts';
import type { Actor } from '../domain/access/types.ts';
import { canManageSharing, validateVisibilityFlags } from '../domain/access/index.ts';
import { appendAudit } from '../audit/audit.ts';
import { auditActor, documentRowById, recordById, relationshipOf, storedDocument } from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { inTransaction, type Ctx } from './context.ts';
import type { DocumentTable } from '../store/schema.ts';

const isAuthorSide = (actor: Actor, row: DocumentTable) => {
  if (actor.kind === 'holder') return row.filed_by_kind === 'holder' && row.record_id === actor.id;
  if (actor.kind !== 'professional') return false;
  const authors: string[] = JSON.parse(row.author_ids);
  const orgs: string[] = JSON.parse(row.author_orgs);
  return (
    authors.includes(actor.id) ||
    (row.filed_by_kind === 'professional' && row.filed_by_id === actor.id) ||
    (!!actor.organisation && (orgs.includes(actor.organisation) || row.filed_by_org === actor.organisation))
  );
};

async function change(
  ctx: Ctx,
  actor: Actor,
  documentId: string,
  action: string,
  allowed: (row: DocumentTable, manager: boolean) => boolean,
  apply: (row: DocumentTable) => Partial<DocumentTable> | Promise<Partial<DocumentTable>>,
) {
  const row0 = await documentRowById(ctx, documentId);
  const out = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, row0.record_id);
    const row = (await tx.db.selectFrom('documents').selectAll().where('record_id', '=', record.id).where('id', '=', documentId).executeTakeFirst())!;
    const manager = canManageSharing(actor, await relationshipOf(tx, record.id, actor)).allow;
    if (!allowed(row, manager)) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action, documentId, outcome: 'deny', reason: 'NOT_AUTHOR', at: tx.clock() });
      return { denied: true as const };
    }
    if (row.status === 'entered-in-error') throw new CarnetError('DOCUMENT_DELETED', 'gone', 'This document was deleted');
    const patch = await apply(row);
    await tx.db.updateTable('documents').set(patch).where('record_id', '=', record.id).where('id', '=', documentId).execute();
    await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action, documentId, outcome: 'success', at: tx.clock() });
    const updated = { ...row, ...patch } as DocumentTable;
    return { document: storedDocument(updated, await tx.keys.get(tx.db, record.id)), record };
  });
  if ('denied' in out) throw forbidden('NOT_AUTHOR', 'Only the author of the document, its organisation or the holder may do this');
  return out.document;
}

const labelsOf = (row: DocumentTable): string[] => JSON.parse(row.security_labels);

function withFlag(row: DocumentTable, flag: VisibilityFlag, on: boolean): string[] {
  const labels = labelsOf(row).filter((c) => c !== flag);
  if (on) labels.push(flag);
  validateVisibilityFlags(flagsOf(labels.map((code) => ({ code }))));
  return labels;
}

/** TD3.3c: logical deletion, by the author or the author's organisation only (DOMAIN §4). */
export const deleteDocument = (ctx: Ctx, actor: Actor, documentId: string) =>
  change(ctx, actor, documentId, 'document.delete', (row) => isAuthorSide(actor, row), () => ({ status: 'entered-in-error' }));

/** TD3.3d: archive (hidden from default views) or un-archive. */
export const archiveDocument = (ctx: Ctx, actor: Actor, documentId: string, archived = true) =>
  change(ctx, actor, documentId, archived ? 'document.archive' : 'document.unarchive',
    (row, manager) => isAuthorSide(actor, row) || manager, () => ({ archived: archived ? 1 : 0 }));

/** TD3.3a: masked from professionals (MASQUE_PS) — the holder's side, or the author at their request. */
export const setMasked = (ctx: Ctx, actor: Actor, documentId: string, masked: boolean) =>
  change(ctx, actor, documentId, masked ? 'document.mask' : 'document.unmask',
    (row, manager) => manager || isAuthorSide(actor, row),
    (row) => ({ security_labels: JSON.stringify(withFlag(row, 'MASQUE_PS', masked)) }));

/** TD3.3b: hidden from the patient until an announcement consultation — set by the author only. */
export const setInvisibleToPatient = (ctx: Ctx, actor: Actor, documentId: string, invisible: boolean) =>
  change(ctx, actor, documentId, invisible ? 'document.hide_from_patient' : 'document.announce',
    (row) => actor.kind === 'professional' && isAuthorSide(actor, row),
    (row) => ({
      security_labels: JSON.stringify(withFlag(row, 'INVISIBLE_PATIENT', invisible)),
      invisible_since: invisible ? (row.invisible_since ?? ctx.clock().toISOString()) : row.invisible_since,
      announced_at: invisible ? null : ctx.clock().toISOString(),
    }));

/** The announcement consultation happened: the document becomes visible to the holder. */
export const announceDocument = (ctx: Ctx, actor: Actor, documentId: string) => setInvisibleToPatient(ctx, actor, documentId, false);

/** A minor hides a document about a confidential act from their legal representatives (R1111-50). */
export const setHiddenFromRepresentatives = (ctx: Ctx, actor: Actor, documentId: string, hidden: boolean) =>
  change(ctx, actor, documentId, hidden ? 'document.hide_from_representatives' : 'document.show_to_representatives',
    (row) => (actor.kind === 'holder' && row.record_id === actor.id) || isAuthorSide(actor, row),
    (row) => ({ security_labels: JSON.stringify(withFlag(row, 'INVISIBLE_REPRESENTANTS_LEGAUX', hidden)) }));

/**
 * The daily job's part for invisible documents: after 2 weeks without an announcement, the holder
 * is told a result awaits them (once per document). After a month it is visible by itself: the
 * access decision reads the date, nothing to write.
 */
export async function invisibleNotices(ctx: Ctx): Promise<number> {
  const now = ctx.clock();
  const cutoff = new Date(now.getTime() - 14 * 86_400_000).toISOString();
  // a job across records: it reads only ids and dates, then writes per record
  const due = await ctx.db.selectFrom('documents').select(['id', 'record_id', 'invisible_since'])
    .where('invisible_since', '<=', cutoff).where('announced_at', 'is', null).where('status', '=', 'current').execute();
  let n = 0;
  for (const d of due) {
    await inTransaction(ctx, async (tx) => {
      const before = await tx.db.selectFrom('notifications').select('id').where('record_id', '=', d.record_id)
        .where('dedupe_key', '=', `invisible-notice:${d.id}`).executeTakeFirst();
      if (before) return;
      await notifyHolder(tx, d.record_id, { kind: 'invisible_document_notice', payload: { documentId: d.id, since: d.invisible_since }, dedupeKey: `invisible-notice:${d.id}` });
      n++;
    });
  }
  return n;
}
