/**
 * Systems, extension URLs and profile URLs of IHE MHD 4.x and the ANS PDSm / PDSm4DMP guides.
 * Checked against the published sources (IHE/ITI.MHD, ansforge/IG-fhir-partage-de-documents-de-sante,
 * ansforge/IG-FHIR-PDSM4DMP-EEDS); see README.md beside this file.
 */

/** Identifier system of uniqueId / entryUUID values (`urn:oid:…`, `urn:uuid:…`). */
export const URI_SYSTEM = 'urn:ietf:rfc:3986';

/** INS systems (DOMAIN §2): NIR, NIA, test NIR, demo NIR. */
export const INS_SYSTEMS = [
  'urn:oid:1.2.250.1.213.1.4.8',
  'urn:oid:1.2.250.1.213.1.4.9',
  'urn:oid:1.2.250.1.213.1.4.10',
  'urn:oid:1.2.250.1.213.1.4.11',
] as const;

/** idNat_PS (`8` + RPPS for RPPS holders). */
export const IDNAT_PS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
/** idNat_Struct (`1` + FINESS for FINESS structures). */
export const IDNAT_STRUCT_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.2';
/** FR Core identifier systems carrying the bare RPPS / FINESS. */
export const RPPS_SYSTEM = 'https://rpps.esante.gouv.fr';
export const FINESS_SYSTEM = 'https://finess.esante.gouv.fr';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
/** TRE_A07 StatutVisibiliteDocument (visibility flags MASQUE_PS, INVISIBLE_PATIENT, …). */
export const VISIBILITY_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
/** The same code system by OID, as XDS-era senders write it. */
export const VISIBILITY_SYSTEM_OID = 'urn:oid:1.2.250.1.213.1.1.4.13';
/** TRE_G15 ProfessionSante. */
export const PROFESSION_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

export const MHD_LIST_TYPES_SYSTEM = 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes';

export const MHD_EXT = {
  sourceId: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId',
  designationType: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType',
  authorOrg: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-authorOrg',
  sourcePatientId: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourcePatientId',
  intendedRecipient: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-intendedRecipient',
} as const;

/** PDSm "archived" flag on DocumentReference and List (valueBoolean). */
export const PDSM_IS_ARCHIVED_EXT = 'http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived';

const PDSM_SD = 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/';
export const PDSM_PROFILES = {
  provideBundle: `${PDSM_SD}pdsm-comprehensive-provide-document-bundle`,
  documentReference: `${PDSM_SD}pdsm-comprehensive-document-reference`,
  submissionSet: `${PDSM_SD}pdsm-submissionset-comprehensive`,
} as const;

const MHD_SD = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/';
export const MHD_PROFILES = {
  minimalProvideBundle: `${MHD_SD}IHE.MHD.Minimal.ProvideBundle`,
  comprehensiveProvideBundle: `${MHD_SD}IHE.MHD.Comprehensive.ProvideBundle`,
  unContainedProvideBundle: `${MHD_SD}IHE.MHD.UnContained.Comprehensive.ProvideBundle`,
  comprehensiveSubmissionSet: `${MHD_SD}IHE.MHD.Comprehensive.SubmissionSet`,
} as const;

/**
 * Provide Document Bundle profiles Carnet accepts, by the metadata level they promise. Compared after
 * normalisation (see `normaliseCanonical`): scheme http/https, case and a `|version` suffix do not
 * matter. The PDSm guide has published the bundle profile under three names over time.
 */
const KNOWN_BUNDLE_PROFILES: ReadonlyArray<[string, 'minimal' | 'comprehensive']> = [
  [MHD_PROFILES.minimalProvideBundle, 'minimal'],
  [MHD_PROFILES.comprehensiveProvideBundle, 'comprehensive'],
  // UnContained only relaxes containment, which Carnet does not require anyway.
  [MHD_PROFILES.unContainedProvideBundle, 'comprehensive'],
  [PDSM_PROFILES.provideBundle, 'comprehensive'],
  [`${PDSM_SD}PDSmComprehensiveProvideDocumentBundle`, 'comprehensive'],
  ['http://esante.gouv.fr/ci-sis/fhir/StructureDefinition/PDSm_ComprehensiveProvideDocumentBundle', 'comprehensive'],
];

export function normaliseCanonical(url: string): string {
  return url.split('|')[0].trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase();
}

const BUNDLE_PROFILE_LEVEL = new Map(KNOWN_BUNDLE_PROFILES.map(([u, l]) => [normaliseCanonical(u), l]));

export function bundleProfileLevel(url: string): 'minimal' | 'comprehensive' | undefined {
  return BUNDLE_PROFILE_LEVEL.get(normaliseCanonical(url));
}

/** Does an extension URL name this MHD extension (http or https, any casing of the host)? */
export function isExtension(url: unknown, canonical: string): boolean {
  return typeof url === 'string' && normaliseCanonical(url) === normaliseCanonical(canonical);
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const OID_RE = /^[0-2](\.(0|[1-9][0-9]*))+$/;
/** FHIR `id` datatype. */
export const FHIR_ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** `1.2.3` → `urn:oid:1.2.3`, a bare UUID → `urn:uuid:…`; anything else unchanged. */
export function asUrn(value: string): string {
  if (/^urn:/i.test(value)) return value;
  if (OID_RE.test(value)) return `urn:oid:${value}`;
  if (UUID_RE.test(value)) return `urn:uuid:${value.toLowerCase()}`;
  return value;
}

/** ISO/IEC 9834-8: a UUID is also the OID `2.25.<the UUID as an unsigned integer>`. */
export function uuidToOid(uuid: string): string {
  const hex = uuid.replace(/^urn:uuid:/i, '').replace(/-/g, '');
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}
