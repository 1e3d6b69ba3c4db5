/** Reading the FHIR answers the workstation uses (TD0.2 Patient, ITI-67 DocumentReference). */
export const EXT = {
  recordState: 'https://carnet.example.org/fhir/StructureDefinition/record-state',
  authorizationStatus: 'https://carnet.example.org/fhir/StructureDefinition/authorization-status',
  medecinTraitant: 'https://carnet.example.org/fhir/StructureDefinition/caller-is-medecin-traitant',
};
export const INS_OID = { NIR: '1.2.250.1.213.1.4.8', NIA: '1.2.250.1.213.1.4.9', TEST: '1.2.250.1.213.1.4.10', DEMO: '1.2.250.1.213.1.4.11' };

export interface PatientStatus {
  id: string;
  ins: string;
  insSystem: string;
  state: string;
  authorization: 'VALIDE' | 'EXPIRE' | 'INTERDIT' | 'NON_EXISTE' | string;
  medecinTraitant: boolean;
  name?: string;
  birthDate?: string;
  gender?: string;
}

type Ext = { url: string; valueCode?: string; valueBoolean?: boolean };
type Res = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function patientStatus(p: Res): PatientStatus {
  const ext = (url: string) => (p.extension as Ext[] | undefined)?.find((e) => e.url === url);
  const n = p.name?.[0];
  return {
    id: p.id,
    ins: p.identifier?.[0]?.value,
    insSystem: p.identifier?.[0]?.system,
    state: ext(EXT.recordState)?.valueCode ?? 'unknown',
    authorization: ext(EXT.authorizationStatus)?.valueCode ?? 'NON_EXISTE',
    medecinTraitant: ext(EXT.medecinTraitant)?.valueBoolean === true,
    ...(n ? { name: [...(n.given ?? []), n.family].filter(Boolean).join(' ') } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.gender ? { gender: p.gender } : {}),
  };
}

export interface ProDocument {
  id: string;
  title: string;
  typeDisplay?: string;
  typeCode?: string;
  classDisplay?: string;
  classCode?: string;
  date?: string;
  author?: string;
  organisation?: string;
  mimeType?: string;
  status: string;
  masked: boolean;
  invisibleToPatient: boolean;
}

export function proDocument(dr: Res): ProDocument {
  const codes = (dr.securityLabel ?? []).flatMap((c: Res) => c.coding ?? []).map((c: Res) => c.code);
  const att = dr.content?.[0]?.attachment ?? {};
  const contained = (dr.contained ?? []) as Res[];
  const pract = contained.find((c) => c.resourceType === 'Practitioner');
  const org = contained.find((c) => c.resourceType === 'Organization');
  const pn = pract?.name?.[0];
  const type = dr.type?.coding?.[0];
  const cls = dr.category?.[0]?.coding?.[0];
  return {
    id: dr.id,
    title: att.title ?? type?.display ?? 'Document',
    typeDisplay: type?.display,
    typeCode: type?.code,
    classDisplay: cls?.display,
    classCode: cls?.code,
    date: att.creation ?? dr.date,
    ...(pn ? { author: [pn.prefix?.[0], ...(pn.given ?? []), pn.family].filter(Boolean).join(' ') } : {}),
    ...(org?.name ? { organisation: org.name } : {}),
    mimeType: att.contentType,
    status: dr.status,
    masked: codes.includes('MASQUE_PS'),
    invisibleToPatient: codes.includes('INVISIBLE_PATIENT'),
  };
}
