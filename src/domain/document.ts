/**
 * Document metadata, PDSm flavour of IHE XDS / MHD (DOMAIN §4). These are the domain's own types;
 * fhir/ maps them to and from FHIR DocumentReference.
 */
export interface Coding {
  system?: string;
  code: string;
  display?: string;
}

/** Visibility flags of TRE_A07 carried in securityLabel beside the confidentiality code. */
export const VISIBILITY_FLAGS = ['MASQUE_PS', 'INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX'] as const;
export type VisibilityFlag = (typeof VISIBILITY_FLAGS)[number];

export type DocumentStatus = 'current' | 'superseded' | 'entered-in-error';

export interface DocumentAuthor {
  /** RPPS (11 digits) when the author is a professional; idNat_PS is '8' + RPPS. */
  rpps?: string;
  given?: string;
  family?: string;
  /** Profession code (TRE_G15) or role coding. */
  professionCode?: string;
  specialty?: Coding;
  role?: Coding;
  organisation?: { finess?: string; name?: string };
  /** 'patient' for documents the holder added (class 90). */
  kind: 'practitioner' | 'patient' | 'device' | 'organisation';
}

/** What a submitter states about a document (input of filing). */
export interface DocumentMetadata {
  /** masterIdentifier / XDS uniqueId (an OID or urn). */
  uniqueId: string;
  /** XDS entryUUID as sent by the source, when it sent one. */
  entryUuid?: string;
  type: Coding;
  category: Coding;
  authors: DocumentAuthor[];
  /** When the author wrote it (ISO 8601). */
  creationTime: string;
  servicePeriod?: { start?: string; end?: string };
  facilityType?: Coding;
  practiceSetting?: Coding;
  events?: Coding[];
  format?: Coding;
  mimeType: string;
  language?: string;
  /** Confidentiality codes (N, R, V …) and the visibility flags. */
  securityLabels: Coding[];
  title?: string;
  /** Free-text comments of the author (encrypted at rest). */
  comments?: string;
  /** XDS referenceIdList (DocumentReference.context.related): order, accession, study identifiers. */
  referenceIds?: Array<{ system?: string; value: string; type?: string }>;
  /** Source system's identifiers (sourceId of the submission set, etc.). */
  sourceId?: string;
  /** Declared size/hash from the submitter, checked against the bytes. */
  declaredSize?: number;
  /** Declared SHA-1 (FHIR R4 attachment.hash), base64, checked against the bytes. */
  declaredSha1?: string;
}

/** A document as stored: metadata + what Carnet computed and manages. */
export interface StoredDocument extends DocumentMetadata {
  id: string;
  recordId: string;
  status: DocumentStatus;
  archived: boolean;
  size: number;
  sha256: string; // hex
  sha1: string; // base64 (FHIR attachment.hash)
  submittedAt: string;
  submissionSetId?: string;
  replacesId?: string;
  /** When INVISIBLE_PATIENT was set (starts the 2-week / 1-month clock). */
  invisibleSince?: string;
  /** When the announcement consultation made it visible to the holder. */
  announcedAt?: string;
  /** Who filed it (the acting actor), for "only the author or its organisation deletes". */
  filedBy: { kind: string; id: string; organisation?: string };
}

export const flagsOf = (labels: Coding[]): VisibilityFlag[] =>
  labels.map((l) => l.code).filter((c): c is VisibilityFlag => (VISIBILITY_FLAGS as readonly string[]).includes(c));

/** Class code for documents added by the patient themself (shown apart). */
export const PATIENT_CLASS_CODE = '90';
