/**
 * Identities (DOMAIN §1, §2): the holder's identity traits and their qualification (the INS
 * référentiel, RNIV), professionals (RPPS, TRE_G15 profession codes, specialty) and organisations
 * (FINESS, idNat_Struct). Pure code, no I/O. Errors are `CarnetError`s of kind `invalid` unless said
 * otherwise; messages never carry names or numbers.
 */
import { conflict, invalid } from './errors.ts';
import { insFacts, type Ins } from './ins.ts';

/* ──────────────────────────────── Identity traits and status ──────────────────────────────── */

/**
 * Identity status of the INS référentiel (RNIV):
 * - `provisoire`: neither INS retrieved from the national teleservice (INSi) nor traits checked on
 *   a high-trust document;
 * - `recuperee`: INS retrieved or verified through INSi, document not checked;
 * - `validee`: traits checked on a high-trust document, INS not retrieved/verified through INSi;
 * - `qualifiee`: both. Only a qualified INS may be used to feed a record (DOMAIN §2).
 */
export type IdentityStatus = 'provisoire' | 'recuperee' | 'validee' | 'qualifiee';
export const IDENTITY_STATUSES: readonly IdentityStatus[] = ['provisoire', 'recuperee', 'validee', 'qualifiee'];

export type Sex = 'M' | 'F' | 'U';

/** The five INS traits. */
export interface Traits {
  /** Nom de naissance. */
  birthName: string;
  /** Prénoms de l'acte de naissance, in order; the first is the usual first name. */
  firstNames: string[];
  sex: Sex;
  /** YYYY-MM-DD. */
  birthDate: string;
  /** INSEE COG code of the birth place, 5 characters: commune (`75056`, `2A004`) or `99xxx` country. */
  birthPlaceCode?: string;
}

const NAME_MAX = 100;
/** Letters (any script, with combining marks), spaces, hyphens and apostrophes; at least one letter. */
const NAME_RE = /^[\p{L}\p{M}][\p{L}\p{M}' ’-]*$/u;
const BIRTH_PLACE_RE = /^(\d{5}|2[AB]\d{3})$/;

const normName = (s: string) => s.normalize('NFC').trim().replace(/\s+/g, ' ');

function checkName(value: unknown, code: string, field: string, what: string): string {
  if (typeof value !== 'string' || normName(value).length === 0) {
    throw invalid(code, `${what} is missing.`, { expression: [field] });
  }
  const v = normName(value);
  if (v.length > NAME_MAX) {
    throw invalid(code, `${what} is too long.`, { expression: [field], details: { maxLength: NAME_MAX, actualLength: v.length } });
  }
  if (!NAME_RE.test(v)) {
    throw invalid(code, `${what} may only contain letters, spaces, hyphens and apostrophes.`, { expression: [field] });
  }
  return v;
}

/** True when `s` is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/**
 * Checks the traits and returns them normalised (trimmed, inner white space collapsed, Unicode NFC,
 * birth place upper-cased). With `now`, a birth date in the future is refused. Partial dates are
 * not accepted: the INSi service returns full dates (unknown parts are stored as the pseudo-month of
 * the NIR, not in the traits). Codes: TRAITS_BIRTH_NAME, TRAITS_FIRST_NAMES, TRAITS_SEX,
 * TRAITS_BIRTH_DATE, TRAITS_BIRTH_PLACE.
 */
export function validateTraits(traits: Traits, now?: Date): Traits {
  if (traits === null || typeof traits !== 'object') {
    throw invalid('TRAITS_BIRTH_NAME', 'Identity traits are missing.');
  }
  const birthName = checkName(traits.birthName, 'TRAITS_BIRTH_NAME', 'birthName', 'The birth name');
  if (!Array.isArray(traits.firstNames) || traits.firstNames.length === 0) {
    throw invalid('TRAITS_FIRST_NAMES', 'At least one first name is required.', { expression: ['firstNames'] });
  }
  const firstNames = traits.firstNames.map((f, i) =>
    checkName(f, 'TRAITS_FIRST_NAMES', `firstNames[${i}]`, `First name ${i + 1}`),
  );
  if (traits.sex !== 'M' && traits.sex !== 'F' && traits.sex !== 'U') {
    throw invalid('TRAITS_SEX', 'Sex must be M, F or U.', { expression: ['sex'] });
  }
  if (typeof traits.birthDate !== 'string' || !isCalendarDate(traits.birthDate)) {
    throw invalid('TRAITS_BIRTH_DATE', 'The birth date must be a calendar date written YYYY-MM-DD.', {
      expression: ['birthDate'],
    });
  }
  if (now && traits.birthDate > now.toISOString().slice(0, 10)) {
    throw invalid('TRAITS_BIRTH_DATE', 'The birth date is in the future.', { expression: ['birthDate'] });
  }
  let birthPlaceCode: string | undefined;
  if (traits.birthPlaceCode !== undefined && traits.birthPlaceCode !== null) {
    const bp = String(traits.birthPlaceCode).trim().toUpperCase();
    if (!BIRTH_PLACE_RE.test(bp)) {
      throw invalid('TRAITS_BIRTH_PLACE', 'The birth place code must be an INSEE code of 5 characters (digits, or 2A/2B + 3 digits).', {
        expression: ['birthPlaceCode'],
      });
    }
    birthPlaceCode = bp;
  }
  return {
    birthName,
    firstNames,
    sex: traits.sex,
    birthDate: traits.birthDate,
    ...(birthPlaceCode !== undefined ? { birthPlaceCode } : {}),
  };
}

/**
 * Traits the INS contradicts. Only what the NIR encodes reliably is compared: sex (from the first
 * digit, skipped when the traits say `U`), the two-digit year, and the month unless the NIR carries a
 * pseudo-month. The place digits are not compared: they are the place *at the time of birth*
 * (communes merge, departments were renumbered) and the traits carry today's COG code.
 */
export function insContradictsTraits(ins: Ins, traits: Traits): Array<'sex' | 'birthYear' | 'birthMonth'> {
  const f = insFacts(ins);
  const out: Array<'sex' | 'birthYear' | 'birthMonth'> = [];
  if (traits.sex !== 'U' && traits.sex !== f.sex) out.push('sex');
  if (traits.birthDate.slice(2, 4) !== f.yearOfBirth2) out.push('birthYear');
  if (f.monthOfBirth !== undefined && Number(traits.birthDate.slice(5, 7)) !== f.monthOfBirth) out.push('birthMonth');
  return out;
}

/** Identity documents a desk may check. */
export type IdentityDocumentKind =
  | 'passeport'
  | 'carte_nationale_identite'
  | 'titre_de_sejour'
  | 'livret_de_famille'
  | 'extrait_acte_naissance'
  | 'carte_vitale'
  | 'permis_de_conduire'
  | 'autre';

/**
 * High-trust documents (RNIV): passport, national identity card, residence permit — for everybody;
 * family record book or birth-certificate extract — for minors only (checked together with a
 * parent's high-trust document). The carte Vitale and the driving licence are never high-trust.
 */
export function isHighTrustDocument(kind: IdentityDocumentKind, opts: { minor?: boolean } = {}): boolean {
  switch (kind) {
    case 'passeport':
    case 'carte_nationale_identite':
    case 'titre_de_sejour':
      return true;
    case 'livret_de_famille':
    case 'extrait_acte_naissance':
      return opts.minor === true;
    default:
      return false;
  }
}

/** What was just established about an identity. */
export interface IdentityEvidence {
  /**
   * Outcome of the INSi teleservice: `retrieved` (INS obtained from the traits) or `verified` (INS
   * and traits confirmed) add the INS component; `failed` (INSi does not confirm this INS) removes it.
   */
  insi?: 'retrieved' | 'verified' | 'failed';
  /** A document the desk checked the traits against. */
  document?: IdentityDocumentKind;
  /** The holder is a minor (family record book / birth extract count as high-trust). */
  minor?: boolean;
  /** The identity was flagged doubtful or fictitious: no document-based validation may stand. */
  doubtful?: boolean;
}

const hasInsi = (s: IdentityStatus) => s === 'recuperee' || s === 'qualifiee';
const hasDocument = (s: IdentityStatus) => s === 'validee' || s === 'qualifiee';

function statusOf(insi: boolean, doc: boolean): IdentityStatus {
  return insi ? (doc ? 'qualifiee' : 'recuperee') : doc ? 'validee' : 'provisoire';
}

/**
 * Next identity status. The status is two independent components, accumulated:
 * - INS component: gained by an INSi `retrieved`/`verified` answer, lost by `failed`;
 * - document component: gained by checking a high-trust document (see `isHighTrustDocument`), lost
 *   when the identity is flagged `doubtful` (a doubtful/fictitious identity cannot be validated).
 * `qualifiee` needs both. A low-trust document changes nothing. Never throws.
 */
export function qualify(status: IdentityStatus, evidence: IdentityEvidence): IdentityStatus {
  let insi = hasInsi(status);
  let doc = hasDocument(status);
  if (evidence.insi === 'retrieved' || evidence.insi === 'verified') insi = true;
  if (evidence.insi === 'failed') insi = false;
  if (evidence.document && isHighTrustDocument(evidence.document, { minor: evidence.minor })) doc = true;
  if (evidence.doubtful) doc = false;
  return statusOf(insi, doc);
}

export const isQualified = (status: IdentityStatus): boolean => status === 'qualifiee';

/**
 * Guard for anything that adds to a record: since 2023 a qualified INS is required (DOMAIN §2).
 * Throws `INS_NOT_QUALIFIED` (kind `conflict`: the state of the identity forbids it).
 */
export function assertQualified(status: IdentityStatus): void {
  if (!isQualified(status)) {
    throw conflict('INS_NOT_QUALIFIED', 'The holder\'s INS is not qualified: nothing may be added to the record yet.', {
      details: { status },
    });
  }
}

/* ───────────────────────────────────── Check digits ───────────────────────────────────── */

/** Luhn (mod 10) check over a string of digits, the last one being the check digit. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/* ───────────────────────────────────── Professionals ───────────────────────────────────── */

export interface Rpps {
  /** 11 digits. */
  rpps: string;
  /** The national id used by ANS systems and CI-SIS: `8` + RPPS. */
  idNatPs: string;
  /** The last digit is a Luhn key over the 11 digits; informative (see `parseRpps`). */
  checkDigitValid: boolean;
}

/**
 * Parses an RPPS number (11 digits) or an idNat_PS built on it (`8` + 11 digits); spaces removed.
 * The Luhn key is computed but not enforced unless `strict`: many test identities (the ANS CDA
 * examples among them) carry RPPS numbers whose key is wrong, and a professional id is matched
 * against a directory anyway. ADELI-based ids (`0` + ADELI) are refused. Error: RPPS_INVALID with
 * `details.reason` ∈ empty | length | characters | adeli | not_rpps | check_digit.
 */
export function parseRpps(s: string, opts: { strict?: boolean } = {}): Rpps {
  const v = (s ?? '').replace(/\s+/g, '');
  const fail = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
    invalid('RPPS_INVALID', message, { details: { reason, ...extra } });
  if (v.length === 0) throw fail('empty', 'The RPPS number is empty.');
  if (!/^\d+$/.test(v)) throw fail('characters', 'The RPPS number may only contain digits.');
  let rpps: string;
  if (v.length === 11) rpps = v;
  else if (v.length === 12 && v[0] === '8') rpps = v.slice(1);
  else if (v.length === 10 && v[0] === '0') throw fail('adeli', 'This is an ADELI-based identifier (0 + ADELI), not an RPPS number.');
  else if (v.length === 12) throw fail('not_rpps', 'A 12-digit national professional id must start with 8 to carry an RPPS number.');
  else throw fail('length', 'The RPPS number must have 11 digits (or 12 for 8 + RPPS).', { actualLength: v.length });
  const checkDigitValid = luhnValid(rpps);
  if (opts.strict && !checkDigitValid) throw fail('check_digit', 'The RPPS check digit does not match.');
  return { rpps, idNatPs: '8' + rpps, checkDigitValid };
}

/** Terminology a profession code comes from. */
export type ProfessionSystem = 'TRE_G15' | 'TRE_R94' | 'TRE_R95';
export type ProfessionGroup = 'medical' | 'pharmacy' | 'dental' | 'midwifery' | 'paramedical' | 'psychology' | 'social';

export interface Profession {
  code: string;
  system: ProfessionSystem;
  /** French label of the nomenclature (NOS). */
  label: string;
  labelEn: string;
  group: ProfessionGroup;
}

/**
 * Profession codes. TRE_G15 (ProfessionSante, health professions), TRE_R94 (ProfessionSocial,
 * social and medico-social professions) and TRE_R95 (UsagerTitre, protected titles); their codes do
 * not overlap, so one flat table serves (source: ANS NOS, value set JDV_J54 Profession ROR, 2025).
 */
export const PROFESSIONS = {
  '10': { code: '10', system: 'TRE_G15', label: 'Médecin', labelEn: 'Physician', group: 'medical' },
  '21': { code: '21', system: 'TRE_G15', label: 'Pharmacien', labelEn: 'Pharmacist', group: 'pharmacy' },
  '26': { code: '26', system: 'TRE_G15', label: 'Audioprothésiste', labelEn: 'Hearing-aid specialist', group: 'paramedical' },
  '28': { code: '28', system: 'TRE_G15', label: 'Opticien-Lunetier', labelEn: 'Optician', group: 'paramedical' },
  '31': { code: '31', system: 'TRE_G15', label: 'Assistant dentaire', labelEn: 'Dental assistant', group: 'dental' },
  '32': { code: '32', system: 'TRE_G15', label: 'Physicien médical', labelEn: 'Medical physicist', group: 'paramedical' },
  '35': { code: '35', system: 'TRE_G15', label: 'Aide-soignant', labelEn: 'Nursing assistant', group: 'paramedical' },
  '36': { code: '36', system: 'TRE_G15', label: 'Ambulancier', labelEn: 'Ambulance driver', group: 'paramedical' },
  '37': { code: '37', system: 'TRE_G15', label: 'Auxiliaire de puériculture', labelEn: 'Childcare assistant', group: 'paramedical' },
  '38': { code: '38', system: 'TRE_G15', label: 'Préparateur en pharmacie hospitalière', labelEn: 'Hospital pharmacy technician', group: 'pharmacy' },
  '39': { code: '39', system: 'TRE_G15', label: 'Préparateur en pharmacie (officine)', labelEn: 'Pharmacy technician', group: 'pharmacy' },
  '40': { code: '40', system: 'TRE_G15', label: 'Chirurgien-Dentiste', labelEn: 'Dentist', group: 'dental' },
  '50': { code: '50', system: 'TRE_G15', label: 'Sage-Femme', labelEn: 'Midwife', group: 'midwifery' },
  '60': { code: '60', system: 'TRE_G15', label: 'Infirmier', labelEn: 'Nurse', group: 'paramedical' },
  '69': { code: '69', system: 'TRE_G15', label: 'Infirmier psychiatrique', labelEn: 'Psychiatric nurse', group: 'paramedical' },
  '70': { code: '70', system: 'TRE_G15', label: 'Masseur-Kinésithérapeute', labelEn: 'Physiotherapist', group: 'paramedical' },
  '80': { code: '80', system: 'TRE_G15', label: 'Pédicure-Podologue', labelEn: 'Podiatrist', group: 'paramedical' },
  '81': { code: '81', system: 'TRE_G15', label: 'Orthoprothésiste', labelEn: 'Prosthetist', group: 'paramedical' },
  '82': { code: '82', system: 'TRE_G15', label: 'Podo-Orthésiste', labelEn: 'Foot orthotist', group: 'paramedical' },
  '83': { code: '83', system: 'TRE_G15', label: 'Orthopédiste-Orthésiste', labelEn: 'Orthotist', group: 'paramedical' },
  '84': { code: '84', system: 'TRE_G15', label: 'Oculariste', labelEn: 'Ocularist', group: 'paramedical' },
  '85': { code: '85', system: 'TRE_G15', label: 'Epithésiste', labelEn: 'Facial prosthetist', group: 'paramedical' },
  '86': { code: '86', system: 'TRE_G15', label: 'Technicien de laboratoire médical', labelEn: 'Medical laboratory technician', group: 'paramedical' },
  '91': { code: '91', system: 'TRE_G15', label: 'Orthophoniste', labelEn: 'Speech therapist', group: 'paramedical' },
  '92': { code: '92', system: 'TRE_G15', label: 'Orthoptiste', labelEn: 'Orthoptist', group: 'paramedical' },
  '93': { code: '93', system: 'TRE_G15', label: 'Psychologue', labelEn: 'Psychologist', group: 'psychology' },
  '94': { code: '94', system: 'TRE_G15', label: 'Ergothérapeute', labelEn: 'Occupational therapist', group: 'paramedical' },
  '95': { code: '95', system: 'TRE_G15', label: 'Diététicien', labelEn: 'Dietitian', group: 'paramedical' },
  '96': { code: '96', system: 'TRE_G15', label: 'Psychomotricien', labelEn: 'Psychomotor therapist', group: 'paramedical' },
  '98': { code: '98', system: 'TRE_G15', label: "Manipulateur d'électroradiologie médicale", labelEn: 'Radiographer', group: 'paramedical' },
  '41': { code: '41', system: 'TRE_R94', label: 'Assistant de service social', labelEn: 'Social worker', group: 'social' },
  '42': { code: '42', system: 'TRE_R94', label: 'Auxiliaire de vie sociale', labelEn: 'Home-care assistant', group: 'social' },
  '43': { code: '43', system: 'TRE_R94', label: "Technicien de l'intervention sociale et familiale", labelEn: 'Social and family support technician', group: 'social' },
  '44': { code: '44', system: 'TRE_R94', label: 'Conseiller en économie sociale et familiale', labelEn: 'Social and family economics adviser', group: 'social' },
  '45': { code: '45', system: 'TRE_R94', label: 'Médiateur familial', labelEn: 'Family mediator', group: 'social' },
  '46': { code: '46', system: 'TRE_R94', label: 'Assistant familial', labelEn: 'Foster carer', group: 'social' },
  '47': { code: '47', system: 'TRE_R94', label: 'Aide médico-psychologique', labelEn: 'Medico-psychological assistant', group: 'social' },
  '48': { code: '48', system: 'TRE_R94', label: 'Moniteur éducateur', labelEn: 'Assistant special-needs educator', group: 'social' },
  '49': { code: '49', system: 'TRE_R94', label: 'Educateur de jeunes enfants', labelEn: 'Early-childhood educator', group: 'social' },
  '51': { code: '51', system: 'TRE_R94', label: 'Educateur spécialisé', labelEn: 'Special-needs educator', group: 'social' },
  '52': { code: '52', system: 'TRE_R94', label: 'Educateur technique spécialisé', labelEn: 'Technical special-needs educator', group: 'social' },
  '53': { code: '53', system: 'TRE_R94', label: 'Accompagnant éducatif et social', labelEn: 'Educational and social support worker', group: 'social' },
  '71': { code: '71', system: 'TRE_R95', label: 'Ostéopathe', labelEn: 'Osteopath', group: 'paramedical' },
  '72': { code: '72', system: 'TRE_R95', label: 'Psychothérapeute', labelEn: 'Psychotherapist', group: 'psychology' },
  '73': { code: '73', system: 'TRE_R95', label: 'Chiropracteur', labelEn: 'Chiropractor', group: 'paramedical' },
  '97': { code: '97', system: 'TRE_R95', label: 'Conseiller en génétique', labelEn: 'Genetic counsellor', group: 'paramedical' },
} as const satisfies Record<string, Profession>;

export type ProfessionCode = keyof typeof PROFESSIONS;

const CI_SIS_PREFIX: Readonly<Record<string, ProfessionSystem>> = { G15: 'TRE_G15', R94: 'TRE_R94', R95: 'TRE_R95' };

/** Strips the CI-SIS prefix and a specialty: `G15_10/SM26` → `10`. Undefined when malformed. */
function bareProfessionCode(s: string): { code: string; system?: ProfessionSystem; specialty?: string } | undefined {
  const m = /^(?:(G15|R94|R95)_)?(\d{2,3})(?:\/([A-Za-z0-9_]+))?$/.exec((s ?? '').trim());
  if (!m) return undefined;
  return { code: m[2], system: m[1] ? CI_SIS_PREFIX[m[1]] : undefined, specialty: m[3] };
}

export const isProfessionCode = (code: string): code is ProfessionCode => Object.hasOwn(PROFESSIONS, code);

/** The table entry for a code (`10`, `G15_10`, `G15_10/SM26`), or undefined. */
export function profession(code: string): Profession | undefined {
  const b = bareProfessionCode(code);
  if (!b || !isProfessionCode(b.code)) return undefined;
  const p: Profession = PROFESSIONS[b.code];
  if (b.system && b.system !== p.system) return undefined;
  return p;
}

/**
 * Parses a profession code and returns the bare code (`'10'`): accepts bare (`10`), CI-SIS prefixed
 * (`G15_10`, `R94_41`) and the author specialty form `G15_10/SM26` (the specialty is dropped; see
 * `parseAuthorSpecialty`). `profession(code)` gives the table entry. Errors: PROFESSION_INVALID
 * (malformed), PROFESSION_UNKNOWN (well-formed, not in the table, or prefixed with the wrong
 * terminology). Callers that must accept unknown codes (document metadata) use
 * `parseAuthorSpecialty`, which never rejects a well-formed code.
 */
export function parseProfessionCode(s: string): ProfessionCode {
  const b = bareProfessionCode(s);
  if (!b) throw invalid('PROFESSION_INVALID', 'A profession code is 2–3 digits, optionally prefixed G15_/R94_/R95_.');
  const p = profession(s);
  if (!p) throw invalid('PROFESSION_UNKNOWN', 'Unknown profession code.', { details: { code: b.code, system: b.system } });
  return p.code as ProfessionCode;
}

/**
 * Reads a CI-SIS XdsAuthorSpecialty value (JDV_J01): `G15_10/SM26` → profession 10, specialty
 * SM26. Unknown but well-formed profession codes are kept (`profession` undefined).
 * Error PROFESSION_INVALID when malformed.
 */
export function parseAuthorSpecialty(s: string): { professionCode: string; system?: ProfessionSystem; specialty?: string; profession?: Profession } {
  const b = bareProfessionCode(s);
  if (!b) throw invalid('PROFESSION_INVALID', 'An author specialty reads like G15_10 or G15_10/SM26.');
  return {
    professionCode: b.code,
    ...(b.system ? { system: b.system } : {}),
    ...(b.specialty ? { specialty: b.specialty.toUpperCase() } : {}),
    ...(profession(s) ? { profession: profession(s) } : {}),
  };
}

/** `médecin` (TRE_G15 10), whatever the prefix or specialty. */
export const isPhysician = (code: string): boolean => profession(code)?.code === '10';
export const isPharmacist = (code: string): boolean => profession(code)?.code === '21';
/** Social and medico-social professions (TRE_R94). */
export const isSocialProfession = (code: string): boolean => profession(code)?.system === 'TRE_R94';
/** Health professions of TRE_G15. */
export const isHealthProfession = (code: string): boolean => profession(code)?.system === 'TRE_G15';
export const professionLabel = (code: string, lang: 'fr' | 'en' = 'fr'): string | undefined => {
  const p = profession(code);
  return p ? (lang === 'fr' ? p.label : p.labelEn) : undefined;
};

/** A specialty code (TRE_R38 style: `SM26`, `DSM205`, `C25`, `SCH10`), kept as a free code. */
export type Specialty = string;

/** Normalises a specialty code (trimmed, upper-case). Error SPECIALTY_INVALID. */
export function parseSpecialty(s: string): Specialty {
  const v = (s ?? '').trim().toUpperCase();
  if (!/^[A-Z0-9_]{1,20}$/.test(v)) {
    throw invalid('SPECIALTY_INVALID', 'A specialty code is 1–20 letters, digits or underscores.');
  }
  return v;
}

/* ───────────────────────────────────── Organisations ───────────────────────────────────── */

export interface Finess {
  /** 9 characters, upper-case. */
  value: string;
  /**
   * The 9th digit is a Luhn key over the 9 digits (real FINESS numbers verify: 750803447 …).
   * `unknown` for Corsica (2A/2B), whose key rule is not published. Informative unless `strict`.
   */
  checkDigit: 'valid' | 'invalid' | 'unknown';
}

/**
 * Checks a FINESS number: 9 characters, digits, or `2A`/`2B` followed by 7 digits (Corsica). Spaces
 * removed, letters upper-cased. The Luhn key is reported, not enforced (unless `strict`): test
 * documents, ANS's own CDA examples included, carry made-up FINESS numbers, and refusing a document
 * over its author's organisation key would lose care data. Error FINESS_INVALID, `details.reason`
 * ∈ empty | length | characters | check_digit.
 */
export function checkFiness(s: string, opts: { strict?: boolean } = {}): Finess {
  const v = (s ?? '').replace(/\s+/g, '').toUpperCase();
  const fail = (reason: string, message: string, extra: Record<string, unknown> = {}) =>
    invalid('FINESS_INVALID', message, { details: { reason, ...extra } });
  if (v.length === 0) throw fail('empty', 'The FINESS number is empty.');
  if (v.length !== 9) throw fail('length', 'The FINESS number must have 9 characters.', { actualLength: v.length });
  if (!/^(\d{9}|2[AB]\d{7})$/.test(v)) {
    throw fail('characters', 'The FINESS number must be digits (or start with 2A/2B in Corsica).');
  }
  const checkDigit = /^\d{9}$/.test(v) ? (luhnValid(v) ? 'valid' : 'invalid') : 'unknown';
  if (opts.strict && checkDigit === 'invalid') throw fail('check_digit', 'The FINESS check digit does not match.');
  return { value: v, checkDigit };
}

/** The normalised FINESS (9 characters, upper-case); same rules and errors as `checkFiness`. */
export function parseFiness(s: string, opts: { strict?: boolean } = {}): string {
  return checkFiness(s, opts).value;
}

export type StructureIdKind = 'adeli_cabinet' | 'finess' | 'siren' | 'siret' | 'rpps_cabinet';

export interface StructureId {
  kind: StructureIdKind;
  /** The identifier without its type prefix. */
  value: string;
  /** The national structure id (`idNat_Struct`, type prefix + identifier). */
  idNatStruct: string;
  finess?: Finess;
}

/**
 * Parses an organisation identifier as found under OID 1.2.250.1.71.4.2.2 (idNat_Struct): `0` +
 * ADELI cabinet id, `1` + FINESS, `2` + SIREN (9 digits), `3` + SIRET (14 digits), `4` + RPPS-rang.
 * Some senders put a bare FINESS there: a 9-character value is read as a FINESS. Error
 * STRUCTURE_ID_INVALID (or FINESS_INVALID for a malformed FINESS after the `1`).
 */
export function parseStructureId(s: string): StructureId {
  const v = (s ?? '').replace(/\s+/g, '').toUpperCase();
  const fail = (message: string) => invalid('STRUCTURE_ID_INVALID', message, { details: { actualLength: v.length } });
  if (v.length === 0) throw fail('The structure identifier is empty.');
  if (v.length === 9) {
    const finess = checkFiness(v);
    return { kind: 'finess', value: finess.value, idNatStruct: '1' + finess.value, finess };
  }
  const rest = v.slice(1);
  switch (v[0]) {
    case '1': {
      const finess = checkFiness(rest);
      return { kind: 'finess', value: finess.value, idNatStruct: v, finess };
    }
    case '2':
      if (!/^\d{9}$/.test(rest)) throw fail('A SIREN-based structure id is 2 + 9 digits.');
      return { kind: 'siren', value: rest, idNatStruct: v };
    case '3':
      if (!/^\d{14}$/.test(rest)) throw fail('A SIRET-based structure id is 3 + 14 digits.');
      return { kind: 'siret', value: rest, idNatStruct: v };
    case '0':
      if (!/^[0-9A-Z]{9,}$/.test(rest)) throw fail('An ADELI-cabinet structure id is 0 + the cabinet id.');
      return { kind: 'adeli_cabinet', value: rest, idNatStruct: v };
    case '4':
      if (!/^\d{11,}$/.test(rest)) throw fail('An RPPS-cabinet structure id is 4 + RPPS + rank.');
      return { kind: 'rpps_cabinet', value: rest, idNatStruct: v };
    default:
      throw fail('Unknown structure identifier type (expected a leading 0, 1, 2, 3 or 4).');
  }
}
