/**
 * Inputs and output of the access decision (DOMAIN §5). Everything here is plain data: the services
 * gather it from the store, `decide` judges it without I/O.
 */
import type { Coding, DocumentStatus, VisibilityFlag } from '../document.ts';

export type AccessMode = 'normal' | 'bris_de_glace' | 'centre_15';
export const ACCESS_MODES: readonly AccessMode[] = ['normal', 'bris_de_glace', 'centre_15'];

export type RecordState = 'pending' | 'active' | 'opposed' | 'closed' | 'deleted' | 'suspended';

/** Roles that may never read a record (CSP L1111-18), whatever they claim. */
export type ForbiddenRole = 'insurer' | 'mutuelle' | 'employer' | 'occupational_doctor' | 'other';

export type Actor =
  | { kind: 'holder'; id: string; name: string }
  | { kind: 'legal_representative'; id: string; name: string }
  | { kind: 'caregiver'; id: string; name: string }
  | {
      kind: 'professional';
      /** RPPS, 11 digits. */
      id: string;
      name: string;
      /** TRE_G15 profession code: '10' médecin, '21' pharmacien, '60' infirmier … */
      professionCode: string;
      specialty?: string;
      /** FINESS of the structure the professional acts for. */
      organisation?: string;
    }
  | { kind: 'forbidden'; id: string; name: string; role: ForbiddenRole }
  | { kind: 'operator'; id: string; name: string }
  /**
   * A catalogue app acting for the holder with the scopes the holder consented to. `recordId`: the
   * record the holder connected it to; when set, the app reads and writes nothing else.
   */
  | { kind: 'app'; id: string; name: string; allowedTypes?: string[]; allowedCategories?: string[]; recordId?: string }
  /** Carnet itself (jobs, migrations): never reads content through `decide`. */
  | { kind: 'system'; id: string; name: string };

export interface RecordView {
  id: string;
  state: RecordState;
  /** The holder is a minor: legal representatives act for them. */
  minor?: boolean;
}

/** A time-boxed emergency session opened by a professional on this record. */
export interface EmergencySession {
  mode: 'bris_de_glace' | 'centre_15';
  startedAt: string; // ISO
  expiresAt: string; // ISO
  justification: string;
}

/** How the actor stands towards the record, as recorded by the services. */
export interface Relationship {
  /** Member of the care team, holder informed (deemed authorized, R1111-46). */
  careTeam?: boolean;
  /** The holder objected to the care-team deemed authorization for this professional. */
  careTeamObjected?: boolean;
  /** Explicit consent (TD0.3); `revokedAt` set when withdrawn. */
  consent?: { grantedAt: string; expiresAt?: string; revokedAt?: string };
  /** Blocked by the holder. */
  blockedAt?: string;
  medecinTraitant?: boolean;
  administrateur?: boolean;
  /** For person actors: their link to the record. */
  personLink?: 'holder' | 'legal_representative' | 'caregiver';
  /** For caregivers: what the holder delegated. */
  delegation?: { read: boolean; addDocuments?: boolean };
  /** Current or past emergency session of this professional on this record. */
  emergency?: EmergencySession;
}

export interface HolderSettings {
  /** SAMU regulating doctors may read (centre 15). */
  samuAllowed: boolean;
  /** Break-glass allowed. */
  breakGlassAllowed: boolean;
  /** Masked documents are shown in an emergency. */
  maskedInEmergency: boolean;
  /** New documents are masked (MASQUE_PS) by default. */
  maskNewByDefault: boolean;
}

export const DEFAULT_HOLDER_SETTINGS: HolderSettings = {
  samuAllowed: true,
  breakGlassAllowed: true,
  maskedInEmergency: false,
  maskNewByDefault: false,
};

/** The document as the decision sees it. */
export interface DocumentView {
  id: string;
  /** Class code (JDV_J57 / TRE_A03), '90' = added by the patient. */
  category: Coding;
  /** LOINC type. */
  type: Coding;
  status: DocumentStatus;
  archived?: boolean;
  flags: VisibilityFlag[];
  authorIds: string[]; // RPPS of authors
  authorOrganisations: string[]; // FINESS
  submittedAt: string;
  invisibleSince?: string;
  announcedAt?: string;
}

/** Access-history authorization statuses of TD0.2. */
export type AuthorizationStatus = 'VALIDE' | 'EXPIRE' | 'INTERDIT' | 'NON_EXISTE';

export interface Decision {
  allow: boolean;
  /** Stable machine code, e.g. `ALLOW_CONSENT`, `DENY_BLOCKED`, `DENY_MATRIX`. */
  reason: string;
  /** Plain-language explanation for the holder and the professional. */
  explanation: { fr: string; en: string };
}
