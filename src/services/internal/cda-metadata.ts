/**
 * Full document metadata from a CDA alone (for `carnet import`, the demo and tests): the header
 * gives type, author, dates, setting; the class code is derived from the type through the
 * habilitation matrix's category of that type.
 */
import { createHash } from 'node:crypto';
import type { Coding, DocumentMetadata } from '../../domain/document.ts';
import { mesCategoryOf, defaultMatrix } from '../../domain/access/matrix.ts';
import { cdaHeaderToMetadata, parseCdaHeader, type CdaHeader } from '../../fhir/cda/header.ts';

const CLASS_SYSTEM = defaultMatrix.classSystem;

/** MES category → the DMP class code a source would usually file it under. */
const CLASS_FOR_MES: Record<string, string> = {
  CPT_REND: '10', BIOLOGIE: '10', RADIO_SC: '10', DEPISTAG: '10', CAR_VAC: '10',
  SYNTHESE: '11', ORD_SOIN: '42', CERT_MED: '52', REMB: '60', DOC_ADM: '95', DIR_ANT: '52',
  AUTR_DOC: '10', QUEST_SANTE: '90',
};

/** Dispensations are their own class. */
const DISPENSATION_TYPES = new Set(['60593-1', 'DISP_AUT']);

export function classForType(type: Coding): Coding {
  const code = DISPENSATION_TYPES.has(type.code) ? '43' : (CLASS_FOR_MES[mesCategoryOf(undefined, type)] ?? '10');
  const known = defaultMatrix.classes[code];
  return { system: CLASS_SYSTEM, code, display: known?.label.fr };
}

export function metadataFromCda(bytes: Buffer, header: CdaHeader = parseCdaHeader(bytes)): DocumentMetadata {
  const m = cdaHeaderToMetadata(header);
  const type = m.type ?? { code: '34133-9', system: 'http://loinc.org' };
  return {
    uniqueId: m.uniqueId ?? `2.25.${BigInt('0x' + createHash('sha256').update(bytes).digest('hex').slice(0, 30)).toString()}`,
    type,
    category: classForType(type),
    authors: m.authors ?? [],
    creationTime: m.creationTime ?? new Date().toISOString(),
    servicePeriod: m.servicePeriod,
    facilityType: m.facilityType,
    practiceSetting: m.practiceSetting,
    events: m.events,
    format: m.format,
    mimeType: m.mimeType ?? 'text/xml',
    language: m.language,
    securityLabels: m.securityLabels ?? [],
    title: m.title,
  };
}
