/**
 * The portal's document use cases: the holder's list (grouped by MES category on the client), the
 * viewer (a CDA rendered as plain blocks, never raw XML; a level-1 CDA hands over its embedded
 * file), and "add my own document" (class 90). Every read goes through the access decision and
 * its audit (readDocuments.ts); nothing here decides.
 */
import { randomUUID } from 'node:crypto';
import { CarnetError, invalid } from '../../domain/errors.ts';
import type { AccessMode, Actor } from '../../domain/access/types.ts';
import { defaultMatrix } from '../../domain/access/index.ts';
import { PATIENT_CLASS_CODE, type DocumentMetadata } from '../../domain/document.ts';
import { renderCda, type RenderedCda } from '../../fhir/cda/render.ts';
import { listDocuments, readDocument } from '../readDocuments.ts';
import { fileDocuments, CONFIDENTIALITY_SYSTEM } from '../fileDocuments.ts';
import { ensureEmergencySession } from '../emergency.ts';
import { formatOf, requireHolderSide, toPortalDocument, type PortalDocument } from './common.ts';
import type { Ctx } from '../context.ts';

/** The holder's side: every document it may see, archived ones included (flagged). */
export async function holderDocuments(ctx: Ctx, actor: Actor, recordId: string): Promise<PortalDocument[]> {
  await requireHolderSide(ctx, actor, recordId);
  const listed = await listDocuments(ctx, actor, recordId, { includeArchived: true });
  return listed.map((l) => toPortalDocument(l.document, l.decision));
}

export type DocumentView =
  | { kind: 'cda'; document: PortalDocument; rendered: RenderedCda }
  | { kind: 'pdf' | 'image' | 'text' | 'other'; document: PortalDocument };

/**
 * One document for the viewer. A CDA is rendered on the server (the browser never parses the XML);
 * a level-1 CDA comes back with its embedded file (base64) for the browser to show. Other formats:
 * metadata only, the browser fetches the bytes through ITI-68 (`/fhir/Binary/{id}`).
 */
export async function viewDocument(
  ctx: Ctx,
  actor: Actor,
  documentId: string,
  opts: { mode?: AccessMode; justification?: string } = {},
): Promise<DocumentView> {
  const mode = opts.mode ?? 'normal';
  if (mode !== 'normal' && actor.kind === 'professional') {
    const row = await ctx.db.selectFrom('documents').select('record_id').where('id', '=', documentId).executeTakeFirst();
    if (row) await ensureEmergencySession(ctx, actor, row.record_id, mode, opts.justification);
  }
  const { document, bytes, decision } = await readDocument(ctx, actor, documentId, { mode });
  const doc = toPortalDocument(document, decision);
  if (doc.format !== 'cda') return { kind: doc.format, document: doc };
  try {
    return { kind: 'cda', document: doc, rendered: renderCda(bytes) };
  } catch (e) {
    // an XML document that is not a readable CDA: offer the original for download only
    if (e instanceof CarnetError) return { kind: 'other', document: doc };
    throw e;
  }
}

/** The kinds of document a holder may add (DOCPAT types of the matrix, shown under their MES category). */
export const OWN_DOCUMENT_TYPES = ['DOCPAT01', 'DOCPAT02', 'DOCPAT03', 'DOCPAT04', 'DOCPAT05', 'DOCPAT06', 'DOCPAT07', 'DOCPAT09', 'EXPPAT_1', 'EXPPAT_2'] as const;
export type OwnDocumentType = (typeof OWN_DOCUMENT_TYPES)[number];

const OWN_MIME = new Set(['application/pdf', 'image/jpeg', 'image/png', 'text/plain']);
export const OWN_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024;
const PATIENT_TYPE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire';

export interface OwnDocumentInput {
  title: string;
  typeCode: string;
  /** When the document was written (a date), default today. */
  date?: string;
  mimeType: string;
  bytes: Buffer;
}

/** The holder (or a legal representative) adds a document of their own: class 90, author the patient. */
export async function addOwnDocument(ctx: Ctx, actor: Actor, recordId: string, input: OwnDocumentInput): Promise<PortalDocument> {
  await requireHolderSide(ctx, actor, recordId);
  const title = (input.title ?? '').trim();
  if (!title || title.length > 200) throw invalid('OWN_DOCUMENT_TITLE', 'A title of 1 to 200 characters is required', { expression: ['title'] });
  if (!(OWN_DOCUMENT_TYPES as readonly string[]).includes(input.typeCode)) {
    throw invalid('OWN_DOCUMENT_TYPE', 'Unknown kind of document', { expression: ['typeCode'] });
  }
  const mime = input.mimeType.split(';')[0].trim().toLowerCase();
  if (!OWN_MIME.has(mime)) throw new CarnetError('OWN_DOCUMENT_FORMAT', 'unsupported', 'Only PDF, JPEG, PNG or plain text documents can be added');
  if (input.bytes.length > OWN_DOCUMENT_MAX_BYTES) throw new CarnetError('OWN_DOCUMENT_TOO_LARGE', 'too_large', 'The document is larger than 20 MB');
  const when = input.date ? new Date(input.date) : ctx.clock();
  if (Number.isNaN(when.getTime())) throw invalid('OWN_DOCUMENT_DATE', 'The date is not a date', { expression: ['date'] });
  const uuid = randomUUID();
  const metadata: DocumentMetadata = {
    uniqueId: `2.25.${BigInt('0x' + uuid.replace(/-/g, '')).toString()}`,
    entryUuid: `urn:uuid:${uuid}`,
    type: { system: PATIENT_TYPE_SYSTEM, code: input.typeCode, display: defaultMatrix.types[input.typeCode]?.label },
    category: { system: defaultMatrix.classSystem, code: PATIENT_CLASS_CODE, display: defaultMatrix.classes[PATIENT_CLASS_CODE]?.label.fr },
    authors: [{ kind: 'patient' }],
    creationTime: when.toISOString(),
    mimeType: mime,
    securityLabels: [{ system: CONFIDENTIALITY_SYSTEM, code: 'N' }],
    title,
  };
  const r = await fileDocuments(ctx, actor, { patient: { recordId }, documents: [{ metadata, bytes: input.bytes }], transaction: 'portal' });
  return toPortalDocument(r.documents[0]);
}

export { formatOf };
