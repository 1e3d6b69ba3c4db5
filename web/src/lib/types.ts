/** The shapes the portal API answers with (see src/services/portal/*.ts on the server). */
export interface Pair {
  fr: string;
  en: string;
}

export type MesCategory =
  | 'SYNTHESE' | 'ORD_SOIN' | 'RADIO_SC' | 'BIOLOGIE' | 'CPT_REND' | 'DEPISTAG' | 'CERT_MED' | 'AUTR_DOC' | 'DOC_ADM' | 'DIR_ANT' | 'CAR_VAC' | 'REMB' | 'QUEST_SANTE';

export interface PortalDocument {
  id: string;
  title: string;
  type: { code: string; display?: string };
  classCode: string;
  category: MesCategory;
  categoryLabel: Pair;
  patientAdded: boolean;
  author?: { name?: string; organisation?: string; rpps?: string; kind: string };
  creationTime: string;
  submittedAt: string;
  mimeType: string;
  size: number;
  format: 'cda' | 'pdf' | 'image' | 'text' | 'other';
  status: string;
  archived: boolean;
  masked: boolean;
  invisibleToPatient: boolean;
  hiddenFromRepresentatives: boolean;
  access?: { reason: string; explanation: Pair };
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: Block[][] }
  | { kind: 'table'; caption?: string; head: string[][]; body: string[][]; foot: string[][] }
  | { kind: 'section'; section: Section };

export interface Section {
  title?: string;
  code?: { code: string; system?: string; display?: string };
  blocks: Block[];
}

export interface RenderedCda {
  title?: string;
  typeDisplay?: string;
  author?: string;
  authorOrganisation?: string;
  date?: string;
  patient?: string;
  sections?: Section[];
  embedded?: { mediaType: string; base64: string };
  unavailable?: 'no_body' | 'external_reference';
}

export type DocumentView =
  | { kind: 'cda'; document: PortalDocument; rendered: RenderedCda }
  | { kind: 'pdf' | 'image' | 'text' | 'other'; document: PortalDocument };

export interface Alert {
  id: string;
  kind: string;
  at: string;
  isNew: boolean;
  emergency: boolean;
  payload: Record<string, string | boolean>;
}

export interface HolderHome {
  record: { id: string; state: string; holderName: string; createdAt: string };
  documentsCount: number;
  newDocuments: PortalDocument[];
  alerts: Alert[];
  seenAt?: string;
}

export interface HolderSettings {
  samuAllowed: boolean;
  breakGlassAllowed: boolean;
  maskedInEmergency: boolean;
  maskNewByDefault: boolean;
}

export interface Profession {
  code: string;
  fr: string;
  en: string;
}

export interface SharedWith {
  rpps: string;
  name?: string;
  profession?: Profession;
  organisation?: string;
  since: string;
  until?: string;
  basis?: 'consent' | 'care_team';
}

export interface SharingView {
  settings?: HolderSettings;
  medecinTraitant?: SharedWith;
  administrateurs: SharedWith[];
  authorized: SharedWith[];
  blocked: SharedWith[];
  careTeamObjections: SharedWith[];
  persons: Array<{ id: string; kind: string; name: string; addedAt: string }>;
  emergencies: Array<{ rpps: string; name?: string; profession?: Profession; mode: string; startedAt: string; expiresAt: string; open: boolean }>;
  canManage: boolean;
}

export interface DirectoryEntry {
  rpps: string;
  name: string;
  profession: Profession;
  specialty?: string;
  organisation?: string;
}

export interface HistoryEntry {
  seq: number;
  at: string;
  actor: { kind: string; id: string; name?: string };
  action: string;
  documentId?: string;
  mode: string;
  outcome: string;
  reason?: string;
  profession?: Profession;
  own: boolean;
  emergency: boolean;
  document?: { id: string; title: string; category: string; categoryLabel: Pair };
}

export interface HolderProfile {
  trustedPerson?: { name: string; relationship?: string; phone?: string; email?: string };
  advanceDirectives?: { written: boolean; keptBy?: string; text?: string };
  organDonation?: { choice: 'not_stated' | 'donor' | 'refuses'; note?: string };
  updatedAt?: string;
}

export interface Me {
  kind: string;
  name: string;
  mode: string;
  expiresAt: string;
  id?: string;
  rpps?: string;
  profession?: Profession;
  organisation?: { finess: string; name?: string };
  records?: Array<{ id: string; link: string }>;
}
