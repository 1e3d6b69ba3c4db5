/// <reference types="fhir" />
/**
 * Domain → FHIR for the read side of MHD: DocumentReference (ITI-67 result, PDSm comprehensive
 * profile), SubmissionSet List (ITI-66), searchset Bundle. Pure functions.
 */
import type { Coding, DocumentAuthor, StoredDocument } from '../../domain/document.ts';
import { VISIBILITY_FLAGS } from '../../domain/document.ts';
import {
  CONFIDENTIALITY_SYSTEM,
  MHD_EXT,
  MHD_LIST_TYPES_SYSTEM,
  PDSM_IS_ARCHIVED_EXT,
  PDSM_PROFILES,
  URI_SYSTEM,
  UUID_RE,
  VISIBILITY_SYSTEM,
  asUrn,
} from './constants.ts';
import { containedAuthors } from './authors.ts';

export interface PatientContext {
  /** The holder's INS (15 characters). */
  ins: string;
  /** Its OID, bare (`1.2.250.1.213.1.4.8`) or as `urn:oid:…`. */
  oid: string;
}

export interface DocumentReferenceContext {
  /** FHIR base, e.g. `https://carnet.example.org/fhir` (no trailing slash needed). */
  baseUrl: string;
  patient: PatientContext;
  /** Resource id of the DocumentReference. */
  id: string;
  /** PDSm `custodian` (the organisation keeping the record, i.e. the Carnet operator), when configured. */
  custodian?: fhir4.Reference;
}

const trimBase = (u: string) => u.replace(/\/+$/, '');
const insSystem = (oid: string) => (oid.startsWith('urn:oid:') ? oid : `urn:oid:${oid}`);

const coding = (c: Coding): fhir4.Coding => ({
  ...(c.system ? { system: c.system } : {}),
  code: c.code,
  ...(c.display ? { display: c.display } : {}),
});
const cc = (c: Coding): fhir4.CodeableConcept => ({ coding: [coding(c)] });

/** The subject reference as PDSm writes it, with the identifier beside it for clients that prefer it. */
export function patientReference(p: PatientContext): fhir4.Reference {
  const system = insSystem(p.oid);
  return {
    reference: `Patient?identifier=${system}|${p.ins}`,
    type: 'Patient',
    identifier: { system, value: p.ins },
  };
}

/** entryUUID of a stored document: the one the source sent, else the Carnet id when it is a UUID. */
export function entryUuidOf(doc: Pick<StoredDocument, 'entryUuid' | 'id'>): string | undefined {
  if (doc.entryUuid) return asUrn(doc.entryUuid);
  return UUID_RE.test(doc.id) ? `urn:uuid:${doc.id.toLowerCase()}` : undefined;
}

/** Identifiers a document answers to in FHIR (masterIdentifier first). Used by `identifier` search too. */
export function documentIdentifiers(doc: Pick<StoredDocument, 'uniqueId' | 'entryUuid' | 'id'>): fhir4.Identifier[] {
  const out: fhir4.Identifier[] = [{ use: 'usual', system: URI_SYSTEM, value: asUrn(doc.uniqueId) }];
  const entryUuid = entryUuidOf(doc);
  if (entryUuid) out.push({ use: 'official', system: URI_SYSTEM, value: entryUuid });
  return out;
}

/**
 * securityLabel: the confidentiality code(s) (N when none was recorded, as PDSm prescribes) then the
 * visibility flags in the TRE_A07 system, whatever system they were stored with.
 */
export function securityLabelsOut(labels: Coding[]): fhir4.CodeableConcept[] {
  const flags = new Set<string>(VISIBILITY_FLAGS);
  const conf = labels.filter((l) => !flags.has(l.code));
  const vis = labels.filter((l) => flags.has(l.code));
  const out: fhir4.CodeableConcept[] = conf.length
    ? conf.map(cc)
    : [{ coding: [{ system: CONFIDENTIALITY_SYSTEM, code: 'N', display: 'normal' }] }];
  const seen = new Set<string>();
  for (const v of vis) {
    if (seen.has(v.code)) continue;
    seen.add(v.code);
    out.push({ coding: [{ system: VISIBILITY_SYSTEM, code: v.code, ...(v.display ? { display: v.display } : {}) }] });
  }
  return out;
}

export function toDocumentReference(doc: StoredDocument, ctx: DocumentReferenceContext): fhir4.DocumentReference {
  const base = trimBase(ctx.baseUrl);
  const system = insSystem(ctx.patient.oid);
  const authors = containedAuthors(doc.authors, 'author-', { system, value: ctx.patient.ins });
  const sourcePatient: fhir4.Patient = { resourceType: 'Patient', id: 'patient-source', identifier: [{ system, value: ctx.patient.ins }] };

  const context: fhir4.DocumentReferenceContext = {
    ...(doc.events?.length ? { event: doc.events.map(cc) } : {}),
    ...(doc.servicePeriod ? { period: { ...doc.servicePeriod } } : {}),
    ...(doc.facilityType ? { facilityType: cc(doc.facilityType) } : {}),
    ...(doc.practiceSetting ? { practiceSetting: cc(doc.practiceSetting) } : {}),
    sourcePatientInfo: { reference: '#patient-source' },
    ...(doc.referenceIds?.length
      ? {
          related: doc.referenceIds.map((r) => ({
            identifier: {
              ...(r.system ? { system: r.system } : {}),
              value: r.value,
              ...(r.type ? { type: { coding: [{ system: URI_SYSTEM, code: r.type }] } } : {}),
            },
          })),
        }
      : {}),
  };

  const [master, ...identifier] = documentIdentifiers(doc);
  return {
    resourceType: 'DocumentReference',
    id: ctx.id,
    meta: { profile: [PDSM_PROFILES.documentReference] },
    contained: [sourcePatient, ...authors.contained] as fhir4.FhirResource[],
    ...(doc.archived ? { extension: [{ url: PDSM_IS_ARCHIVED_EXT, valueBoolean: true }] } : {}),
    masterIdentifier: { system: master.system, value: master.value },
    ...(identifier.length ? { identifier } : {}),
    status: doc.status,
    type: cc(doc.type),
    category: [cc(doc.category)],
    subject: patientReference(ctx.patient),
    date: doc.submittedAt,
    ...(ctx.custodian ? { custodian: ctx.custodian } : {}),
    ...(authors.references.length ? { author: authors.references } : {}),
    ...(doc.comments ? { description: doc.comments } : {}),
    securityLabel: securityLabelsOut(doc.securityLabels),
    ...(doc.replacesId ? { relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${doc.replacesId}` } }] } : {}),
    content: [
      {
        attachment: {
          contentType: doc.mimeType,
          ...(doc.language ? { language: doc.language } : {}),
          url: `${base}/Binary/${doc.id}`,
          size: doc.size,
          hash: doc.sha1,
          ...(doc.title ? { title: doc.title } : {}),
          creation: doc.creationTime,
        },
        ...(doc.format ? { format: coding(doc.format) } : {}),
      },
    ],
    context,
  };
}

// --- SubmissionSet (ITI-66) ----------------------------------------------------------------------

/** A submission set as the services keep it (what ITI-66 lists). */
export interface SubmissionSetView {
  id: string;
  uniqueId: string;
  entryUuid?: string;
  sourceId: string;
  /** FHIR dateTime. */
  submissionTime: string;
  title?: string;
  comments?: string;
  authors: DocumentAuthor[];
  contentType?: Coding;
  /** Server ids of the DocumentReferences it brought. */
  documentIds: string[];
  archived?: boolean;
}

export function toSubmissionSetList(set: SubmissionSetView, ctx: DocumentReferenceContext): fhir4.List {
  const system = insSystem(ctx.patient.oid);
  const people = set.authors.filter((a) => a.kind !== 'organisation');
  const orgs = set.authors.filter((a) => a.kind === 'organisation');
  // List.source is 0..1: the first person or device author; an organisation goes in ihe-authorOrg.
  const sourceAuthor = people.slice(0, 1);
  const src = containedAuthors(sourceAuthor, 'author-', { system, value: ctx.patient.ins });
  const org = containedAuthors(orgs.slice(0, 1), 'author-org-');
  const identifier: fhir4.Identifier[] = [{ use: 'usual', system: URI_SYSTEM, value: asUrn(set.uniqueId) }];
  const entryUuid = set.entryUuid ? asUrn(set.entryUuid) : UUID_RE.test(set.id) ? `urn:uuid:${set.id.toLowerCase()}` : undefined;
  if (entryUuid) identifier.push({ use: 'official', system: URI_SYSTEM, value: entryUuid });
  const orgExt: fhir4.Extension[] = org.references.length ? [{ url: MHD_EXT.authorOrg, valueReference: org.references[0] }] : [];
  const source: fhir4.Reference | undefined = src.references[0]
    ? { ...src.references[0], ...(orgExt.length ? { extension: orgExt } : {}) }
    : orgExt.length
      ? { extension: orgExt }
      : undefined;
  return {
    resourceType: 'List',
    id: ctx.id,
    meta: { profile: [PDSM_PROFILES.submissionSet] },
    ...(src.contained.length || org.contained.length ? { contained: [...src.contained, ...org.contained] as fhir4.FhirResource[] } : {}),
    extension: [
      { url: MHD_EXT.sourceId, valueIdentifier: { system: URI_SYSTEM, value: asUrn(set.sourceId) } },
      ...(set.contentType ? [{ url: MHD_EXT.designationType, valueCodeableConcept: cc(set.contentType) }] : []),
      ...(set.archived ? [{ url: PDSM_IS_ARCHIVED_EXT, valueBoolean: true }] : []),
    ],
    identifier,
    status: 'current',
    mode: 'working',
    ...(set.title ? { title: set.title } : {}),
    code: { coding: [{ system: MHD_LIST_TYPES_SYSTEM, code: 'submissionset' }] },
    subject: patientReference(ctx.patient),
    date: set.submissionTime,
    ...(source ? { source } : {}),
    ...(set.comments ? { note: [{ text: set.comments }] } : {}),
    entry: set.documentIds.map((id) => ({ item: { reference: `DocumentReference/${id}` } })),
  };
}

// --- searchset -----------------------------------------------------------------------------------

export interface SearchsetLinks {
  self: string;
  next?: string;
  previous?: string;
  total?: number;
  /** FHIR base for entry fullUrls; derived from `self` when absent. */
  baseUrl?: string;
  /** Warnings for the client (search.mode `outcome`). */
  outcome?: fhir4.OperationOutcome;
}

/** `https://h/fhir/DocumentReference?x=1` → `https://h/fhir`. */
function baseFromSelf(self: string): string {
  const path = self.split('?')[0].replace(/\/_search$/, '').replace(/\/+$/, '');
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

export function toSearchsetBundle(resources: fhir4.FhirResource[], links: SearchsetLinks): fhir4.Bundle {
  const base = trimBase(links.baseUrl ?? baseFromSelf(links.self));
  const link: fhir4.BundleLink[] = [{ relation: 'self', url: links.self }];
  if (links.next) link.push({ relation: 'next', url: links.next });
  if (links.previous) link.push({ relation: 'previous', url: links.previous });
  const entry: fhir4.BundleEntry[] = resources.map((r) => ({
    ...(r.id ? { fullUrl: `${base}/${r.resourceType}/${r.id}` } : {}),
    resource: r,
    search: { mode: 'match' },
  }));
  if (links.outcome) entry.push({ resource: links.outcome, search: { mode: 'outcome' } });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(links.total !== undefined ? { total: links.total } : {}),
    link,
    entry,
  };
}
