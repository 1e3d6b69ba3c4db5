/**
 * IHE MHD ITI-65 Provide Document Bundle (PDSm4DMP TD2 / TD2.1) → what Carnet files. Pure: no I/O.
 *
 * The first problem found wins; it is a CarnetError of kind `invalid` whose `expression` points at
 * the offending element (`Bundle.entry[2].resource.content[0].attachment.contentType`). Where the
 * standard lets a Document Recipient be robust (ITI-65 §2:3.65.4.1.3), Carnet accepts and reports a
 * warning instead; the choices are listed in README.md beside this file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { invalid, CarnetError } from '../../domain/errors.ts';
import type { Coding, DocumentAuthor, DocumentMetadata } from '../../domain/document.ts';
import { flagsOf } from '../../domain/document.ts';
import {
  CONFIDENTIALITY_SYSTEM,
  MHD_EXT,
  URI_SYSTEM,
  UUID_RE,
  bundleProfileLevel,
  isExtension,
  uuidToOid,
} from './constants.ts';
import {
  allCodings,
  asObject,
  badValue,
  decodeBase64,
  extensionsNamed,
  firstCoding,
  isFhirDateTime,
  optArray,
  optDateTime,
  optNonNegativeInt,
  optObject,
  optObjects,
  optString,
  readIdentifier,
  readReference,
  reqString,
  wrongType,
  type Json,
} from './read.ts';
import {
  BundleIndex,
  readPatientLink,
  resolveContained,
  samePatient,
  type EntryInfo,
  type PatientLink,
  type ResolveScope,
} from './references.ts';
import { readAuthorReference } from './authors.ts';

export type { PatientLink } from './references.ts';

export type MetadataLevel = 'minimal' | 'comprehensive' | 'unknown';

/** Something Carnet accepted while the standard says the sender should have done otherwise. */
export interface SubmissionWarning {
  code: string;
  message: string;
  expression: string[];
}

export interface SubmissionSetInfo {
  /** uniqueId (List.identifier, use `usual`), as sent; assigned by Carnet when absent (see `uniqueIdAssigned`). */
  uniqueId: string;
  uniqueIdAssigned?: boolean;
  /** entryUUID (List.identifier, use `official`, `urn:uuid:…`), when the source sent one. */
  entryUuid?: string;
  /** ihe-sourceId: the sending system (an OID, usually `urn:oid:…`). */
  sourceId: string;
  /** List.date, FHIR dateTime as sent. */
  submissionTime: string;
  title?: string;
  comments?: string;
  authors: DocumentAuthor[];
  /** ihe-designationType (XDS contentTypeCode). */
  contentType?: Coding;
  fullUrl?: string;
}

export interface ReplacesTarget {
  /** Server id of the replaced DocumentReference (`DocumentReference/{id}`). */
  id?: string;
  /** Identifier value of the replaced document (its uniqueId or entryUUID). */
  identifier?: string;
}

export interface ProvidedDocument {
  fullUrl?: string;
  metadata: DocumentMetadata;
  bytes: Buffer;
  replaces?: ReplacesTarget;
}

export interface ProvideSubmission {
  profile: MetadataLevel;
  submissionSet: SubmissionSetInfo;
  patient: PatientLink;
  documents: ProvidedDocument[];
  /** The replaced DocumentReferences the Bundle itself marks `superseded` (MHD UpdateDocumentRefs slice). */
  supersedes: ReplacesTarget[];
  warnings: SubmissionWarning[];
}

export const MAX_ENTRIES = 1000;

/** decodeURIComponent that reports malformed escapes as the caller's error, not a crash. */
function decodeParam(v: string, path: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw badValue(path, `${path} has a malformed percent-escape`);
  }
}

const fail = (code: string, message: string, expression: string, details?: Record<string, unknown>) =>
  invalid(code, message, { expression: [expression], ...(details ? { details } : {}) });

// --- DocumentReference ---------------------------------------------------------------------------

export interface ParseDocumentReferenceOptions {
  /** Location of the resource; `DocumentReference` when parsed alone. */
  path?: string;
  /** The Bundle (and entry) the resource came in, to resolve references and the content. */
  bundle?: BundleIndex;
  entry?: EntryInfo;
}

export interface ParsedDocumentReference {
  metadata: DocumentMetadata;
  patient: PatientLink;
  /** The document bytes, when they were in the resource (attachment.data) or in the Bundle. */
  bytes?: Buffer;
  /** attachment.url as sent. */
  contentUrl?: string;
  /** The Bundle entry holding the content (Binary or FHIR document Bundle). */
  contentEntry?: EntryInfo;
  replaces?: ReplacesTarget;
  warnings: SubmissionWarning[];
}

function checkNoModifierExtension(o: Json, path: string) {
  if (optArray(o, 'modifierExtension', path).length)
    throw fail('MHD_UNSUPPORTED_MODIFIER_EXTENSION', `${path}.modifierExtension is not understood by Carnet`, `${path}.modifierExtension`);
}

/** SHA-1 as sent: base64 of the digest (R4), or — robustly — its hex form, or base64 of the hex text. */
function declaredSha1Digest(hash: string, path: string): Buffer {
  const h = hash.trim();
  if (/^[0-9a-f]{40}$/i.test(h)) return Buffer.from(h, 'hex');
  const raw = decodeBase64(h, path);
  if (raw.length === 20) return raw;
  const text = raw.toString('latin1');
  if (raw.length === 40 && /^[0-9a-f]{40}$/i.test(text)) return Buffer.from(text, 'hex');
  throw badValue(path, `${path} is not a SHA-1 digest`, { bytes: raw.length });
}

function checkSizeAndHash(att: Json, path: string, bytes: Buffer, into: DocumentMetadata) {
  const size = optNonNegativeInt(att, 'size', path);
  if (size !== undefined) {
    into.declaredSize = size;
    if (size !== bytes.length)
      throw fail('MHD_SIZE_MISMATCH', `${path}.size differs from the size of the document`, `${path}.size`, {
        declared: size,
        actual: bytes.length,
      });
  }
  const hash = optString(att, 'hash', path);
  if (hash !== undefined) {
    const declared = declaredSha1Digest(hash, `${path}.hash`);
    into.declaredSha1 = declared.toString('base64');
    const actual = createHash('sha1').update(bytes).digest();
    if (!declared.equals(actual))
      throw fail('MHD_HASH_MISMATCH', `${path}.hash is not the SHA-1 of the document`, `${path}.hash`, {
        actual: actual.toString('base64'),
      });
  }
}

const MIME_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;.*)?$/;
const essence = (mime: string) => mime.split(';')[0].trim().toLowerCase();

function readReplaces(doc: Json, path: string, warnings: SubmissionWarning[]): ReplacesTarget | undefined {
  let replaces: ReplacesTarget | undefined;
  optObjects(doc, 'relatesTo', path).forEach((rel, i) => {
    const p = `${path}.relatesTo[${i}]`;
    const code = reqString(rel, 'code', p, 'MHD_BAD_RELATES_TO', 'relatesTo.code');
    const targetObj = optObject(rel, 'target', p);
    if (!targetObj) throw fail('MHD_BAD_RELATES_TO', `${p}.target is missing`, `${p}.target`);
    if (code !== 'replaces') {
      // ITI-65 Table 2:3.65.4.1.3-1: unsupported association types are reported as warnings.
      const names: Record<string, string> = {
        transforms: 'PartialTransformContentNotProcessed',
        appends: 'PartialAppendContentNotProcessed',
      };
      if (!['transforms', 'appends', 'signs'].includes(code))
        throw fail('MHD_BAD_RELATES_TO', `${p}.code is not a document relationship type`, `${p}.code`);
      warnings.push({
        code: names[code] ?? 'PartialSignsContentNotProcessed',
        message: `the ${code} association is not kept by Carnet`,
        expression: [`${p}.code`],
      });
      return;
    }
    if (replaces) throw fail('MHD_BAD_RELATES_TO', 'a document replaces at most one document', `${p}`);
    const target = readReference(targetObj, `${p}.target`);
    const out: ReplacesTarget = {};
    if (target.reference) {
      const lit = /^(?:https?:\/\/.+\/)?DocumentReference\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(target.reference);
      const cond = /^DocumentReference\?identifier=(.+)$/.exec(target.reference);
      if (lit) out.id = lit[1];
      else if (cond) {
        const raw = decodeParam(cond[1], `${p}.target.reference`);
        const bar = raw.indexOf('|');
        out.identifier = bar >= 0 ? raw.slice(bar + 1) : raw;
        if (!out.identifier) throw fail('MHD_BAD_RELATES_TO', `${p}.target.reference names no identifier`, `${p}.target.reference`);
      } else
        throw fail('MHD_BAD_RELATES_TO', `${p}.target.reference must point at an existing DocumentReference`, `${p}.target.reference`);
    }
    if (target.identifier) out.identifier = target.identifier.value;
    if (!out.id && !out.identifier)
      throw fail('MHD_BAD_RELATES_TO', `${p}.target names no DocumentReference`, `${p}.target`);
    replaces = out;
  });
  return replaces;
}

/**
 * One DocumentReference → domain metadata. Reused by `parseProvideBundle` (with the Bundle) and for a
 * DocumentReference posted alone (ITI-105 simplified publish: content in attachment.data).
 */
export function parseDocumentReference(resource: unknown, opts: ParseDocumentReferenceOptions = {}): ParsedDocumentReference {
  const path = opts.path ?? 'DocumentReference';
  const doc = asObject(resource, path);
  if (doc.resourceType !== 'DocumentReference')
    throw fail('MHD_NOT_A_DOCUMENT_REFERENCE', `${path} is not a DocumentReference`, `${path}.resourceType`);
  const warnings: SubmissionWarning[] = [];
  const scope: ResolveScope = { resource: doc, resourcePath: path, bundle: opts.bundle, entry: opts.entry };
  checkNoModifierExtension(doc, path);

  // Identifiers: masterIdentifier = uniqueId; identifier[use=official] = entryUUID (MHD EntryUUIDIdentifier).
  const master = optObject(doc, 'masterIdentifier', path);
  const uniqueId = master ? readIdentifier(master, `${path}.masterIdentifier`)?.value : undefined;
  if (!uniqueId)
    throw fail('MHD_MISSING_UNIQUE_ID', 'the document has no uniqueId (masterIdentifier.value)', `${path}.masterIdentifier`);
  let entryUuid: string | undefined;
  optArray(doc, 'identifier', path).forEach((v, i) => {
    const p = `${path}.identifier[${i}]`;
    const id = readIdentifier(v, p);
    if (!id || id.use !== 'official') return;
    const m = /^urn:uuid:(.*)$/i.exec(id.value);
    if (!m || !UUID_RE.test(m[1]) || (id.system !== undefined && id.system !== URI_SYSTEM))
      throw fail('MHD_BAD_ENTRY_UUID', `${p} (entryUUID) must be urn:uuid:<UUID> in system ${URI_SYSTEM}`, `${p}.value`);
    entryUuid ??= `urn:uuid:${m[1].toLowerCase()}`;
  });

  const status = optString(doc, 'status', path);
  if (status === undefined) throw fail('MHD_MISSING_STATUS', 'the document has no status', `${path}.status`);
  if (status !== 'current')
    throw fail('MHD_BAD_STATUS', 'a provided document must have status current', `${path}.status`, { status });

  const typeObj = optObject(doc, 'type', path);
  const type = typeObj ? firstCoding(typeObj, `${path}.type`) : undefined;
  if (!type) throw fail('MHD_MISSING_TYPE', 'the document has no type code', `${path}.type`);
  const categories = optArray(doc, 'category', path);
  const category = categories.length ? firstCoding(categories[0], `${path}.category[0]`) : undefined;
  if (!category) throw fail('MHD_MISSING_CATEGORY', 'the document has no category (class) code', `${path}.category`);

  const subject = optObject(doc, 'subject', path);
  const patient = readPatientLink(subject ? readReference(subject, `${path}.subject`) : undefined, `${path}.subject`, scope);
  const date = optDateTime(doc, 'date', path);

  const authors = optArray(doc, 'author', path).map((a, i) => readAuthorReference(a, `${path}.author[${i}]`, scope));
  const authenticator = optObject(doc, 'authenticator', path);
  if (authenticator) readReference(authenticator, `${path}.authenticator`);
  const comments = optString(doc, 'description', path);

  // securityLabel: confidentiality (v3-Confidentiality) + visibility flags (TRE_A07).
  const securityLabels: Coding[] = [];
  optArray(doc, 'securityLabel', path).forEach((cc, i) => securityLabels.push(...allCodings(cc, `${path}.securityLabel[${i}]`)));
  const flags = flagsOf(securityLabels);
  if (flags.includes('MASQUE_PS') && flags.includes('INVISIBLE_PATIENT'))
    throw fail('MHD_BAD_SECURITY_LABEL', 'MASQUE_PS and INVISIBLE_PATIENT cannot be combined', `${path}.securityLabel`);
  if (!securityLabels.some((c) => c.system === CONFIDENTIALITY_SYSTEM || ['N', 'R', 'V', 'U', 'L', 'M'].includes(c.code))) {
    // PDSm: "en l'absence d'information de confidentialité disponible, la valeur par défaut est N".
    securityLabels.unshift({ system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' });
    warnings.push({ code: 'MHD_DEFAULT_CONFIDENTIALITY', message: 'no confidentiality code: N assumed', expression: [`${path}.securityLabel`] });
  }

  // content: exactly one (MHD content 1..1).
  const contents = optObjects(doc, 'content', path);
  if (contents.length === 0) throw fail('MHD_MISSING_CONTENT', 'the document has no content', `${path}.content`);
  if (contents.length > 1) throw fail('MHD_BAD_CONTENT', 'a DocumentReference carries exactly one content', `${path}.content[1]`);
  const cp = `${path}.content[0]`;
  const attObj = optObject(contents[0], 'attachment', cp);
  if (!attObj) throw fail('MHD_MISSING_CONTENT', 'the content has no attachment', `${cp}.attachment`);
  const ap = `${cp}.attachment`;
  const mimeType = reqString(attObj, 'contentType', ap, 'MHD_MISSING_CONTENT_TYPE', 'the MIME type (attachment.contentType)');
  if (!MIME_RE.test(mimeType)) throw fail('MHD_BAD_CONTENT_TYPE', `${ap}.contentType is not a MIME type`, `${ap}.contentType`);
  const language = optString(attObj, 'language', ap);
  if (language !== undefined && !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language))
    throw badValue(`${ap}.language`, `${ap}.language is not a BCP-47 language tag`);
  const title = optString(attObj, 'title', ap);
  const creation = optDateTime(attObj, 'creation', ap);
  const formatObj = optObject(contents[0], 'format', cp);
  const format = formatObj ? readFormat(formatObj, `${cp}.format`) : undefined;

  let creationTime = creation;
  if (!creationTime) {
    if (!date)
      throw fail('MHD_MISSING_CREATION_TIME', 'the document has no creation time (attachment.creation)', `${ap}.creation`);
    creationTime = date;
    warnings.push({ code: 'MHD_CREATION_FROM_DATE', message: 'attachment.creation missing: DocumentReference.date used', expression: [`${ap}.creation`] });
  }

  // context
  const ctx = optObject(doc, 'context', path);
  const xp = `${path}.context`;
  let servicePeriod: DocumentMetadata['servicePeriod'];
  let facilityType: Coding | undefined;
  let practiceSetting: Coding | undefined;
  let events: Coding[] | undefined;
  let referenceIds: DocumentMetadata['referenceIds'];
  if (ctx) {
    const period = optObject(ctx, 'period', xp);
    if (period) {
      const start = optDateTime(period, 'start', `${xp}.period`);
      const end = optDateTime(period, 'end', `${xp}.period`);
      if (start && end && Date.parse(end) < Date.parse(start))
        throw fail('MHD_BAD_PERIOD', 'the service period ends before it starts', `${xp}.period`);
      if (start || end) servicePeriod = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
    }
    const ft = optObject(ctx, 'facilityType', xp);
    if (ft) facilityType = firstCoding(ft, `${xp}.facilityType`);
    const ps = optObject(ctx, 'practiceSetting', xp);
    if (ps) practiceSetting = firstCoding(ps, `${xp}.practiceSetting`);
    const ev = optArray(ctx, 'event', xp)
      .map((cc, i) => firstCoding(cc, `${xp}.event[${i}]`))
      .filter((c): c is Coding => c !== undefined);
    if (ev.length) events = ev;
    const spi = optObject(ctx, 'sourcePatientInfo', xp);
    if (spi) {
      const r = readReference(spi, `${xp}.sourcePatientInfo`);
      if (r.reference?.startsWith('#')) {
        const hit = resolveContained(doc, r.reference, path);
        if (!hit || hit.resource.resourceType !== 'Patient')
          throw fail('MHD_BAD_REFERENCE', `${xp}.sourcePatientInfo must point at a contained Patient`, `${xp}.sourcePatientInfo.reference`);
      }
    }
    const related = optObjects(ctx, 'related', xp)
      .map((rel, i) => {
        const r = readReference(rel, `${xp}.related[${i}]`);
        return r.identifier
          ? { value: r.identifier.value, ...(r.identifier.system ? { system: r.identifier.system } : {}), ...(r.identifier.type ? { type: r.identifier.type } : {}) }
          : r.reference
            ? { value: r.reference }
            : undefined;
      })
      .filter((r): r is NonNullable<typeof r> => r !== undefined);
    if (related.length) referenceIds = related;
  }

  const replaces = readReplaces(doc, path, warnings);

  const metadata: DocumentMetadata = {
    uniqueId,
    ...(entryUuid ? { entryUuid } : {}),
    type,
    category,
    authors,
    creationTime,
    ...(servicePeriod ? { servicePeriod } : {}),
    ...(facilityType ? { facilityType } : {}),
    ...(practiceSetting ? { practiceSetting } : {}),
    ...(events ? { events } : {}),
    ...(format ? { format } : {}),
    mimeType,
    ...(language ? { language } : {}),
    securityLabels,
    ...(title ? { title } : {}),
    ...(comments ? { comments } : {}),
    ...(referenceIds ? { referenceIds } : {}),
  };

  // The document itself: attachment.data inline, or attachment.url → a Binary (or FHIR document
  // Bundle, ITI-65 FHIR Document Publish option) in the same Bundle.
  const data = optString(attObj, 'data', ap);
  const url = optString(attObj, 'url', ap);
  let bytes: Buffer | undefined;
  let contentEntry: EntryInfo | undefined;
  if (data !== undefined && url !== undefined)
    throw fail('MHD_BAD_CONTENT', 'the attachment has both data and url', `${ap}.data`);
  if (data !== undefined) {
    bytes = decodeBase64(data, `${ap}.data`);
    checkSizeAndHash(attObj, ap, bytes, metadata);
  } else if (url !== undefined && opts.bundle) {
    const target = opts.bundle.resolve(url, opts.entry);
    if (!target)
      throw fail('MHD_BINARY_MISSING', 'attachment.url must point at a Binary in the Bundle (Carnet does not fetch documents)', `${ap}.url`);
    contentEntry = target;
    if (target.resourceType === 'Binary') {
      bytes = binaryBytes(target);
      const declared = optString(target.resource, 'contentType', `${target.path}.resource`);
      if (declared && essence(declared) !== essence(mimeType))
        warnings.push({ code: 'MHD_CONTENT_TYPE_DIFFERS', message: 'Binary.contentType differs from attachment.contentType; the latter is kept', expression: [`${target.path}.resource.contentType`] });
      checkSizeAndHash(attObj, ap, bytes, metadata);
    } else if (target.resourceType === 'Bundle' && target.resource.type === 'document') {
      // FHIR Document Publish option: hash and size are to be absent; the document is kept as sent (JSON).
      bytes = Buffer.from(JSON.stringify(target.resource), 'utf8');
      if (attObj.size !== undefined || attObj.hash !== undefined)
        warnings.push({ code: 'MHD_HASH_IGNORED', message: 'hash and size of a FHIR document are not checked', expression: [ap] });
    } else throw fail('MHD_BINARY_MISSING', 'attachment.url must point at a Binary', `${ap}.url`);
  } else if (url === undefined) {
    throw fail('MHD_MISSING_CONTENT', 'the attachment has neither url nor data', `${ap}.url`);
  }
  if (bytes !== undefined && bytes.length === 0)
    throw fail('MHD_EMPTY_DOCUMENT', 'the document is empty', contentEntry ? `${contentEntry.path}.resource.data` : `${ap}.data`);

  return {
    metadata,
    patient,
    ...(bytes !== undefined ? { bytes } : {}),
    ...(url !== undefined ? { contentUrl: url } : {}),
    ...(contentEntry ? { contentEntry } : {}),
    ...(replaces ? { replaces } : {}),
    warnings,
  };
}

function readFormat(o: Json, path: string): Coding | undefined {
  const c = optString(o, 'code', path);
  const system = optString(o, 'system', path);
  const display = optString(o, 'display', path);
  return c ? { code: c, ...(system ? { system } : {}), ...(display ? { display } : {}) } : undefined;
}

function binaryBytes(e: EntryInfo): Buffer {
  const p = `${e.path}.resource`;
  if (optString(e.resource, 'contentType', p) === undefined)
    throw fail('MHD_MISSING_CONTENT_TYPE', 'the Binary has no contentType', `${p}.contentType`);
  const data = optString(e.resource, 'data', p);
  if (data === undefined) throw fail('MHD_BINARY_MISSING_DATA', 'the Binary has no data', `${p}.data`);
  return decodeBase64(data, `${p}.data`);
}

// --- SubmissionSet -------------------------------------------------------------------------------

function isSubmissionSetCode(list: Json, path: string): 'submissionset' | 'folder' | undefined {
  const code = optObject(list, 'code', path);
  if (!code) return undefined;
  const codes = allCodings(code, `${path}.code`).map((c) => c.code);
  if (codes.includes('submissionset')) return 'submissionset';
  if (codes.includes('folder')) return 'folder';
  return undefined;
}

function parseSubmissionSet(
  e: EntryInfo,
  bundle: BundleIndex,
  warnings: SubmissionWarning[],
): { info: SubmissionSetInfo; patient?: PatientLink; items: Array<{ target: EntryInfo; path: string }> } {
  const list = e.resource;
  const path = `${e.path}.resource`;
  const scope: ResolveScope = { resource: list, resourcePath: path, bundle, entry: e };
  checkNoModifierExtension(list, path);

  // identifiers: uniqueId (use usual), entryUUID (use official, urn:uuid:).
  let uniqueId: string | undefined;
  let entryUuid: string | undefined;
  let officialOther: string | undefined;
  optArray(list, 'identifier', path).forEach((v, i) => {
    const p = `${path}.identifier[${i}]`;
    const id = readIdentifier(v, p);
    if (!id) return;
    if (id.use === 'usual') uniqueId ??= id.value;
    else if (id.use === 'official') {
      const m = /^urn:uuid:(.*)$/i.exec(id.value);
      if (m) {
        if (!UUID_RE.test(m[1])) throw fail('MHD_BAD_ENTRY_UUID', `${p} (entryUUID) must be urn:uuid:<UUID>`, `${p}.value`);
        entryUuid ??= `urn:uuid:${m[1].toLowerCase()}`;
      } else officialOther ??= id.value; // some senders swap the uses; an OID here is the uniqueId
    } else if (/^urn:oid:/i.test(id.value)) uniqueId ??= id.value;
  });
  uniqueId ??= officialOther;
  let uniqueIdAssigned = false;
  if (!uniqueId) {
    // MHD requires it; the PDSm4DMP examples omit it. Carnet assigns one, derived from the entry's
    // urn:uuid fullUrl when it has one (stable for a given Bundle), and says so in a warning.
    const m = e.fullUrl ? /^urn:uuid:(.*)$/i.exec(e.fullUrl) : null;
    uniqueId = `urn:oid:${uuidToOid(m && UUID_RE.test(m[1]) ? m[1] : randomUUID())}`;
    uniqueIdAssigned = true;
    warnings.push({ code: 'MHD_SUBMISSION_SET_UNIQUE_ID_ASSIGNED', message: 'the SubmissionSet has no uniqueId: Carnet assigned one', expression: [`${path}.identifier`] });
  }

  // extensions
  const sourceExt = extensionsNamed(list, path, (u) => isExtension(u, MHD_EXT.sourceId));
  if (!sourceExt.length) throw fail('MHD_MISSING_SOURCE_ID', 'the SubmissionSet has no ihe-sourceId extension', `${path}.extension`);
  const { ext: se, path: sp } = sourceExt[0];
  const sIdObj = optObject(se, 'valueIdentifier', sp);
  const sourceId = sIdObj ? readIdentifier(sIdObj, `${sp}.valueIdentifier`)?.value : (optString(se, 'valueUri', sp) ?? optString(se, 'valueString', sp));
  if (!sourceId) throw fail('MHD_MISSING_SOURCE_ID', 'the ihe-sourceId extension has no value', `${sp}.valueIdentifier.value`);

  let contentType: Coding | undefined;
  const dt = extensionsNamed(list, path, (u) => isExtension(u, MHD_EXT.designationType))[0];
  if (dt) {
    const cc = optObject(dt.ext, 'valueCodeableConcept', dt.path);
    if (!cc) throw wrongType(`${dt.path}.valueCodeableConcept`, 'a CodeableConcept', dt.ext.valueCodeableConcept);
    contentType = firstCoding(cc, `${dt.path}.valueCodeableConcept`);
  }

  const submissionTime = optString(list, 'date', path);
  if (submissionTime === undefined)
    throw fail('MHD_MISSING_SUBMISSION_TIME', 'the SubmissionSet has no submission time (List.date)', `${path}.date`);
  if (!isFhirDateTime(submissionTime)) throw badValue(`${path}.date`, `${path}.date is not a FHIR dateTime`);

  const title = optString(list, 'title', path);
  const notes = optObjects(list, 'note', path).map((n, i) => optString(n, 'text', `${path}.note[${i}]`)).filter(Boolean);

  // author: List.source (+ ihe-authorOrg, on List.source or, as some senders do, on the List).
  const authors: DocumentAuthor[] = [];
  const source = optObject(list, 'source', path);
  if (source) {
    const r = readReference(source, `${path}.source`);
    if (r.reference || r.identifier) authors.push(readAuthorReference(source, `${path}.source`, scope));
  }
  const orgExts = [
    ...(source ? extensionsNamed(source, `${path}.source`, (u) => isExtension(u, MHD_EXT.authorOrg)) : []),
    ...extensionsNamed(list, path, (u) => isExtension(u, MHD_EXT.authorOrg)),
  ];
  for (const { ext, path: p } of orgExts) {
    const ref = optObject(ext, 'valueReference', p);
    if (!ref) throw wrongType(`${p}.valueReference`, 'a Reference', ext.valueReference);
    const org = readAuthorReference(ref, `${p}.valueReference`, scope);
    const person = authors.find((a) => a.kind !== 'organisation' && !a.organisation);
    if (person && org.organisation) person.organisation = org.organisation;
    else authors.push(org.kind === 'organisation' ? org : { kind: 'organisation', organisation: org.organisation ?? {} });
  }

  const subject = optObject(list, 'subject', path);
  const patient = subject ? readPatientLink(readReference(subject, `${path}.subject`), `${path}.subject`, scope) : undefined;

  const items: Array<{ target: EntryInfo; path: string }> = [];
  optObjects(list, 'entry', path).forEach((le, i) => {
    const p = `${path}.entry[${i}].item`;
    const itemObj = optObject(le, 'item', `${path}.entry[${i}]`);
    if (!itemObj) throw fail('MHD_BAD_LIST_ENTRY', `${p} is missing`, p);
    const ref = readReference(itemObj, p);
    const target = ref.reference ? bundle.resolve(ref.reference, e) : undefined;
    if (!target || (target.resourceType !== 'DocumentReference' && target.resourceType !== 'List'))
      throw fail('MHD_BAD_LIST_ENTRY', `${p} must point at a DocumentReference or Folder of the Bundle`, `${p}.reference`);
    items.push({ target, path: p });
  });

  return {
    info: {
      uniqueId,
      ...(uniqueIdAssigned ? { uniqueIdAssigned } : {}),
      ...(entryUuid ? { entryUuid } : {}),
      sourceId,
      submissionTime,
      ...(title ? { title } : {}),
      ...(notes.length ? { comments: notes.join('\n') } : {}),
      authors,
      ...(contentType ? { contentType } : {}),
      ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}),
    },
    ...(patient ? { patient } : {}),
    items,
  };
}

// --- replaced-document status updates ------------------------------------------------------------

function parseStatusUpdate(e: EntryInfo): ReplacesTarget {
  const p = `${e.path}.request.url`;
  const m = /^(?:.*\/)?DocumentReference\/([A-Za-z0-9\-.]{1,64})$/.exec(e.url);
  const cond = /^DocumentReference\?identifier=(.+)$/.exec(e.url);
  const target: ReplacesTarget | undefined = m
    ? { id: m[1] }
    : cond
      ? { identifier: decodeParam(cond[1], p).split('|').pop()! }
      : undefined;
  if (!target) throw fail('MHD_UNSUPPORTED_UPDATE', 'only DocumentReference/{id} may be updated in a Provide Document Bundle', p);
  const rp = `${e.path}.resource`;
  if (e.method === 'PATCH') {
    if (e.resourceType !== 'Parameters')
      throw fail('MHD_UNSUPPORTED_UPDATE', 'a PATCH in the Bundle must be a FHIRPath Patch (Parameters)', `${rp}.resourceType`);
    const ops = optObjects(e.resource, 'parameter', rp);
    if (ops.length !== 1) throw fail('MHD_UNSUPPORTED_UPDATE', 'the PATCH must hold one operation', `${rp}.parameter`);
    const parts = new Map<string, unknown>();
    optObjects(ops[0], 'part', `${rp}.parameter[0]`).forEach((part) => {
      const value = part.valueCode ?? part.valueString ?? part.valueUri;
      if (typeof part.name === 'string') parts.set(part.name, value);
    });
    if (ops[0].name !== 'operation' || parts.get('type') !== 'replace' || parts.get('path') !== 'DocumentReference.status' || parts.get('value') !== 'superseded')
      throw fail('MHD_UNSUPPORTED_UPDATE', 'the only update allowed here sets DocumentReference.status to superseded', `${rp}.parameter[0]`);
  } else {
    if (e.resourceType !== 'DocumentReference' || e.resource.status !== 'superseded')
      throw fail('MHD_UNSUPPORTED_UPDATE', 'the only update allowed here sets DocumentReference.status to superseded', `${rp}.status`);
  }
  return target;
}

// --- Bundle --------------------------------------------------------------------------------------

function readEntries(bundle: Json): EntryInfo[] {
  const raw = optArray(bundle, 'entry', 'Bundle');
  if (raw.length === 0) throw fail('MHD_EMPTY_BUNDLE', 'the Bundle has no entries', 'Bundle.entry');
  if (raw.length > MAX_ENTRIES)
    throw new CarnetError('MHD_TOO_MANY_ENTRIES', 'too_large', `a Provide Document Bundle holds at most ${MAX_ENTRIES} entries`, {
      expression: ['Bundle.entry'],
      details: { max: MAX_ENTRIES, got: raw.length },
    });
  return raw.map((v, index) => {
    const path = `Bundle.entry[${index}]`;
    const entry = asObject(v, path);
    const fullUrl = optString(entry, 'fullUrl', path);
    const resource = optObject(entry, 'resource', path);
    if (!resource) throw fail('MHD_MISSING_RESOURCE', `${path} has no resource`, `${path}.resource`);
    const resourceType = optString(resource, 'resourceType', `${path}.resource`);
    if (!resourceType) throw fail('MHD_MISSING_RESOURCE', `${path}.resource has no resourceType`, `${path}.resource.resourceType`);
    const id = optString(resource, 'id', `${path}.resource`);
    const request = optObject(entry, 'request', path);
    if (!request) throw fail('MHD_BAD_REQUEST', `${path} has no request (a transaction entry needs one)`, `${path}.request`);
    const method = reqString(request, 'method', `${path}.request`, 'MHD_BAD_REQUEST', 'request.method');
    const url = reqString(request, 'url', `${path}.request`, 'MHD_BAD_REQUEST', 'request.url');
    return { index, path, ...(fullUrl ? { fullUrl } : {}), resource, resourceType, ...(id ? { id } : {}), method, url };
  });
}

/** Parses and checks an ITI-65 Provide Document Bundle. Throws the first problem as a CarnetError. */
export function parseProvideBundle(input: unknown): ProvideSubmission {
  if (!(typeof input === 'object' && input !== null && !Array.isArray(input)) || (input as Json).resourceType !== 'Bundle')
    throw fail('MHD_NOT_A_BUNDLE', 'the body is not a FHIR Bundle', 'Bundle', {
      resourceType: typeof (input as Json | null)?.resourceType === 'string' ? (input as Json).resourceType : undefined,
    });
  const b = input as Json;
  if (b.type !== 'transaction')
    throw fail('MHD_NOT_A_TRANSACTION', 'a Provide Document Bundle is a transaction Bundle', 'Bundle.type', {
      type: typeof b.type === 'string' ? b.type : undefined,
    });

  // Profile: an absent meta.profile is accepted as 'unknown' (robustness, ITI-65 §2:3.65.4.1.3);
  // a profile that is there must include a known Provide Document Bundle profile.
  const meta = optObject(b, 'meta', 'Bundle');
  const profiles = meta ? optArray(meta, 'profile', 'Bundle.meta') : [];
  let profile: MetadataLevel = 'unknown';
  if (profiles.length) {
    const levels = profiles.map((p, i) => {
      if (typeof p !== 'string') throw wrongType(`Bundle.meta.profile[${i}]`, 'a string', p);
      return bundleProfileLevel(p);
    });
    if (levels.includes('comprehensive')) profile = 'comprehensive';
    else if (levels.includes('minimal')) profile = 'minimal';
    else
      throw fail('MHD_WRONG_PROFILE', 'Bundle.meta.profile names no MHD or PDSm Provide Document Bundle profile', 'Bundle.meta.profile', {
        profiles: profiles.slice(0, 5),
      });
  }

  const entries = readEntries(b);
  const index = new BundleIndex(entries);
  const warnings: SubmissionWarning[] = [];

  const submissionSets: EntryInfo[] = [];
  const docEntries: EntryInfo[] = [];
  const contentEntries: EntryInfo[] = [];
  const updates: EntryInfo[] = [];
  for (const e of entries) {
    const m = e.method.toUpperCase();
    if ((m === 'PATCH' || m === 'PUT') && (e.resourceType === 'Parameters' || e.resourceType === 'DocumentReference')) {
      updates.push({ ...e, method: m });
      continue;
    }
    if (m !== 'POST')
      throw fail('MHD_BAD_REQUEST_METHOD', `${e.path}.request.method must be POST`, `${e.path}.request.method`, { method: e.method });
    switch (e.resourceType) {
      case 'List': {
        const kind = isSubmissionSetCode(e.resource, `${e.path}.resource`);
        if (kind === 'submissionset') submissionSets.push(e);
        else if (kind === 'folder')
          warnings.push({ code: 'PartialFolderContentNotProcessed', message: 'Carnet does not keep Folders', expression: [`${e.path}.resource`] });
        else throw fail('MHD_BAD_LIST_CODE', 'a List in the Bundle must be a submissionset or a folder', `${e.path}.resource.code`);
        break;
      }
      case 'DocumentReference':
        docEntries.push(e);
        break;
      case 'Binary':
        contentEntries.push(e);
        break;
      case 'Bundle':
        if (e.resource.type !== 'document')
          throw fail('MHD_UNEXPECTED_RESOURCE', 'only a FHIR document Bundle may be nested', `${e.path}.resource.type`);
        contentEntries.push(e);
        break;
      case 'Patient':
        // Minimal MHD allows one Patient entry; Carnet files to existing records only, so it only
        // serves to resolve references to it.
        warnings.push({ code: 'MHD_PATIENT_ENTRY_IGNORED', message: 'the Patient entry is not created or updated', expression: [`${e.path}.resource`] });
        break;
      default:
        throw fail('MHD_UNEXPECTED_RESOURCE', `${e.path}.resource has no place in a Provide Document Bundle`, `${e.path}.resource.resourceType`, {
          resourceType: e.resourceType,
        });
    }
  }
  if (submissionSets.length === 0)
    throw fail('MHD_MISSING_SUBMISSION_SET', 'the Bundle has no SubmissionSet (List with code submissionset)', 'Bundle.entry');
  if (submissionSets.length > 1)
    throw fail('MHD_MULTIPLE_SUBMISSION_SETS', 'the Bundle has more than one SubmissionSet', `${submissionSets[1].path}.resource`);
  if (docEntries.length === 0) throw fail('MHD_NO_DOCUMENT', 'the Bundle provides no DocumentReference', 'Bundle.entry');

  const ss = parseSubmissionSet(submissionSets[0], index, warnings);

  const documents: ProvidedDocument[] = [];
  const used = new Set<EntryInfo>();
  let patient = ss.patient;
  let patientFrom = ss.patient ? `${submissionSets[0].path}.resource.subject` : undefined;
  for (const e of docEntries) {
    const parsed = parseDocumentReference(e.resource, { path: `${e.path}.resource`, bundle: index, entry: e });
    if (!patient) {
      patient = parsed.patient;
      patientFrom = `${e.path}.resource.subject`;
    } else if (!samePatient(patient, parsed.patient))
      throw fail('MHD_PATIENT_MISMATCH', `the document's patient is not the one of ${patientFrom}`, `${e.path}.resource.subject`);
    if (parsed.contentEntry) used.add(parsed.contentEntry);
    warnings.push(...parsed.warnings);
    documents.push({
      ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}),
      metadata: { ...parsed.metadata, sourceId: ss.info.sourceId },
      bytes: parsed.bytes!,
      ...(parsed.replaces ? { replaces: parsed.replaces } : {}),
    });
    if (ss.items.length && !ss.items.some((it) => it.target === e))
      warnings.push({ code: 'MHD_DOCUMENT_NOT_LISTED', message: 'the SubmissionSet does not list this DocumentReference', expression: [`${e.path}.resource`] });
  }
  for (const c of contentEntries)
    if (!used.has(c))
      throw fail('MHD_UNREFERENCED_BINARY', `${c.path}.resource is not the content of any DocumentReference`, `${c.path}.resource`);

  const uniqueIds = new Set<string>();
  documents.forEach((d, i) => {
    if (uniqueIds.has(d.metadata.uniqueId))
      throw fail('MHD_DUPLICATE_UNIQUE_ID', 'two documents of the Bundle share a uniqueId', `${docEntries[i].path}.resource.masterIdentifier.value`);
    uniqueIds.add(d.metadata.uniqueId);
  });

  const supersedes = updates.map((u) => {
    const target = parseStatusUpdate(u);
    const matched = documents.some(
      (d) => d.replaces && ((target.id && d.replaces.id === target.id) || (target.identifier && d.replaces.identifier === target.identifier)),
    );
    if (!matched)
      throw fail('MHD_UNEXPECTED_UPDATE', 'the Bundle supersedes a document that no new document replaces', `${u.path}.request.url`);
    return target;
  });

  return {
    profile,
    submissionSet: ss.info,
    patient: patient!,
    documents,
    supersedes,
    warnings,
  };
}
