/**
 * What may change on a filed document (TD3.3): logical deletion (entered-in-error) by its author or
 * the author's organisation only; archive; masking (MASQUE_PS) by the holder's side or the author;
 * INVISIBLE_PATIENT set by the author and lifted by an announcement. Flags that cannot be combined
 * are refused.
 */
import { CarnetError, forbidden, notFound } from '../domain/errors.ts';
import { flagsOf, type VisibilityFlag } from '../domain/document.ts';
import type { Actor } from '../domain/access/types.ts';
import { canManageSharing, decide, validateVisibilityFlags } from '../domain/access/index.ts';
import { isHiddenDenial } from './readDocuments.ts';
import { appendAudit } from '../audit/audit.ts';
import { auditActor, documentRowById, documentView, recordById, recordView, relationshipOf, settingsOf, storedDocument } from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { isAuthorSide } from './internal/authorship.ts';
import { inTransaction, type Ctx } from './context.ts';
import type { DocumentTable } from '../store/schema.ts';


/** One change to a document: who may make it, and what it writes. */
interface Step {
  action: string;
  allowed: (row: DocumentTable, manager: boolean) => boolean;
  apply: (row: DocumentTable) => Partial<DocumentTable> | Promise<Partial<DocumentTable>>;
}

/**
 * Several changes to one document, all or nothing: every step's permission is checked before any
 * write (the first refusal is audited and nothing changes), the steps apply in order to the same row
 * (a rule broken by the result, e.g. flags that cannot be combined, rolls everything back), and each
 * step is audited under its own action.
 */
async function changeAll(ctx: Ctx, actor: Actor, documentId: string, steps: Step[]) {
  const row0 = await documentRowById(ctx, documentId);
  const out = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, row0.record_id);
    const row = (await tx.db.selectFrom('documents').selectAll().where('record_id', '=', record.id).where('id', '=', documentId).executeTakeFirst())!;
    const rel = await relationshipOf(tx, record.id, actor);
    const manager = canManageSharing(actor, rel).allow;
    // someone who may not even know the document exists (e.g. the holder before an announcement)
    // gets "no such document", not a refusal that would confirm it
    if (!isAuthorSide(actor, row)) {
      const seen = decide(actor, recordView(record), rel, documentView(row), await settingsOf(tx, record.id), 'normal', tx.clock());
      if (!seen.allow && isHiddenDenial(seen.reason)) {
        await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: steps[0]?.action ?? 'document.change', documentId, outcome: 'deny', reason: seen.reason, at: tx.clock() });
        return { hidden: true as const };
      }
    }
    const refused = steps.find((st) => !st.allowed(row, manager));
    if (refused) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: refused.action, documentId, outcome: 'deny', reason: 'NOT_AUTHOR', at: tx.clock() });
      return { denied: true as const };
    }
    if (row.status === 'entered-in-error') throw new CarnetError('DOCUMENT_DELETED', 'gone', 'This document was deleted');
    let updated = row;
    const patch: Partial<DocumentTable> = {};
    for (const st of steps) {
      const p = await st.apply(updated);
      Object.assign(patch, p);
      updated = { ...updated, ...p } as DocumentTable;
    }
    if (Object.keys(patch).length) {
      await tx.db.updateTable('documents').set(patch).where('record_id', '=', record.id).where('id', '=', documentId).execute();
    }
    for (const st of steps) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: st.action, documentId, outcome: 'success', at: tx.clock() });
    }
    return { document: storedDocument(updated, await tx.keys.get(tx.db, record.id)), record };
  });
  if ('hidden' in out) throw notFound('DOCUMENT_UNKNOWN', 'No such document');
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
const deleteStep = (actor: Actor): Step => ({
  action: 'document.delete', allowed: (row) => isAuthorSide(actor, row), apply: () => ({ status: 'entered-in-error' }),
});

/** TD3.3d: archive (hidden from default views) or un-archive. */
const archiveStep = (actor: Actor, archived: boolean): Step => ({
  action: archived ? 'document.archive' : 'document.unarchive',
  allowed: (row, manager) => isAuthorSide(actor, row) || manager,
  apply: () => ({ archived: archived ? 1 : 0 }),
});

/** TD3.3a: masked from professionals (MASQUE_PS) — the holder's side, or the author at their request. */
const maskStep = (actor: Actor, masked: boolean): Step => ({
  action: masked ? 'document.mask' : 'document.unmask',
  allowed: (row, manager) => manager || isAuthorSide(actor, row),
  apply: (row) => ({ security_labels: JSON.stringify(withFlag(row, 'MASQUE_PS', masked)) }),
});

/** TD3.3b: hidden from the patient until an announcement consultation — set by the author only. */
const invisibleStep = (ctx: Ctx, actor: Actor, invisible: boolean): Step => ({
  action: invisible ? 'document.hide_from_patient' : 'document.announce',
  allowed: (row) => actor.kind === 'professional' && isAuthorSide(actor, row),
  apply: (row) => ({
    security_labels: JSON.stringify(withFlag(row, 'INVISIBLE_PATIENT', invisible)),
    invisible_since: invisible ? (row.invisible_since ?? ctx.clock().toISOString()) : row.invisible_since,
    announced_at: invisible ? null : ctx.clock().toISOString(),
  }),
});

/** A minor hides a document about a confidential act from their legal representatives (R1111-50). */
const representativesStep = (actor: Actor, hidden: boolean): Step => ({
  action: hidden ? 'document.hide_from_representatives' : 'document.show_to_representatives',
  allowed: (row) => (actor.kind === 'holder' && row.record_id === actor.id) || isAuthorSide(actor, row),
  apply: (row) => ({ security_labels: JSON.stringify(withFlag(row, 'INVISIBLE_REPRESENTANTS_LEGAUX', hidden)) }),
});

const one = (ctx: Ctx, actor: Actor, documentId: string, step: Step) => changeAll(ctx, actor, documentId, [step]);

export const deleteDocument = (ctx: Ctx, actor: Actor, documentId: string) => one(ctx, actor, documentId, deleteStep(actor));
export const archiveDocument = (ctx: Ctx, actor: Actor, documentId: string, archived = true) =>
  one(ctx, actor, documentId, archiveStep(actor, archived));
export const setMasked = (ctx: Ctx, actor: Actor, documentId: string, masked: boolean) => one(ctx, actor, documentId, maskStep(actor, masked));
export const setInvisibleToPatient = (ctx: Ctx, actor: Actor, documentId: string, invisible: boolean) =>
  one(ctx, actor, documentId, invisibleStep(ctx, actor, invisible));

/** The announcement consultation happened: the document becomes visible to the holder. */
export const announceDocument = (ctx: Ctx, actor: Actor, documentId: string) => setInvisibleToPatient(ctx, actor, documentId, false);

export const setHiddenFromRepresentatives = (ctx: Ctx, actor: Actor, documentId: string, hidden: boolean) =>
  one(ctx, actor, documentId, representativesStep(actor, hidden));

/** What TD3.3 may change in one request (absent = unchanged). */
export interface DocumentChanges {
  masked?: boolean;
  invisibleToPatient?: boolean;
  hiddenFromRepresentatives?: boolean;
  archived?: boolean;
}

/**
 * TD3.3 with several changes at once (one PATCH): all allowed and applied, or none. Flags are
 * lifted before others are set, so swapping MASQUE_PS for INVISIBLE_PATIENT is one valid change;
 * setting both is refused (FLAGS_NOT_COMBINABLE) and leaves the document as it was.
 */
export async function updateDocument(ctx: Ctx, actor: Actor, documentId: string, changes: DocumentChanges) {
  const flagSteps: Array<[boolean, Step]> = [];
  if (changes.masked !== undefined) flagSteps.push([changes.masked, maskStep(actor, changes.masked)]);
  if (changes.invisibleToPatient !== undefined) flagSteps.push([changes.invisibleToPatient, invisibleStep(ctx, actor, changes.invisibleToPatient)]);
  if (changes.hiddenFromRepresentatives !== undefined) flagSteps.push([changes.hiddenFromRepresentatives, representativesStep(actor, changes.hiddenFromRepresentatives)]);
  const steps = [...flagSteps.filter(([on]) => !on), ...flagSteps.filter(([on]) => on)].map(([, st]) => st);
  if (changes.archived !== undefined) steps.push(archiveStep(actor, changes.archived));
  if (!steps.length) {
    const row = await documentRowById(ctx, documentId);
    return storedDocument(row, await ctx.keys.get(ctx.db, row.record_id));
  }
  return changeAll(ctx, actor, documentId, steps);
}

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
