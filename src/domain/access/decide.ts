/**
 * The access decision (DOMAIN §5): one pure function judging one read of one document. Every read
 * path goes through it; nothing else decides. The order of the checks is the order of the
 * sections below; the first refusal wins, so its reason is the one reported. See README.md.
 */
import type { Coding } from '../document.ts';
import { recordAuthorization, personLinked } from './authorization.ts';
import { DEFAULT_EMERGENCY_WINDOW_HOURS, emergencySessionState } from './emergency.ts';
import {
  defaultMatrix,
  MES_CATEGORY_LABELS,
  matrixAllows,
  mesCategoryOf,
  professionLabel,
  type HabilitationMatrix,
  type MesCategory,
} from './matrix.ts';
import { decision, type ExplainContext, type ReasonCode } from './reasons.ts';
import {
  ACCESS_MODES,
  type AccessMode,
  type Actor,
  type Decision,
  type DocumentView,
  type HolderSettings,
  type RecordState,
  type RecordView,
  type Relationship,
} from './types.ts';
import { hiddenFromPatient, invisibleAutoVisibleAt } from './visibility.ts';

export interface AccessPolicy {
  matrix: HabilitationMatrix;
  /** Upper bound of any emergency session, whatever its own `expiresAt` says. */
  emergencyWindowHours: number;
}

export const DEFAULT_POLICY: AccessPolicy = {
  matrix: defaultMatrix,
  emergencyWindowHours: DEFAULT_EMERGENCY_WINDOW_HOURS,
};

/** Record states in which the holder and legal representatives may still read (see README.md). */
export const HOLDER_READABLE_STATES: readonly RecordState[] = ['active', 'pending', 'suspended', 'closed'];

type ProfessionalActor = Extract<Actor, { kind: 'professional' }>;

/** Who may never read content whatever else is true, and modes only professionals use (§5.2, §5.8–9). */
function actorGate(actor: Actor, mode: AccessMode): ReasonCode | undefined {
  if (actor.kind === 'forbidden') return 'DENY_FORBIDDEN_ACTOR';
  if (actor.kind === 'operator' || actor.kind === 'system') return 'DENY_NO_CONTENT_ACCESS';
  if (!(ACCESS_MODES as readonly string[]).includes(mode)) return 'DENY_INVALID_MODE';
  if (mode !== 'normal' && actor.kind !== 'professional') return 'DENY_EMERGENCY_NOT_PROFESSIONAL';
  return undefined;
}

const PERSON_ALLOW: Readonly<Record<string, ReasonCode>> = {
  holder: 'ALLOW_HOLDER',
  legal_representative: 'ALLOW_LEGAL_REPRESENTATIVE',
  caregiver: 'ALLOW_CAREGIVER',
  app: 'ALLOW_APP',
};

/** The ground on which the holder's side reads once every check passed (any other kind: not linked). */
export const personAllow = (actor: Actor): ReasonCode => PERSON_ALLOW[actor.kind] ?? 'DENY_NOT_LINKED';
type AppActor = Extract<Actor, { kind: 'app' }>;

const NOT_VISIBLE_TO_PATIENT = {
  fr: "Ce document n'est pas encore visible par le patient.",
  en: 'This document is not yet visible to the patient.',
};

export function decide(
  actor: Actor,
  record: RecordView,
  relationship: Relationship,
  document: DocumentView,
  holderSettings: HolderSettings,
  mode: AccessMode,
  now: Date,
  policy?: Partial<AccessPolicy>,
): Decision {
  const matrix = policy?.matrix ?? DEFAULT_POLICY.matrix;
  const windowHours = policy?.emergencyWindowHours ?? DEFAULT_POLICY.emergencyWindowHours;
  const cat: MesCategory = mesCategoryOf(document.category, document.type, matrix);
  const object = { fr: MES_CATEGORY_LABELS[cat].docFr, en: MES_CATEGORY_LABELS[cat].docEn };
  const base: ExplainContext = { name: actor.name, object, matrixVersion: matrix.version, state: record.state };
  const out = (reason: ReasonCode, extra: Partial<ExplainContext> = {}): Decision =>
    decision(reason, 'read', { ...base, ...extra });

  // 1. Who may never read content, whatever else is true.
  const refused = actorGate(actor, mode);
  if (refused) return out(refused);

  if (actor.kind === 'professional') {
    return decideProfessional(actor, record, relationship, document, holderSettings, mode, now, matrix, windowHours, out);
  }

  // 2. The holder's side: holder, legal representatives, caregivers, catalogue apps.
  if (actor.kind !== 'app' && !personLinked(actor, relationship)) return out('DENY_NOT_LINKED');
  if (actor.kind === 'app' && actor.recordId !== undefined && actor.recordId !== record.id) return out('DENY_NOT_LINKED');
  const holderSide = actor.kind === 'holder' || actor.kind === 'legal_representative';
  if (holderSide ? !HOLDER_READABLE_STATES.includes(record.state) : record.state !== 'active') {
    return out('DENY_RECORD_STATE');
  }
  if (document.status === 'entered-in-error') return out('DENY_DELETED_DOCUMENT');
  if (actor.kind === 'caregiver' || actor.kind === 'app') {
    if (relationship.blockedAt !== undefined) return out('DENY_BLOCKED');
  }
  if (actor.kind === 'caregiver' && relationship.delegation?.read !== true) return out('DENY_NO_DELEGATION');
  if (actor.kind === 'app' && !appScopeAllows(actor, document.category, document.type, cat)) return out('DENY_APP_SCOPE');

  if (document.flags.includes('INVISIBLE_PATIENT') && hiddenFromPatient(document, now)) {
    return out('DENY_INVISIBLE_PATIENT', { date: invisibleAutoVisibleAt(document) });
  }
  if (document.flags.includes('INVISIBLE_REPRESENTANTS_LEGAUX')) {
    // Legal representatives always; caregivers and apps of a minor too: they may be acting for,
    // or be, the representatives the minor hid the document from (R1111-50).
    if (actor.kind === 'legal_representative' || (record.minor === true && actor.kind !== 'holder')) {
      return out('DENY_INVISIBLE_REPRESENTANTS');
    }
  }
  return out(personAllow(actor));
}

function decideProfessional(
  actor: ProfessionalActor,
  record: RecordView,
  rel: Relationship,
  document: DocumentView,
  settings: HolderSettings,
  mode: AccessMode,
  now: Date,
  matrix: HabilitationMatrix,
  windowHours: number,
  out: (reason: ReasonCode, extra?: Partial<ExplainContext>) => Decision,
): Decision {
  const profession = professionLabel(actor.professionCode, matrix);
  const deny = (reason: ReasonCode, extra: Partial<ExplainContext> = {}) => out(reason, { profession, ...extra });

  // §5.1 only an active record; entered-in-error is gone for every reader; §5.3 block, any mode.
  if (record.state !== 'active') return deny('DENY_RECORD_STATE');
  if (document.status === 'entered-in-error') return deny('DENY_DELETED_DOCUMENT');
  if (rel.blockedAt !== undefined) return deny('DENY_BLOCKED');

  const isAuthor = document.authorIds.includes(actor.id);
  const sameOrganisation = actor.organisation !== undefined && document.authorOrganisations.includes(actor.organisation);

  // §5.4 (normal) or §5.8/§5.9 (emergency): on what ground would the professional read?
  const g = professionalGrant(actor, rel, settings, mode, now, windowHours, isAuthor);
  if ('deny' in g) return deny(g.deny, g.extra);
  const grant = g;

  // §5.5 the matrix binds every professional, médecin traitant and emergencies included.
  if (!matrixAllows(matrix, actor.professionCode, document.category, document.type)) return deny('DENY_MATRIX');

  // §5.6 masked documents.
  if (document.flags.includes('MASQUE_PS')) {
    const privileged = rel.medecinTraitant === true || rel.administrateur === true || isAuthor || sameOrganisation;
    const emergencyOverride = mode !== 'normal' && settings.maskedInEmergency;
    if (!privileged && !emergencyOverride) return deny('DENY_MASKED', { emergency: mode !== 'normal' });
  }

  // §5.7 professionals see INVISIBLE_PATIENT documents, and are told the patient does not.
  const note = document.flags.includes('INVISIBLE_PATIENT') && hiddenFromPatient(document, now) ? NOT_VISIBLE_TO_PATIENT : undefined;
  return out(grant.reason, { profession, ...grant.extra, ...(note ? { note } : {}) });
}

type Grant = { reason: ReasonCode; extra: Partial<ExplainContext> } | { deny: ReasonCode; extra: Partial<ExplainContext> };

/** The ground on which a professional reads in this record and mode (§5.4, §5.8, §5.9), or why not. */
function professionalGrant(
  actor: ProfessionalActor,
  rel: Relationship,
  settings: HolderSettings,
  mode: AccessMode,
  now: Date,
  windowHours: number,
  isAuthor: boolean,
): Grant {
  if (mode === 'normal') {
    const a = recordAuthorization(rel, now);
    if (a.ok) return { reason: a.reason, extra: a.reason === 'ALLOW_CONSENT' ? { date: a.date, until: a.until } : {} };
    // The author reads back what they wrote, without a record-level authorization.
    if (isAuthor) return { reason: 'ALLOW_AUTHOR', extra: {} };
    return { deny: a.reason, extra: { date: a.date } };
  }
  if (mode === 'centre_15' && actor.professionCode !== '10') return { deny: 'DENY_CENTRE_15_NOT_PHYSICIAN', extra: {} };
  if (mode === 'bris_de_glace' && !settings.breakGlassAllowed) return { deny: 'DENY_BREAK_GLASS_DISABLED', extra: {} };
  if (mode === 'centre_15' && !settings.samuAllowed) return { deny: 'DENY_SAMU_DISABLED', extra: {} };
  const s = emergencySessionState(rel.emergency, mode, now, windowHours);
  if (!s.ok) {
    if (s.problem === 'expired') return { deny: 'DENY_EMERGENCY_EXPIRED', extra: { date: s.endsAt } };
    if (s.problem === 'no_justification') return { deny: 'DENY_EMERGENCY_NO_JUSTIFICATION', extra: {} };
    return { deny: 'DENY_EMERGENCY_NO_SESSION', extra: {} };
  }
  return { reason: mode === 'bris_de_glace' ? 'ALLOW_BRIS_DE_GLACE' : 'ALLOW_CENTRE_15', extra: { date: s.startedAt } };
}

const THE_RECORD = { fr: 'ce dossier', en: 'this record' };

/**
 * The record-level part of `decide`: may this actor read anything at all in this record, in this
 * mode? Matrix, masking and invisibility are per document, so they are not judged here; the
 * author-reads-back exception is per document too. Services use it so that a caller with no right
 * gets a refusal rather than an empty list — an empty list would tell whether documents exist.
 */
export function decideRecordAccess(
  actor: Actor,
  record: RecordView,
  relationship: Relationship,
  holderSettings: HolderSettings,
  mode: AccessMode,
  now: Date,
  policy?: Partial<AccessPolicy>,
): Decision {
  const matrix = policy?.matrix ?? DEFAULT_POLICY.matrix;
  const windowHours = policy?.emergencyWindowHours ?? DEFAULT_POLICY.emergencyWindowHours;
  const base: ExplainContext = { name: actor.name, object: THE_RECORD, matrixVersion: matrix.version, state: record.state };
  const out = (reason: ReasonCode, extra: Partial<ExplainContext> = {}): Decision => decision(reason, 'read', { ...base, ...extra });

  const refused = actorGate(actor, mode);
  if (refused) return out(refused);
  if (actor.kind === 'professional') {
    const profession = professionLabel(actor.professionCode, matrix);
    if (record.state !== 'active') return out('DENY_RECORD_STATE', { profession });
    if (relationship.blockedAt !== undefined) return out('DENY_BLOCKED', { profession });
    const g = professionalGrant(actor, relationship, holderSettings, mode, now, windowHours, false);
    if ('deny' in g) return out(g.deny, { profession, ...g.extra });
    return out(g.reason, { profession, ...g.extra });
  }
  if (actor.kind !== 'app' && !personLinked(actor, relationship)) return out('DENY_NOT_LINKED');
  if (actor.kind === 'app' && actor.recordId !== undefined && actor.recordId !== record.id) return out('DENY_NOT_LINKED');
  const holderSide = actor.kind === 'holder' || actor.kind === 'legal_representative';
  if (holderSide ? !HOLDER_READABLE_STATES.includes(record.state) : record.state !== 'active') return out('DENY_RECORD_STATE');
  if ((actor.kind === 'caregiver' || actor.kind === 'app') && relationship.blockedAt !== undefined) return out('DENY_BLOCKED');
  if (actor.kind === 'caregiver' && relationship.delegation?.read !== true) return out('DENY_NO_DELEGATION');
  return out(personAllow(actor));
}

/**
 * A catalogue app reads a document when its consented scopes name the document's type code, its
 * class code, or its MES category. No scope, no read.
 */
export function appScopeAllows(actor: AppActor, category: Coding, type: Coding, mes?: MesCategory): boolean {
  if (actor.allowedTypes?.includes(type.code)) return true;
  const cats = actor.allowedCategories ?? [];
  return cats.includes(category.code) || (mes !== undefined && cats.includes(mes));
}
