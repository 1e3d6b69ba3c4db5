/**
 * Stable reason codes of every access decision, and their plain-language explanations. Codes are
 * part of the outside contract (audit entries, API answers, tests): add new ones, never rename.
 * The meaning of each code is listed in `README.md` beside this file.
 */
import type { Decision, RecordState } from './types.ts';
import { formatDate } from './time.ts';

export const ALLOW_REASONS = [
  'ALLOW_HOLDER',
  'ALLOW_LEGAL_REPRESENTATIVE',
  'ALLOW_CAREGIVER',
  'ALLOW_APP',
  'ALLOW_MEDECIN_TRAITANT',
  'ALLOW_ADMINISTRATEUR',
  'ALLOW_CONSENT',
  'ALLOW_CARE_TEAM',
  'ALLOW_AUTHOR',
  'ALLOW_BRIS_DE_GLACE',
  'ALLOW_CENTRE_15',
  'ALLOW_OWN_ENTRY',
  'ALLOW_PROFESSIONAL_WRITE',
  'ALLOW_SYSTEM',
  'ALLOW_OPERATOR',
] as const;

export const DENY_REASONS = [
  'DENY_FORBIDDEN_ACTOR',
  'DENY_NO_CONTENT_ACCESS',
  'DENY_INVALID_MODE',
  'DENY_EMERGENCY_NOT_PROFESSIONAL',
  'DENY_NOT_LINKED',
  'DENY_RECORD_STATE',
  'DENY_DELETED_DOCUMENT',
  'DENY_BLOCKED',
  'DENY_NO_AUTHORIZATION',
  'DENY_CONSENT_EXPIRED',
  'DENY_CONSENT_REVOKED',
  'DENY_CARE_TEAM_OBJECTED',
  'DENY_MATRIX',
  'DENY_MASKED',
  'DENY_INVISIBLE_PATIENT',
  'DENY_INVISIBLE_REPRESENTANTS',
  'DENY_BREAK_GLASS_DISABLED',
  'DENY_SAMU_DISABLED',
  'DENY_CENTRE_15_NOT_PHYSICIAN',
  'DENY_EMERGENCY_NO_SESSION',
  'DENY_EMERGENCY_NO_JUSTIFICATION',
  'DENY_EMERGENCY_EXPIRED',
  'DENY_NO_DELEGATION',
  'DENY_APP_SCOPE',
  'DENY_HISTORY_NOT_OWN',
  'DENY_PATIENT_CLASS_ONLY',
  'DENY_CAREGIVER_LIMITS',
  'DENY_NOT_HOLDER',
  'DENY_NOT_OPERATOR',
] as const;

export type AllowReason = (typeof ALLOW_REASONS)[number];
export type DenyReason = (typeof DENY_REASONS)[number];
export type ReasonCode = AllowReason | DenyReason;
export const REASON_CODES: readonly ReasonCode[] = [...ALLOW_REASONS, ...DENY_REASONS];

/** What the decision is about, as the verb and the object of the sentence. */
export type ActionKind = 'read' | 'write' | 'history' | 'manage';

export interface ExplainContext {
  /** The actor's display name. */
  name: string;
  /** Object of the sentence: "ce compte rendu" / "this report". */
  object: { fr: string; en: string };
  /** The professional's profession, appended when known. */
  profession?: { fr: string; en: string };
  /** The date the clause is about (consent granted, revoked, expired, session end …). */
  date?: Date | string;
  /** Consent end, when there is one. */
  until?: Date | string;
  matrixVersion?: string;
  state?: RecordState;
  /** The access happened in an emergency mode. */
  emergency?: boolean;
  /** Extra sentence appended to both languages (e.g. "not visible to the patient"). */
  note?: { fr: string; en: string };
}

const VERBS: Record<ActionKind, { fr: [string, string]; en: [string, string] }> = {
  read: { fr: ['peut lire', 'ne peut pas lire'], en: ['may read', 'may not read'] },
  write: { fr: ['peut ajouter', 'ne peut pas ajouter'], en: ['may add', 'may not add'] },
  history: { fr: ['peut consulter', 'ne peut pas consulter'], en: ['may see', 'may not see'] },
  manage: { fr: ['peut gérer', 'ne peut pas gérer'], en: ['may manage', 'may not manage'] },
};

const STATE_LABELS: Record<RecordState, { fr: string; en: string }> = {
  pending: { fr: "en attente d'ouverture", en: 'not yet open' },
  active: { fr: 'actif', en: 'active' },
  opposed: { fr: "fermé à la suite d'une opposition", en: 'not opened (the person objected)' },
  closed: { fr: 'clos', en: 'closed' },
  deleted: { fr: 'supprimé', en: 'deleted' },
  suspended: { fr: 'suspendu', en: 'suspended' },
};

type Clause = (c: ExplainContext) => { fr: string; en: string };

const fr = (c: ExplainContext) => formatDate(c.date, 'fr');
const en = (c: ExplainContext) => formatDate(c.date, 'en');

const CLAUSES: Record<ReasonCode, Clause> = {
  ALLOW_HOLDER: () => ({ fr: "c'est votre dossier", en: 'it is your own record' }),
  ALLOW_LEGAL_REPRESENTATIVE: () => ({
    fr: 'en tant que représentant légal du titulaire',
    en: 'as the legal representative of the holder',
  }),
  ALLOW_CAREGIVER: () => ({
    fr: 'vous lui avez délégué cet accès en tant que proche aidant',
    en: 'you delegated this access to them as your caregiver',
  }),
  ALLOW_APP: () => ({
    fr: 'vous avez autorisé cette application pour ce type de document',
    en: 'you authorized this app for this kind of document',
  }),
  ALLOW_MEDECIN_TRAITANT: () => ({ fr: "c'est votre médecin traitant", en: 'they are your declared GP (médecin traitant)' }),
  ALLOW_ADMINISTRATEUR: () => ({
    fr: "vous l'avez désigné administrateur de votre dossier",
    en: 'you made them an administrator of your record',
  }),
  ALLOW_CONSENT: (c) => ({
    fr: `vous l'avez autorisé le ${fr(c)}${c.until !== undefined ? `, jusqu'au ${formatDate(c.until, 'fr')}` : ''}`,
    en: `you authorized them on ${en(c)}${c.until !== undefined ? `, until ${formatDate(c.until, 'en')}` : ''}`,
  }),
  ALLOW_CARE_TEAM: () => ({
    fr: "membre de votre équipe de soins : vous en avez été informé et ne vous y êtes pas opposé",
    en: 'member of your care team: you were informed and did not object',
  }),
  ALLOW_AUTHOR: () => ({ fr: "c'est l'auteur de ce document", en: 'they wrote this document' }),
  ALLOW_BRIS_DE_GLACE: (c) => ({
    fr: `accès d'urgence (bris de glace) ouvert le ${fr(c)} avec un motif déclaré, limité dans le temps ; vous et votre médecin traitant en êtes informés`,
    en: `emergency access (break-glass) opened on ${en(c)} with a stated reason, time-limited; you and your GP are notified`,
  }),
  ALLOW_CENTRE_15: (c) => ({
    fr: `médecin régulateur du SAMU (centre 15), accès ouvert le ${fr(c)} ; vous et votre médecin traitant en êtes informés`,
    en: `SAMU regulating doctor (centre 15), access opened on ${en(c)}; you and your GP are notified`,
  }),
  ALLOW_OWN_ENTRY: () => ({ fr: 'elle concerne ses propres actions', en: 'it is about their own actions' }),
  ALLOW_PROFESSIONAL_WRITE: () => ({
    fr: 'tout professionnel qui prend en charge le patient peut ajouter des documents',
    en: 'any professional caring for the patient may add documents',
  }),
  ALLOW_SYSTEM: () => ({ fr: 'alimentation automatique du dossier', en: 'automatic feed of the record' }),
  ALLOW_OPERATOR: () => ({ fr: "en tant qu'opérateur du service", en: 'as the operator of the service' }),

  DENY_FORBIDDEN_ACTOR: () => ({
    fr: "la loi interdit l'accès au dossier aux assureurs, mutuelles, employeurs et médecins du travail (article L1111-18 du code de la santé publique)",
    en: 'the law forbids insurers, mutuelles, employers and occupational doctors any access to the record (article L1111-18 of the Public Health Code)',
  }),
  DENY_NO_CONTENT_ACCESS: () => ({
    fr: "l'opérateur du service et ses traitements techniques n'accèdent jamais au contenu des dossiers",
    en: 'the service operator and its technical jobs never access the content of records',
  }),
  DENY_INVALID_MODE: () => ({ fr: "le mode d'accès demandé est inconnu", en: 'the requested access mode is unknown' }),
  DENY_EMERGENCY_NOT_PROFESSIONAL: () => ({
    fr: "les accès d'urgence sont réservés aux professionnels de santé",
    en: 'emergency access is reserved to health professionals',
  }),
  DENY_NOT_LINKED: () => ({
    fr: "aucun lien avec ce dossier n'est enregistré pour cette personne",
    en: 'no link to this record is recorded for this person',
  }),
  DENY_RECORD_STATE: (c) => {
    const s = STATE_LABELS[c.state ?? 'deleted'];
    return { fr: `le dossier est ${s.fr}`, en: `the record is ${s.en}` };
  },
  DENY_DELETED_DOCUMENT: () => ({
    fr: 'ce document a été supprimé par son auteur (déposé par erreur)',
    en: 'this document was withdrawn by its author (entered in error)',
  }),
  DENY_BLOCKED: () => ({ fr: 'vous avez bloqué son accès à votre dossier', en: 'you blocked their access to your record' }),
  DENY_NO_AUTHORIZATION: () => ({
    fr: "ce professionnel ne fait pas partie de votre équipe de soins et vous ne l'avez pas autorisé",
    en: 'they are not in your care team and you have not authorized them',
  }),
  DENY_CONSENT_EXPIRED: (c) => ({
    fr: `votre autorisation a expiré le ${fr(c)}`,
    en: `your authorization expired on ${en(c)}`,
  }),
  DENY_CONSENT_REVOKED: (c) => ({
    fr: `vous avez retiré votre autorisation le ${fr(c)}`,
    en: `you withdrew your authorization on ${en(c)}`,
  }),
  DENY_CARE_TEAM_OBJECTED: () => ({
    fr: "vous vous êtes opposé à son accès en tant que membre de l'équipe de soins",
    en: 'you objected to their access as a member of the care team',
  }),
  DENY_MATRIX: (c) => ({
    fr: `la matrice d'habilitation (version ${c.matrixVersion ?? '?'}) ne donne pas accès à ce type de document à sa profession`,
    en: `the habilitation matrix (version ${c.matrixVersion ?? '?'}) does not open this kind of document to their profession`,
  }),
  DENY_MASKED: (c) => ({
    fr: `vous avez masqué ce document aux professionnels${c.emergency ? ", y compris en cas d'urgence" : ''}`,
    en: `you masked this document from professionals${c.emergency ? ', emergencies included' : ''}`,
  }),
  DENY_INVISIBLE_PATIENT: (c) => ({
    fr: `un professionnel souhaite vous l'annoncer lors d'une consultation ; il deviendra visible au plus tard le ${fr(c)}`,
    en: `a professional wants to discuss it with you in a consultation first; it becomes visible on ${en(c)} at the latest`,
  }),
  DENY_INVISIBLE_REPRESENTANTS: () => ({
    fr: 'le titulaire a choisi de ne pas le montrer à ses représentants légaux',
    en: 'the holder chose not to show it to their legal representatives',
  }),
  DENY_BREAK_GLASS_DISABLED: () => ({
    fr: "vous avez désactivé l'accès d'urgence en mode bris de glace",
    en: 'you switched off break-glass emergency access',
  }),
  DENY_SAMU_DISABLED: () => ({
    fr: "vous avez désactivé l'accès des médecins régulateurs du SAMU (centre 15)",
    en: 'you switched off access by SAMU regulating doctors (centre 15)',
  }),
  DENY_CENTRE_15_NOT_PHYSICIAN: () => ({
    fr: 'seul un médecin régulateur peut utiliser le mode centre 15',
    en: 'only a regulating physician may use the centre 15 mode',
  }),
  DENY_EMERGENCY_NO_SESSION: () => ({
    fr: "aucun accès d'urgence de ce mode n'est ouvert sur ce dossier pour ce professionnel",
    en: 'no emergency access of this mode is open on this record for this professional',
  }),
  DENY_EMERGENCY_NO_JUSTIFICATION: () => ({
    fr: 'un accès en bris de glace exige un motif',
    en: 'break-glass access requires a stated reason',
  }),
  DENY_EMERGENCY_EXPIRED: (c) => ({
    fr: `l'accès d'urgence a pris fin le ${fr(c)}`,
    en: `the emergency access ended on ${en(c)}`,
  }),
  DENY_NO_DELEGATION: () => ({
    fr: 'vous ne lui avez pas délégué cet accès',
    en: 'you did not delegate this access to them',
  }),
  DENY_APP_SCOPE: () => ({
    fr: "vous n'avez pas autorisé cette application pour ce type de document",
    en: 'you did not authorize this app for this kind of document',
  }),
  DENY_HISTORY_NOT_OWN: () => ({
    fr: "seuls le titulaire, ses représentants légaux, le médecin traitant et les administrateurs voient tout l'historique ; chacun voit ses propres actions",
    en: 'only the holder, their legal representatives, the GP and administrators see the whole history; everyone sees their own actions',
  }),
  DENY_PATIENT_CLASS_ONLY: () => ({
    fr: 'le titulaire et ses proches ne peuvent ajouter que des documents personnels (classe 90)',
    en: 'the holder and their relatives may only add personal documents (class 90)',
  }),
  DENY_CAREGIVER_LIMITS: () => ({
    fr: "un proche aidant ne gère jamais les partages, les identifiants, la clôture ni l'export du dossier",
    en: 'a caregiver never manages sharing, credentials, closure or export of the record',
  }),
  DENY_NOT_OPERATOR: () => ({
    fr: "seul l'opérateur du service peut le faire",
    en: 'only the operator of the service may do this',
  }),
  DENY_NOT_HOLDER: () => ({
    fr: 'seuls le titulaire et ses représentants légaux gèrent les partages du dossier',
    en: 'only the holder and their legal representatives manage the sharing of the record',
  }),
};

export const isAllowReason = (r: string): r is AllowReason => (ALLOW_REASONS as readonly string[]).includes(r);

/** Builds the two sentences: "<name> <verb> <object> : <clause> ; <profession>. <note>" */
export function explain(reason: ReasonCode, action: ActionKind, c: ExplainContext): { fr: string; en: string } {
  const allow = isAllowReason(reason);
  const verb = VERBS[action];
  const clause = CLAUSES[reason](c);
  const prof = c.profession;
  const name = c.name.trim() === '' ? '?' : c.name.trim();
  let f = `${name} ${verb.fr[allow ? 0 : 1]} ${c.object.fr} : ${clause.fr}${prof ? ` ; ${prof.fr}` : ''}.`;
  let e = `${name} ${verb.en[allow ? 0 : 1]} ${c.object.en}: ${clause.en}${prof ? `; ${prof.en}` : ''}.`;
  if (c.note) {
    f += ` ${c.note.fr}`;
    e += ` ${c.note.en}`;
  }
  return { fr: f, en: e };
}

/** A decision with its explanation; `allow` follows from the reason's family. */
export function decision(reason: ReasonCode, action: ActionKind, c: ExplainContext): Decision {
  return { allow: isAllowReason(reason), reason, explanation: explain(reason, action, c) };
}
