/**
 * Enforcement (DOMAIN §5): every read goes through `decide`, every decision — allow and deny — is
 * audited with the actor, the mode, the rule and its reason. Listing never reveals the count or the
 * existence of what the caller may not see. Bytes are decrypted only after an allow.
 */
import { CarnetError, forbidden, notFound } from '../domain/errors.ts';
import type { StoredDocument } from '../domain/document.ts';
import type { AccessMode, Actor, Decision, Relationship } from '../domain/access/types.ts';
import { decide, decideRecordAccess } from '../domain/access/index.ts';
import { open, openJson } from '../crypto/envelope.ts';
import { appendAudit } from '../audit/audit.ts';
import {
  aad, auditActor, documentRowById, documentView, recordForActor, recordView, storedDocument,
  type RecordRow,
} from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface ListFilters {
  /** Statuses to include; default `current` only. */
  statuses?: string[];
  /** Include archived documents (hidden from default views). */
  includeArchived?: boolean;
  /** Only documents created at or after this instant. Professionals default to the last 2 years. */
  since?: string;
  /** Extra predicate on the full document (ITI-67 parameters). */
  where?: (doc: StoredDocument) => boolean;
  mode?: AccessMode;
  /** Professionals: skip the 2-year default (an explicit date search). */
  noDefaultPeriod?: boolean;
}

export interface ListedDocument {
  document: StoredDocument;
  decision: Decision;
}

/** Denials that must not even reveal that the document exists (answered as 404). */
const HIDDEN_REASONS = new Set(['DENY_MASKED', 'DENY_INVISIBLE_PATIENT', 'DENY_INVISIBLE_REPRESENTANTS', 'DENY_MATRIX', 'DENY_APP_SCOPE']);
export const isHiddenDenial = (reason: string) => HIDDEN_REASONS.has(reason);

/** The record's INS and its OID, for the Patient reference of FHIR answers (no second read of the record). */
export interface PatientIdentity {
  ins: string;
  oid: string;
}

export async function listDocuments(ctx: Ctx, actor: Actor, recordId: string, filters: ListFilters = {}): Promise<ListedDocument[]> {
  return (await listDocumentsWithPatient(ctx, actor, recordId, filters)).documents;
}

/**
 * `listDocuments`, also giving the record's INS/OID read in the same transaction. The record may be
 * designated by its INS (ITI-67 `patient.identifier`): it is then found in the same query as the
 * rest (PATIENT_UNKNOWN when no record has this INS).
 */
export async function listDocumentsWithPatient(
  ctx: Ctx, actor: Actor, recordRef: string | { ins: string; oid?: string }, filters: ListFilters = {},
): Promise<{ documents: ListedDocument[]; patient: PatientIdentity }> {
  const { out, refusal, patient } = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const mode = filters.mode ?? 'normal';
    const { record, settings, relationship } = await recordForActor(tx, recordRef, actor);
    let q = tx.db
      .selectFrom('documents')
      .selectAll()
      .where('record_id', '=', record.id)
      .where('status', 'in', filters.statuses?.length ? filters.statuses : ['current']);
    if (!filters.includeArchived) q = q.where('archived', '=', 0);
    let since = filters.since;
    if (!since && actor.kind === 'professional' && !filters.noDefaultPeriod) {
      const d = new Date(now);
      d.setUTCFullYear(d.getUTCFullYear() - tx.config.professionalDefaultYears);
      since = d.toISOString();
    }
    if (since) q = q.where('creation_time', '>=', since);
    const rows = await q.orderBy('creation_time', 'desc').execute();

    // may this caller read anything at all here? (a refusal must not depend on whether documents exist)
    const recordLevel = decideRecordAccess(actor, recordView(record), relationship, settings, mode, now);
    const out: ListedDocument[] = [];
    const denied: Record<string, number> = {};
    let key: Buffer | undefined;
    let anyReadable = false;
    for (const row of rows) {
      const decision = decide(actor, recordView(record), relationship, documentView(row), settings, mode, now);
      if (!decision.allow) {
        denied[decision.reason] = (denied[decision.reason] ?? 0) + 1;
        continue;
      }
      anyReadable = true;
      key ??= await tx.keys.get(tx.db, record.id);
      const doc = storedDocument(row, key, tx.keys);
      if (filters.where && !filters.where(doc)) continue;
      out.push({ document: doc, decision });
    }
    // documents readable on a per-document ground (their author) are listed even without a record-level right
    const refusal = !anyReadable && !recordLevel.allow ? recordLevel : undefined;
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: 'document.list', mode,
      outcome: refusal ? 'deny' : 'allow',
      reason: refusal?.reason ?? out[0]?.decision.reason ?? recordLevel.reason,
      detail: { returned: out.map((o) => o.document.id), denied },
      at: now,
    });
    if (out.length) await noteProfessionalAccess(tx, actor, record, relationship, mode);
    return { out, refusal, patient: { ins: record.ins, oid: record.ins_oid } };
  });
  // raised after the commit, so the audit entry of the denial stays
  if (refusal) throw new CarnetError(refusal.reason, 'forbidden', refusal.explanation.en, { details: { explanation: refusal.explanation } });
  return { documents: out, patient };
}

export interface ReadResult {
  document: StoredDocument;
  bytes: Buffer;
  decision: Decision;
  /** The record's INS/OID, read in the same transaction (for the Patient reference). */
  patient: PatientIdentity;
}

/**
 * One document's metadata (FHIR read of a DocumentReference), after the same decision as a read of
 * its bytes; audited as `document.read_metadata`.
 */
export async function readDocumentMetadata(ctx: Ctx, actor: Actor, documentId: string, opts: { mode?: AccessMode } = {}) {
  return readDocument(ctx, actor, documentId, { ...opts, metadataOnly: true });
}

/** ITI-68: one document's bytes, after an allow. 404 unknown (or hidden), 410 deleted, 403 denied. */
export async function readDocument(ctx: Ctx, actor: Actor, documentId: string, opts: { mode?: AccessMode; metadataOnly?: boolean } = {}): Promise<ReadResult> {
  const mode = opts.mode ?? 'normal';
  const action = opts.metadataOnly ? 'document.read_metadata' : 'document.read';
  const now = ctx.clock();
  let row;
  try {
    row = await documentRowById(ctx, documentId);
  } catch (e) {
    await inTransaction(ctx, (tx) =>
      appendAudit(tx.db, tx.engine, {
        actor: auditActor(actor), action, mode, outcome: 'deny', reason: 'DOCUMENT_UNKNOWN',
        detail: { documentId: String(documentId).slice(0, 80) }, at: now,
      }),
    );
    throw e;
  }
  const found = row;
  const result = await inTransaction(ctx, async (tx) => {
    const { record, settings, relationship } = await recordForActor(tx, found.record_id, actor);
    const decision = decide(actor, recordView(record), relationship, documentView(found), settings, mode, now);
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action, documentId: found.id, mode,
      outcome: decision.allow ? 'allow' : 'deny', reason: decision.reason, at: now,
    });
    if (!decision.allow) return { decision };
    await noteProfessionalAccess(tx, actor, record, relationship, mode);
    const key = await tx.keys.get(tx.db, record.id);
    const patient = { ins: record.ins, oid: record.ins_oid };
    if (opts.metadataOnly) return { decision, document: storedDocument(found, key, tx.keys), bytes: Buffer.alloc(0), patient };
    const sealed = await tx.blobs.get(tx.db, record.id, found.blob_id);
    if (!sealed) throw notFound('DOCUMENT_CONTENT_MISSING', 'The document content is missing');
    return { decision, document: storedDocument(found, key, tx.keys), bytes: open(key, sealed, aad.blob(record.id, found.id)), patient };
  });
  if (!result.decision.allow || !result.document || !result.bytes) {
    const d = result.decision;
    if (d.reason === 'DENY_DELETED_DOCUMENT') throw new CarnetError('DOCUMENT_DELETED', 'gone', 'This document was deleted (entered in error)');
    if (isHiddenDenial(d.reason)) throw notFound('DOCUMENT_UNKNOWN', 'No such document');
    throw forbidden(d.reason, d.explanation.en, { details: { explanation: d.explanation } });
  }
  return result as ReadResult;
}

/** First access by a professional new to this record → the holder is told (DOMAIN §6). */
async function noteProfessionalAccess(tx: Ctx, actor: Actor, record: RecordRow, _rel: Relationship, mode: AccessMode) {
  if (actor.kind !== 'professional') return;
  if (tx.seen?.has(record.id, actor.id)) return;
  const seen = await tx.db
    .selectFrom('practitioner_seen')
    .select('first_at')
    .where('record_id', '=', record.id)
    .where('practitioner_id', '=', actor.id)
    .executeTakeFirst();
  if (seen) {
    tx.seen?.remember(record.id, actor.id);
    return;
  }
  await tx.db
    .insertInto('practitioner_seen')
    .values({ record_id: record.id, practitioner_id: actor.id, first_at: tx.clock().toISOString() })
    .onConflict((oc) => oc.columns(['record_id', 'practitioner_id']).doNothing())
    .execute();
  await notifyHolder(tx, record.id, {
    kind: 'first_access',
    payload: { practitioner: actor.id, name: actor.name, professionCode: actor.professionCode, mode },
    dedupeKey: `first-access:${record.id}:${actor.id}`,
  });
}

export interface SubmissionSetSummary {
  id: string;
  uniqueId: string;
  entryUuid?: string;
  sourceId: string;
  submittedAt: string;
  title?: string;
  authors: StoredDocument['authors'];
  /** Only the documents the caller may see. */
  documentIds: string[];
}

/** ITI-66: the submission sets of a record that hold at least one document the caller may see. */
export async function listSubmissionSets(ctx: Ctx, actor: Actor, recordId: string, filters: ListFilters = {}): Promise<SubmissionSetSummary[]> {
  const visible = await listDocuments(ctx, actor, recordId, { ...filters, statuses: ['current', 'superseded'], includeArchived: true, noDefaultPeriod: true });
  const visibleIds = new Set(visible.map((v) => v.document.id));
  const sets = await ctx.db.selectFrom('submission_sets').selectAll().where('record_id', '=', recordId).orderBy('submitted_at', 'desc').execute();
  const out: SubmissionSetSummary[] = [];
  let key: Buffer | undefined;
  for (const s of sets) {
    const ids = (JSON.parse(s.document_ids) as string[]).filter((id) => visibleIds.has(id));
    if (!ids.length) continue;
    key ??= await ctx.keys.get(ctx.db, recordId);
    const meta = openJson<{ title?: string }>(key, Buffer.from(s.meta_enc), aad.submission(recordId, s.id));
    const first = visible.find((v) => v.document.id === ids[0])!.document;
    out.push({
      id: s.id, uniqueId: s.unique_id, entryUuid: s.entry_uuid ?? undefined, sourceId: s.source_id, submittedAt: s.submitted_at,
      title: meta.title, authors: first.authors, documentIds: ids,
    });
  }
  return out;
}
