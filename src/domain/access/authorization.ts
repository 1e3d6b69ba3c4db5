/**
 * Record-level authorization of a professional (DOMAIN §5.3, §5.4) and the TD0.2 status derived
 * from it. The same function feeds `decide` and `authorizationStatus`, so the two never disagree.
 */
import { parseInstant } from './time.ts';
import type { Actor, AuthorizationStatus, RecordView, Relationship } from './types.ts';

export type ConsentState = 'none' | 'not_yet' | 'valid' | 'expired' | 'revoked';

/**
 * - `revoked` as soon as `revokedAt` is set (withdrawal is immediate);
 * - `not_yet` when `grantedAt` is in the future or unparsable;
 * - `expired` when `expiresAt` is reached, or set but unparsable (conservative).
 */
export function consentState(consent: Relationship['consent'], now: Date): ConsentState {
  if (consent === undefined) return 'none';
  if (consent.revokedAt !== undefined) return 'revoked';
  const granted = parseInstant(consent.grantedAt);
  if (granted === undefined || granted.getTime() > now.getTime()) return 'not_yet';
  if (consent.expiresAt !== undefined) {
    const exp = parseInstant(consent.expiresAt);
    if (exp === undefined || now.getTime() >= exp.getTime()) return 'expired';
  }
  return 'valid';
}

export type RecordAuthorization =
  | { ok: true; reason: 'ALLOW_MEDECIN_TRAITANT' | 'ALLOW_ADMINISTRATEUR' | 'ALLOW_CARE_TEAM' }
  | { ok: true; reason: 'ALLOW_CONSENT'; date: string; until?: string }
  | {
      ok: false;
      reason: 'DENY_CONSENT_REVOKED' | 'DENY_CONSENT_EXPIRED' | 'DENY_CARE_TEAM_OBJECTED' | 'DENY_NO_AUTHORIZATION';
      date?: string;
    };

/**
 * The professional's standing on the record in normal mode, blocking aside (checked before).
 * Order: médecin traitant, administrateur (both explicit designations by the holder); a revoked
 * consent then denies, care team included (a withdrawal is an objection, R1111-46); a valid consent;
 * the care team unless the holder objected; then the most telling refusal.
 */
export function recordAuthorization(rel: Relationship, now: Date): RecordAuthorization {
  if (rel.medecinTraitant) return { ok: true, reason: 'ALLOW_MEDECIN_TRAITANT' };
  if (rel.administrateur) return { ok: true, reason: 'ALLOW_ADMINISTRATEUR' };
  const cs = consentState(rel.consent, now);
  if (cs === 'revoked') return { ok: false, reason: 'DENY_CONSENT_REVOKED', date: rel.consent?.revokedAt };
  if (cs === 'valid') return { ok: true, reason: 'ALLOW_CONSENT', date: rel.consent!.grantedAt, until: rel.consent!.expiresAt };
  if (rel.careTeam && !rel.careTeamObjected) return { ok: true, reason: 'ALLOW_CARE_TEAM' };
  if (cs === 'expired') return { ok: false, reason: 'DENY_CONSENT_EXPIRED', date: rel.consent?.expiresAt };
  if (rel.careTeam && rel.careTeamObjected) return { ok: false, reason: 'DENY_CARE_TEAM_OBJECTED' };
  return { ok: false, reason: 'DENY_NO_AUTHORIZATION' };
}

/** Does the relationship say this person actor really stands in the role it claims for this record? */
export function personLinked(actor: Actor, rel: Relationship): boolean {
  switch (actor.kind) {
    case 'holder':
      return rel.personLink === 'holder';
    case 'legal_representative':
      return rel.personLink === 'legal_representative';
    case 'caregiver':
      return rel.personLink === 'caregiver';
    default:
      return false;
  }
}

/**
 * TD0.2 authorization status (DOMAIN §5.4):
 * - `INTERDIT`: the professional is blocked; forbidden actors, the operator and the system;
 * - `VALIDE`: authorized now (médecin traitant, administrateur, valid consent, care team not
 *   objected); for person actors, a recorded link (caregivers: with read delegation);
 * - `EXPIRE`: the only authorization was a consent that expired (no care-team standing);
 * - `NON_EXISTE`: nothing else: no authorization, a revoked consent, a care-team objection, a
 *   record that is `deleted` or `opposed`. Other record states do not change the status: TD0.2
 *   reports the record state beside it, and `decide` refuses non-active records anyway.
 * Authorship of a document is not a record-level authorization and never yields `VALIDE`.
 */
export function authorizationStatus(
  actor: Actor,
  record: RecordView,
  relationship: Relationship,
  now: Date,
): AuthorizationStatus {
  if (actor.kind === 'forbidden' || actor.kind === 'operator' || actor.kind === 'system') return 'INTERDIT';
  if (record.state === 'deleted' || record.state === 'opposed') return 'NON_EXISTE';
  switch (actor.kind) {
    case 'professional': {
      if (relationship.blockedAt !== undefined) return 'INTERDIT';
      const a = recordAuthorization(relationship, now);
      if (a.ok) return 'VALIDE';
      return a.reason === 'DENY_CONSENT_EXPIRED' ? 'EXPIRE' : 'NON_EXISTE';
    }
    case 'holder':
    case 'legal_representative':
      return personLinked(actor, relationship) ? 'VALIDE' : 'NON_EXISTE';
    case 'caregiver':
      if (relationship.blockedAt !== undefined) return 'INTERDIT';
      return personLinked(actor, relationship) && relationship.delegation?.read === true ? 'VALIDE' : 'NON_EXISTE';
    case 'app':
      if (actor.recordId !== undefined && actor.recordId !== record.id) return 'NON_EXISTE';
      if (relationship.blockedAt !== undefined) return 'INTERDIT';
      return (actor.allowedTypes?.length ?? 0) + (actor.allowedCategories?.length ?? 0) > 0 ? 'VALIDE' : 'NON_EXISTE';
  }
}
