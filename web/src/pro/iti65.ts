/**
 * The upload is an IHE MHD ITI-65 Provide Document Bundle (PDSm4DMP TD2), built here and POSTed to
 * `/fhir` like any hospital software would: a SubmissionSet List, one DocumentReference, its Binary.
 */
const CLASS_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
const LOINC = 'http://loinc.org';
const IDNAT_PS = 'urn:oid:1.2.250.1.71.4.2.1';
const IDNAT_STRUCT = 'urn:oid:1.2.250.1.71.4.2.2';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const VISIBILITY = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
const PROFESSION = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';

/** Document types a professional commonly files, with the DMP class each goes under. */
export const UPLOAD_TYPES: Array<{ code: string; classCode: string; classDisplay: string }> = [
  { code: '11488-4', classCode: '10', classDisplay: 'Compte rendu' },
  { code: '11502-2', classCode: '10', classDisplay: 'Compte rendu' },
  { code: '18748-4', classCode: '10', classDisplay: 'Compte rendu' },
  { code: '34133-9', classCode: '10', classDisplay: 'Compte rendu' },
  { code: '18761-7', classCode: '10', classDisplay: 'Compte rendu' },
  { code: '60591-5', classCode: '11', classDisplay: 'Synthèse' },
  { code: '57833-6', classCode: '42', classDisplay: 'Prescription' },
  { code: '11369-6', classCode: '10', classDisplay: 'Compte rendu' },
];

export interface Author {
  rpps?: string;
  given?: string;
  family?: string;
  professionCode?: string;
  organisation?: { finess?: string; name?: string };
}

export interface UploadInput {
  patientId: string;
  title: string;
  type: { code: string; display?: string; system?: string };
  category: { code: string; display?: string; system?: string };
  creationTime: string;
  mimeType: string;
  contentBase64: string;
  size: number;
  sha1Base64: string;
  uniqueId?: string;
  authors: Author[];
  invisibleToPatient: boolean;
  format?: { code: string; system?: string; display?: string };
}

const uuid = () => crypto.randomUUID();
const oidOf = (u: string) => `2.25.${BigInt('0x' + u.replace(/-/g, '')).toString()}`;

export async function sha1Base64(buf: ArrayBuffer): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-1', buf));
  let s = '';
  d.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s);
}

function authorResources(authors: Author[]) {
  const contained: Record<string, unknown>[] = [];
  const refs: Array<{ reference: string }> = [];
  authors.forEach((a, i) => {
    const pid = `author-${i}`;
    const oid = `author-org-${i}`;
    if (a.organisation?.finess || a.organisation?.name) {
      contained.push({
        resourceType: 'Organization', id: oid,
        ...(a.organisation.finess ? { identifier: [{ system: IDNAT_STRUCT, value: `1${a.organisation.finess}` }] } : {}),
        ...(a.organisation.name ? { name: a.organisation.name } : {}),
      });
    }
    contained.push({
      resourceType: 'Practitioner', id: pid,
      ...(a.rpps ? { identifier: [{ system: IDNAT_PS, value: `8${a.rpps}` }] } : {}),
      ...((a.family || a.given) ? { name: [{ ...(a.family ? { family: a.family } : {}), ...(a.given ? { given: [a.given] } : {}) }] } : {}),
    });
    contained.push({
      resourceType: 'PractitionerRole', id: `${pid}-role`,
      practitioner: { reference: `#${pid}` },
      ...(a.organisation?.finess || a.organisation?.name ? { organization: { reference: `#${oid}` } } : {}),
      ...(a.professionCode ? { code: [{ coding: [{ system: PROFESSION, code: a.professionCode }] }] } : {}),
    });
    refs.push({ reference: `#${pid}-role` });
  });
  return { contained, refs };
}

export function provideBundle(u: UploadInput): Record<string, unknown> {
  const listId = uuid();
  const docId = uuid();
  const binId = uuid();
  const subject = { reference: `Patient/${u.patientId}` };
  const { contained, refs } = authorResources(u.authors);
  const now = new Date().toISOString();
  const labels = [
    { coding: [{ system: CONFIDENTIALITY, code: 'N', display: 'normal' }] },
    ...(u.invisibleToPatient ? [{ coding: [{ system: VISIBILITY, code: 'INVISIBLE_PATIENT', display: 'Non visible par le patient' }] }] : []),
  ];
  return {
    resourceType: 'Bundle',
    meta: { profile: ['https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle'] },
    type: 'transaction',
    entry: [
      {
        fullUrl: `urn:uuid:${listId}`,
        resource: {
          resourceType: 'List',
          identifier: [{ use: 'usual', system: 'urn:ietf:rfc:3986', value: `urn:oid:${oidOf(listId)}` }, { use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${listId}` }],
          extension: [{ url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId', valueIdentifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.250.1.999.1.1' } }],
          status: 'current', mode: 'working',
          code: { coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }] },
          subject, date: now,
          entry: [{ item: { reference: `urn:uuid:${docId}` } }],
        },
        request: { method: 'POST', url: 'List' },
      },
      {
        fullUrl: `urn:uuid:${docId}`,
        resource: {
          resourceType: 'DocumentReference',
          contained,
          masterIdentifier: { system: 'urn:ietf:rfc:3986', value: u.uniqueId ? (u.uniqueId.startsWith('urn:') ? u.uniqueId : `urn:oid:${u.uniqueId}`) : `urn:oid:${oidOf(docId)}` },
          identifier: [{ use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${docId}` }],
          status: 'current',
          type: { coding: [{ system: u.type.system ?? LOINC, code: u.type.code, ...(u.type.display ? { display: u.type.display } : {}) }] },
          category: [{ coding: [{ system: u.category.system ?? CLASS_SYSTEM, code: u.category.code, ...(u.category.display ? { display: u.category.display } : {}) }] }],
          subject, date: now,
          author: refs,
          securityLabel: labels,
          content: [{
            attachment: { contentType: u.mimeType, language: 'fr-FR', url: `urn:uuid:${binId}`, size: u.size, hash: u.sha1Base64, title: u.title, creation: u.creationTime },
            ...(u.format ? { format: { system: u.format.system, code: u.format.code, ...(u.format.display ? { display: u.format.display } : {}) } } : {}),
          }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      {
        fullUrl: `urn:uuid:${binId}`,
        resource: { resourceType: 'Binary', contentType: u.mimeType, data: u.contentBase64 },
        request: { method: 'POST', url: 'Binary' },
      },
    ],
  };
}
