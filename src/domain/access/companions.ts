/**
 * Decisions beside the read decision: the access history (§5.12), writing (§5.11) and managing
 * the record's sharing (§1). Same shape as `decide`: allow/deny, a stable reason, two sentences.
 */
import type { Coding } from '../document.ts';
import { PATIENT_CLASS_CODE } from '../document.ts';
import { personLinked } from './authorization.ts';
import { personAllow } from './decide.ts';
import { defaultMatrix, professionLabel } from './matrix.ts';
import { decision, type ActionKind, type ExplainContext, type ReasonCode } from './reasons.ts';
import { ACCESS_MODES, type AccessMode, type Actor, type Decision, type RecordView, type Relationship } from './types.ts';

function ctx(actor: Actor, object: { fr: string; en: string }, extra: Partial<ExplainContext> = {}): ExplainContext {
  const profession = actor.kind === 'professional' ? professionLabel(actor.professionCode, defaultMatrix) : undefined;
  return { name: actor.name, object, ...(profession ? { profession } : {}), ...extra };
}

const HISTORY_ALL = { fr: "l'historique des accès au dossier", en: 'the access history of the record' };
const HISTORY_ENTRY = { fr: "cette entrée de l'historique des accès", en: 'this entry of the access history' };

/**
 * Who sees the access history (R1111-43): the holder and legal representatives (as the holder),
 * the médecin traitant and administrateurs (unless blocked), everyone for their own entries.
 * `entryActorId` is the actor id recorded on the entry; without it the question is "the whole
 * history", which only the first group gets.
 */
export function canReadHistory(actor: Actor, relationship: Relationship, entryActorId?: string): Decision {
  const object = entryActorId === undefined ? HISTORY_ALL : HISTORY_ENTRY;
  const out = (r: ReasonCode) => decision(r, 'history', ctx(actor, object));
  if (actor.kind === 'forbidden') return out('DENY_FORBIDDEN_ACTOR');
  if (actor.kind === 'operator' || actor.kind === 'system') return out('DENY_NO_CONTENT_ACCESS');
  if (actor.kind === 'holder' && personLinked(actor, relationship)) return out('ALLOW_HOLDER');
  if (actor.kind === 'legal_representative' && personLinked(actor, relationship)) return out('ALLOW_LEGAL_REPRESENTATIVE');
  const blocked = relationship.blockedAt !== undefined;
  if (actor.kind === 'professional' && !blocked) {
    if (relationship.medecinTraitant) return out('ALLOW_MEDECIN_TRAITANT');
    if (relationship.administrateur) return out('ALLOW_ADMINISTRATEUR');
  }
  if (entryActorId !== undefined && entryActorId === actor.id) return out('ALLOW_OWN_ENTRY');
  if ((actor.kind === 'holder' || actor.kind === 'legal_representative') && !personLinked(actor, relationship)) {
    return out('DENY_NOT_LINKED');
  }
  if (actor.kind === 'professional' && blocked && (relationship.medecinTraitant || relationship.administrateur)) {
    return out('DENY_BLOCKED');
  }
  return out('DENY_HISTORY_NOT_OWN');
}

/**
 * Adding a document (§5.11): any professional, even blocked or outside the matrix for that class,
 * in any mode; the holder, legal representatives, caregivers with an `addDocuments` delegation and
 * catalogue apps add personal documents (class 90) only; Carnet's own jobs (`system`, e.g. the
 * reimbursement feed) may file. Only an active record takes documents. Forbidden actors and the
 * operator never.
 */
export function decideWrite(
  actor: Actor,
  record: RecordView,
  relationship: Relationship,
  category: Coding,
  mode: AccessMode = 'normal',
): Decision {
  const object = { fr: 'un document à ce dossier', en: 'a document to this record' };
  const out = (r: ReasonCode, extra: Partial<ExplainContext> = {}) =>
    decision(r, 'write' as ActionKind, ctx(actor, object, { state: record.state, ...extra }));
  if (actor.kind === 'forbidden') return out('DENY_FORBIDDEN_ACTOR');
  if (actor.kind === 'operator') return out('DENY_NO_CONTENT_ACCESS');
  if (!(ACCESS_MODES as readonly string[]).includes(mode)) return out('DENY_INVALID_MODE');
  if (mode !== 'normal' && actor.kind !== 'professional') return out('DENY_EMERGENCY_NOT_PROFESSIONAL');
  if (actor.kind !== 'professional' && actor.kind !== 'system' && actor.kind !== 'app' && !personLinked(actor, relationship)) {
    return out('DENY_NOT_LINKED');
  }
  if (actor.kind === 'app' && actor.recordId !== undefined && actor.recordId !== record.id) return out('DENY_NOT_LINKED');
  if (record.state !== 'active') return out('DENY_RECORD_STATE');
  if (actor.kind === 'system') return out('ALLOW_SYSTEM');
  if (actor.kind === 'professional') return out('ALLOW_PROFESSIONAL_WRITE');
  if ((actor.kind === 'caregiver' || actor.kind === 'app') && relationship.blockedAt !== undefined) return out('DENY_BLOCKED');
  if (actor.kind === 'caregiver' && relationship.delegation?.addDocuments !== true) return out('DENY_NO_DELEGATION');
  if (category.code !== PATIENT_CLASS_CODE) return out('DENY_PATIENT_CLASS_ONLY');
  return out(personAllow(actor));
}

/**
 * Managing sharing, credentials, closure and export: the holder and legal representatives only.
 * Caregivers never (their own reason code); professionals, apps, the operator and the system are
 * not the holder.
 */
export function canManageSharing(actor: Actor, relationship: Relationship): Decision {
  const object = { fr: 'les partages et paramètres de ce dossier', en: 'the sharing and settings of this record' };
  const out = (r: ReasonCode) => decision(r, 'manage', ctx(actor, object));
  switch (actor.kind) {
    case 'forbidden':
      return out('DENY_FORBIDDEN_ACTOR');
    case 'holder':
      return personLinked(actor, relationship) ? out('ALLOW_HOLDER') : out('DENY_NOT_LINKED');
    case 'legal_representative':
      return personLinked(actor, relationship) ? out('ALLOW_LEGAL_REPRESENTATIVE') : out('DENY_NOT_LINKED');
    case 'caregiver':
      return out('DENY_CAREGIVER_LIMITS');
    default:
      return out('DENY_NOT_HOLDER');
  }
}

/** Lifecycle events (domain/lifecycle.ts) and who may apply them. */
export type LifecycleEventType =
  | 'activate' | 'oppose' | 'withdraw_opposition' | 'close' | 'reopen' | 'request_deletion' | 'delete' | 'suspend' | 'lift_suspension';

/**
 * Who may change a record's lifecycle (DOMAIN §3): the holder's side (holder, legal representatives
 * of a minor) activates early, objects, closes, reopens, asks for early deletion and objects to a
 * suspension; the operator suspends for fraud and carries out deletions; Carnet's daily job
 * (`system`) applies what the calendar makes due. Caregivers never (closure is outside any
 * delegation); professionals, apps and forbidden actors never.
 */
export function canChangeLifecycle(actor: Actor, relationship: Relationship, event: LifecycleEventType): Decision {
  const object = { fr: "l'état de ce dossier", en: 'the state of this record' };
  const out = (r: ReasonCode) => decision(r, 'manage', ctx(actor, object));
  if (actor.kind === 'system') return out('ALLOW_SYSTEM');
  const operatorEvents: LifecycleEventType[] = ['suspend', 'delete', 'lift_suspension'];
  if (actor.kind === 'operator') return operatorEvents.includes(event) ? out('ALLOW_OPERATOR') : out('DENY_NOT_HOLDER');
  if (event === 'suspend' || event === 'delete') return actor.kind === 'forbidden' ? out('DENY_FORBIDDEN_ACTOR') : out('DENY_NOT_OPERATOR');
  return canManageSharing(actor, relationship);
}
