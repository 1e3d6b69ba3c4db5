/**
 * Files one submission (TD2 / ITI-65): one or more documents with their bytes, into one record,
 * atomically. Replacement (TD2.1) supersedes the old version. Nothing is filed on a record whose
 * INS is not qualified, nor on a record that is not open; an empty document, a reused uniqueId or
 * bytes identical to the current version are refused. Bytes and identifying metadata are sealed
 * under the record's key; what search needs stays clear.
 */
import { createHash, randomUUID } from 'node:crypto';
import { seal, sealJson } from '../crypto/envelope.ts';
import { CarnetError, conflict, invalid, notFound } from '../domain/errors.ts';
import type { Coding, DocumentMetadata, StoredDocument } from '../domain/document.ts';
import { flagsOf, PATIENT_CLASS_CODE } from '../domain/document.ts';
import type { Actor, AccessMode } from '../domain/access/types.ts';
import { decideWrite, validateVisibilityFlags } from '../domain/access/index.ts';
import { appendAudit } from '../audit/audit.ts';
import {
  aad, auditActor, recordById, recordByIns, recordForActor, recordView, storedDocument, type RecordRow,
} from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { checkCdaAgreement } from './internal/cda-check.ts';
import { isAuthorSide } from './internal/authorship.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface FileDocumentInput {
  metadata: DocumentMetadata;
  bytes: Buffer;
  /** TD2.1: the document this one replaces, by Carnet id or by uniqueId. */
  replaces?: { id?: string; uniqueId?: string };
}

export interface FileRequest {
  patient: { ins: string; oid?: string } | { recordId: string };
  submissionSet?: {
    uniqueId: string;
    entryUuid?: string;
    sourceId: string;
    submissionTime?: string;
    title?: string;
    /** Anything else of the List worth keeping (sealed). */
    extra?: Record<string, unknown>;
  };
  documents: FileDocumentInput[];
  mode?: AccessMode;
  /** The IHE/PDSm transaction that carried it (ITI-65, TD2 …), kept in the audit entry. */
  transaction?: string;
}

export interface FileResult {
  recordId: string;
  submissionSetId: string;
  documents: StoredDocument[];
  superseded: string[];
}

const MAX_DOCS_PER_SUBMISSION = 100;

export async function fileDocuments(ctx: Ctx, actor: Actor, req: FileRequest): Promise<FileResult> {
  if (!req.documents.length) throw invalid('SUBMISSION_EMPTY', 'A submission must hold at least one document');
  if (req.documents.length > MAX_DOCS_PER_SUBMISSION) {
    throw invalid('SUBMISSION_TOO_MANY', `A submission holds at most ${MAX_DOCS_PER_SUBMISSION} documents`);
  }
  try {
    return await inTransaction(ctx, (tx) => fileInTx(tx, actor, req));
  } catch (e) {
    // the refusal is audited outside the rolled-back transaction
    if (e instanceof CarnetError) await auditRefusal(ctx, actor, req, e).catch(() => {});
    throw e;
  }
}

async function auditRefusal(ctx: Ctx, actor: Actor, req: FileRequest, e: CarnetError) {
  let recordId: string | undefined;
  try {
    recordId = 'recordId' in req.patient ? (await recordById(ctx, req.patient.recordId)).id : (await recordByIns(ctx, req.patient.ins, req.patient.oid)).id;
  } catch {
    recordId = undefined;
  }
  await inTransaction(ctx, (tx) =>
    appendAudit(tx.db, tx.engine, {
      recordId, actor: auditActor(actor), action: 'document.file', mode: req.mode ?? 'normal', outcome: 'failure',
      reason: e.code, detail: { documents: req.documents.length }, at: tx.clock(),
    }),
  );
}

async function fileInTx(tx: Ctx, actor: Actor, req: FileRequest): Promise<FileResult> {
  const now = tx.clock();
  // the record, the holder's settings and how the actor stands towards it: one query for a professional
  const { record, settings, relationship } = await recordForActor(
    tx, 'recordId' in req.patient ? req.patient.recordId : { ins: req.patient.ins, oid: req.patient.oid }, actor,
  );
  if (record.identity_status !== 'qualifiee') {
    throw invalid('INS_NOT_QUALIFIED', 'Nothing may be filed on a record whose INS is not qualified', {
      details: { identityStatus: record.identity_status },
    });
  }
  for (const [i, d] of req.documents.entries()) {
    const decision = decideWrite(actor, recordView(record), relationship, d.metadata.category, req.mode ?? 'normal');
    if (!decision.allow) {
      throw new CarnetError(decision.reason, record.state === 'active' ? 'forbidden' : 'conflict', decision.explanation.en, {
        expression: [`documents[${i}]`],
      });
    }
  }
  const key = await tx.keys.get(tx.db, record.id);
  const submissionSetId = randomUUID();
  const filed: StoredDocument[] = [];
  const superseded: string[] = [];
  const seenUniqueIds = new Set<string>();

  for (const [i, input] of req.documents.entries()) {
    const where = [`documents[${i}]`];
    const m = input.metadata;
    if (!input.bytes.length) throw invalid('DOCUMENT_EMPTY', 'The document has no content', { expression: where });
    if (!m.uniqueId) throw invalid('DOCUMENT_UNIQUE_ID_MISSING', 'The document has no uniqueId', { expression: where });
    if (!m.mimeType) throw invalid('DOCUMENT_MIME_TYPE_MISSING', 'The document has no MIME type', { expression: where });
    if (seenUniqueIds.has(m.uniqueId)) throw invalid('DOCUMENT_DUPLICATE_IN_SUBMISSION', 'Two documents of the submission share a uniqueId', { expression: where });
    seenUniqueIds.add(m.uniqueId);
    const sha256 = createHash('sha256').update(input.bytes).digest('hex');
    const sha1 = createHash('sha1').update(input.bytes).digest('base64');
    if (m.declaredSize !== undefined && m.declaredSize !== input.bytes.length) {
      throw invalid('DOCUMENT_SIZE_MISMATCH', `Declared size ${m.declaredSize} differs from the content's ${input.bytes.length} bytes`, { expression: where });
    }
    if (m.declaredSha1 !== undefined && m.declaredSha1 !== sha1) {
      throw invalid('DOCUMENT_HASH_MISMATCH', 'Declared hash differs from the hash of the content', { expression: where });
    }
    checkCdaAgreement(m, input.bytes, record, where);

    const category: Coding = m.category;
    if (actor.kind === 'holder' && category.code !== PATIENT_CLASS_CODE) {
      throw invalid('DOCUMENT_PATIENT_CLASS', 'Documents added by the holder belong to class 90', { expression: where });
    }
    let labels = [...m.securityLabels];
    let flags = flagsOf(labels);
    if (settings.maskNewByDefault && !flags.includes('MASQUE_PS') && !flags.includes('INVISIBLE_PATIENT')) {
      labels.push({ code: 'MASQUE_PS', system: MASK_SYSTEM, display: 'Masqué aux professionnels de santé' });
      flags = flagsOf(labels);
    }
    validateVisibilityFlags(flags);
    if (!labels.some((l) => ['N', 'R', 'V', 'L', 'M', 'U'].includes(l.code))) labels = [{ code: 'N', system: CONFIDENTIALITY_SYSTEM, display: 'normal' }, ...labels];

    const clash = await tx.db
      .selectFrom('documents')
      .select(['id', 'unique_id', 'sha256', 'status'])
      .where('record_id', '=', record.id)
      .where((eb) => eb.or([eb('unique_id', '=', m.uniqueId), eb.and([eb('sha256', '=', sha256), eb('status', '=', 'current')])]))
      .execute();
    if (clash.some((c) => c.unique_id === m.uniqueId)) {
      throw conflict('DOCUMENT_DUPLICATE_UNIQUE_ID', 'A document with this uniqueId is already in the record', { expression: where });
    }

    let replacesId: string | undefined;
    if (input.replaces) {
      const target = await tx.db
        .selectFrom('documents')
        .select(['id', 'status', 'sha256', 'author_ids', 'author_orgs', 'filed_by_kind', 'filed_by_id', 'filed_by_org', 'record_id'])
        .where('record_id', '=', record.id)
        .where((eb) => {
          const r = input.replaces!;
          if (r.id) return eb('id', '=', r.id);
          // an identifier may be the uniqueId (with or without urn:oid:) or the entryUUID
          const v = r.uniqueId ?? '';
          const bare = v.replace(/^urn:oid:/, '');
          return eb.or([eb('unique_id', '=', v), eb('unique_id', '=', bare), eb('unique_id', '=', `urn:oid:${bare}`), eb('entry_uuid', '=', v)]);
        })
        .executeTakeFirst();
      if (!target) throw notFound('REPLACED_DOCUMENT_UNKNOWN', 'The document to replace is not in this record', { expression: where });
      if (!isAuthorSide(actor, target)) {
        throw new CarnetError('NOT_AUTHOR', 'forbidden', 'Only the author of a document, its organisation or the holder for their own documents may replace it', { expression: where });
      }
      if (target.status !== 'current') {
        throw conflict('REPLACED_DOCUMENT_NOT_CURRENT', `The document to replace is ${target.status}`, { expression: where });
      }
      if (target.sha256 === sha256) {
        throw conflict('DOCUMENT_IDENTICAL', 'The new version is identical to the current one', { expression: where });
      }
      replacesId = target.id;
    } else if (clash.some((c) => c.sha256 === sha256)) {
      throw conflict('DOCUMENT_IDENTICAL', 'An identical document is already in the record', { expression: where });
    }

    const id = randomUUID();
    const blobId = id;
    const authorIds = unique(m.authors.map((a) => a.rpps).filter((x): x is string => !!x));
    const authorOrgs = unique(m.authors.map((a) => a.organisation?.finess).filter((x): x is string => !!x));
    if (actor.kind === 'professional' && actor.organisation && !authorOrgs.length) authorOrgs.push(actor.organisation);
    const invisible = flags.includes('INVISIBLE_PATIENT');
    const meta: DocumentMetadata = { ...m, securityLabels: labels };
    await tx.blobs.put(tx.db, record.id, blobId, seal(key, input.bytes, aad.blob(record.id, id)));
    const row = {
      id,
      record_id: record.id,
      unique_id: m.uniqueId,
      entry_uuid: m.entryUuid ?? null,
      status: 'current',
      archived: 0,
      type_code: m.type.code,
      type_system: m.type.system ?? null,
      class_code: category.code,
      format_code: m.format?.code ?? null,
      mime_type: m.mimeType,
      size: input.bytes.length,
      sha256,
      sha1,
      creation_time: m.creationTime ? new Date(m.creationTime).toISOString() : now.toISOString(),
      submitted_at: now.toISOString(),
      service_start: m.servicePeriod?.start ?? null,
      service_end: m.servicePeriod?.end ?? null,
      facility_type: m.facilityType?.code ?? null,
      practice_setting: m.practiceSetting?.code ?? null,
      language: m.language ?? null,
      security_labels: JSON.stringify(labels.map((l) => l.code)),
      author_ids: JSON.stringify(authorIds),
      author_orgs: JSON.stringify(authorOrgs),
      filed_by_kind: actor.kind,
      filed_by_id: actor.id,
      filed_by_org: actor.kind === 'professional' ? (actor.organisation ?? null) : null,
      submission_set_id: submissionSetId,
      replaces_id: replacesId ?? null,
      invisible_since: invisible ? now.toISOString() : null,
      announced_at: null,
      meta_enc: sealJson(key, meta, aad.docMeta(record.id, id)),
      blob_id: blobId,
    };
    await tx.db.insertInto('documents').values(row).execute();
    if (replacesId) {
      await tx.db.updateTable('documents').set({ status: 'superseded' }).where('record_id', '=', record.id).where('id', '=', replacesId).execute();
      superseded.push(replacesId);
    }
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: replacesId ? 'document.replace' : 'document.file',
      documentId: id, mode: req.mode ?? 'normal', outcome: 'success',
      detail: { submissionSetId, ...(req.transaction ? { transaction: req.transaction } : {}), ...(replacesId ? { replaces: replacesId } : {}) }, at: now,
    });
    if (!invisible) {
      await notifyHolder(tx, record.id, { kind: 'new_document', payload: { documentId: id, classCode: category.code } });
    }
    filed.push(storedDocument(row, key));
  }

  const ss = req.submissionSet ?? { uniqueId: `urn:uuid:${submissionSetId}`, sourceId: actor.id };
  const ssClash = await tx.db
    .selectFrom('submission_sets')
    .select('id')
    .where('record_id', '=', record.id)
    .where('unique_id', '=', ss.uniqueId)
    .executeTakeFirst();
  if (ssClash) throw conflict('SUBMISSION_SET_DUPLICATE', 'A submission set with this uniqueId was already filed');
  await tx.db
    .insertInto('submission_sets')
    .values({
      id: submissionSetId,
      record_id: record.id,
      unique_id: ss.uniqueId,
      entry_uuid: ss.entryUuid ?? null,
      source_id: ss.sourceId,
      submitted_at: now.toISOString(),
      document_ids: JSON.stringify(filed.map((d) => d.id)),
      meta_enc: sealJson(key, { ...ss, actor: { kind: actor.kind, id: actor.id } }, aad.submission(record.id, submissionSetId)),
    })
    .execute();
  return { recordId: record.id, submissionSetId, documents: filed, superseded };
}

const unique = <T>(xs: T[]) => [...new Set(xs)];


export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const MASK_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
