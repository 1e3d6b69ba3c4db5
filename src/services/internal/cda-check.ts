/**
 * When a filed document is a CDA R2, its header must agree with the metadata it was filed under:
 * same patient (INS, with a valid key), same type, and an author in common. A mismatch is refused
 * with a reason that names the field (never the values: they are health data).
 */
import { CarnetError, invalid } from '../../domain/errors.ts';
import type { DocumentMetadata } from '../../domain/document.ts';
import { insKindOfOid, parseIns } from '../../domain/ins.ts';
import { parseCdaHeader, type CdaHeader, type CdaId } from '../../fhir/cda/header.ts';
import type { RecordRow } from './repo.ts';

const XML_TYPES = new Set(['text/xml', 'application/xml', 'application/hl7-v3+xml', 'application/hl7-cda+xml']);

/** True when the bytes look like XML (after an optional BOM and whitespace). */
function looksLikeXml(bytes: Buffer): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x3c; // '<'
}

export function checkCdaAgreement(meta: DocumentMetadata, bytes: Buffer, record: RecordRow, where: string[]): CdaHeader | undefined {
  const mime = meta.mimeType.split(';')[0].trim().toLowerCase();
  if (!XML_TYPES.has(mime) && !(mime.endsWith('+xml') && looksLikeXml(bytes))) return undefined;
  let header: CdaHeader;
  try {
    header = parseCdaHeader(bytes);
  } catch (e) {
    // a plain XML document that is not a CDA is filed as it is; anything unsafe or broken is refused
    if (e instanceof CarnetError && e.code === 'CDA_NOT_CLINICAL_DOCUMENT' && mime !== 'application/hl7-cda+xml') return undefined;
    if (e instanceof CarnetError) throw new CarnetError(e.code, e.kind, e.message, { details: e.details, expression: where });
    throw e;
  }
  const ins = header.patient.ins;
  if (!ins) throw invalid('CDA_NO_INS', 'The CDA header names no patient INS', { expression: [...where, 'recordTarget'] });
  // Every INS the header carries must be a valid one (DOMAIN §2: a bad key is a clear 4xx), not only
  // the recordTarget's: a document whose legal authenticator (often the patient, for documents the
  // holder signs) carries a mistyped INS has unreliable identity data.
  for (const [id, at] of insIdsOf(header)) {
    try {
      parseIns(id.extension!, id.root);
    } catch (e) {
      if (e instanceof CarnetError) {
        throw new CarnetError(e.code, 'invalid', `CDA header: ${e.message}`, { details: e.details, expression: [...where, at] });
      }
      throw e;
    }
  }
  if (ins.value.toUpperCase() !== record.ins) {
    throw invalid('CDA_PATIENT_MISMATCH', 'The CDA header names another patient than the one the document is filed for', {
      expression: [...where, 'recordTarget'],
    });
  }
  if (header.type?.code && meta.type.code && header.type.code !== meta.type.code) {
    throw invalid('CDA_TYPE_MISMATCH', 'The CDA document type (ClinicalDocument/code) differs from the metadata type', {
      expression: [...where, 'type'],
      details: { cdaType: header.type.code, metadataType: meta.type.code },
    });
  }
  const cdaAuthors = new Set(header.authors.map((a) => a.rpps ?? a.idNat).filter((x): x is string => !!x));
  const metaAuthors = meta.authors.map((a) => a.rpps).filter((x): x is string => !!x);
  if (cdaAuthors.size && metaAuthors.length) {
    const cdaRpps = new Set([...cdaAuthors].map((x) => (x.length === 12 && x.startsWith('8') ? x.slice(1) : x)));
    if (!metaAuthors.some((a) => cdaRpps.has(a))) {
      throw invalid('CDA_AUTHOR_MISMATCH', 'No author of the metadata is an author of the CDA header', { expression: [...where, 'author'] });
    }
  }
  return header;
}

/** INS-rooted identifiers of the header's people, recordTarget first, with where they sit. */
function insIdsOf(header: CdaHeader): Array<[CdaId, string]> {
  const out: Array<[CdaId, string]> = [];
  const add = (ids: CdaId[] | undefined, at: string) => {
    for (const id of ids ?? []) if (id.extension && insKindOfOid(id.root)) out.push([id, at]);
  };
  add(header.patient.ids, 'recordTarget');
  add(header.legalAuthenticator?.ids, 'legalAuthenticator');
  header.authors.forEach((a, i) => add(a.ids, `author[${i}]`));
  header.serviceEvents.forEach((e, i) => e.performers.forEach((p, j) => add(p.ids, `documentationOf[${i}].performer[${j}]`)));
  return out;
}
