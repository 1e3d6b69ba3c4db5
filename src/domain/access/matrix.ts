/**
 * The habilitation matrix (DOMAIN §5.5, arrêté of 26 Oct 2023): which profession (TRE_G15) may read
 * which document class (TRE_A03 / JDV_J57) or type (LOINC, TRE_A05). It is versioned data, loaded
 * from `data/habilitation-matrix.*.json`; this module only validates and interprets it.
 *
 * Interpretation, in this order (first match wins):
 * 1. a profession absent from the matrix reads nothing;
 * 2. a type in the profession's `deniedTypes` is refused (explicit exception);
 * 3. a type in the profession's `types` is allowed, whatever its class (explicit exception);
 * 4. a class the matrix knows is allowed when listed in the profession's `classes` (`"*"` = every
 *    known class);
 * 5. a class the matrix does not know (or no class at all) is allowed only to the professions in
 *    `unknownClassReaders` (physicians by default): the conservative default.
 */
import type { Coding } from '../document.ts';
import { invalid } from '../errors.ts';
import rawDefault from './data/habilitation-matrix.2023.json' with { type: 'json' };

/** Categories the patient sees in Mon espace santé (DOMAIN §4). */
export const MES_CATEGORIES = [
  'SYNTHESE',
  'ORD_SOIN',
  'RADIO_SC',
  'BIOLOGIE',
  'CPT_REND',
  'DEPISTAG',
  'CERT_MED',
  'AUTR_DOC',
  'DOC_ADM',
  'DIR_ANT',
  'CAR_VAC',
  'REMB',
  'QUEST_SANTE',
] as const;
export type MesCategory = (typeof MES_CATEGORIES)[number];

/** Labels of the MES categories, and the phrase naming one document of it (for explanations). */
export const MES_CATEGORY_LABELS: Record<MesCategory, { fr: string; en: string; docFr: string; docEn: string }> = {
  SYNTHESE: { fr: 'Synthèse', en: 'Summary', docFr: 'cette synthèse', docEn: 'this summary' },
  ORD_SOIN: {
    fr: 'Ordonnances et soins',
    en: 'Prescriptions and care',
    docFr: 'ce document de prescription ou de soins',
    docEn: 'this prescription or care document',
  },
  RADIO_SC: { fr: 'Imagerie', en: 'Imaging', docFr: "ce document d'imagerie", docEn: 'this imaging document' },
  BIOLOGIE: { fr: 'Biologie', en: 'Laboratory', docFr: 'ce résultat de biologie', docEn: 'this lab result' },
  CPT_REND: { fr: 'Comptes rendus', en: 'Reports', docFr: 'ce compte rendu', docEn: 'this report' },
  DEPISTAG: { fr: 'Dépistages', en: 'Screening', docFr: 'ce document de dépistage', docEn: 'this screening document' },
  CERT_MED: { fr: 'Certificats médicaux', en: 'Medical certificates', docFr: 'ce certificat', docEn: 'this certificate' },
  AUTR_DOC: { fr: 'Autres documents', en: 'Other documents', docFr: 'ce document', docEn: 'this document' },
  DOC_ADM: {
    fr: 'Documents administratifs',
    en: 'Administrative documents',
    docFr: 'ce document administratif',
    docEn: 'this administrative document',
  },
  DIR_ANT: {
    fr: 'Directives anticipées',
    en: 'Advance directives',
    docFr: 'ces directives anticipées',
    docEn: 'these advance directives',
  },
  CAR_VAC: { fr: 'Vaccinations', en: 'Vaccinations', docFr: 'ce document de vaccination', docEn: 'this vaccination record' },
  REMB: {
    fr: 'Remboursements',
    en: 'Reimbursements',
    docFr: 'ces données de remboursement',
    docEn: 'these reimbursement data',
  },
  QUEST_SANTE: {
    fr: 'Questionnaires de santé',
    en: 'Health questionnaires',
    docFr: 'ce questionnaire de santé',
    docEn: 'this health questionnaire',
  },
};

export interface MatrixProfession {
  label: { fr: string; en: string };
  /** Known class codes this profession reads, or '*' for every known class. */
  classes: '*' | string[];
  /** Types allowed whatever their class. */
  types: string[];
  /** Types refused whatever their class (wins over everything). */
  deniedTypes: string[];
  note?: string;
}

export interface HabilitationMatrix {
  version: string;
  source: string;
  classSystem?: string;
  unknownClassReaders: string[];
  classes: Record<string, { label: { fr: string; en: string }; mes: MesCategory }>;
  types: Record<string, { label: string; mes: MesCategory }>;
  professions: Record<string, MatrixProfession>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
const isMes = (v: unknown): v is MesCategory => typeof v === 'string' && (MES_CATEGORIES as readonly string[]).includes(v);
const isLabel = (v: unknown): v is { fr: string; en: string } =>
  isObj(v) && typeof v.fr === 'string' && v.fr !== '' && typeof v.en === 'string' && v.en !== '';

function bad(path: string, problem: string): never {
  throw invalid('MATRIX_INVALID', `Habilitation matrix is invalid at ${path}: ${problem}`, {
    details: { path, problem },
    expression: [path],
  });
}

/**
 * Validates a parsed matrix file and returns it typed. Every class or type a profession names must
 * be declared in `classes` / `types` (catches typos that would silently deny or allow).
 */
export function loadMatrix(json: unknown): HabilitationMatrix {
  if (!isObj(json)) bad('$', 'not an object');
  const { version, source, classSystem, unknownClassReaders, classes, types, professions } = json;
  if (typeof version !== 'string' || version === '') bad('version', 'missing');
  if (typeof source !== 'string' || source === '') bad('source', 'missing');
  if (classSystem !== undefined && typeof classSystem !== 'string') bad('classSystem', 'not a string');
  if (!isStrArr(unknownClassReaders)) bad('unknownClassReaders', 'not a list of profession codes');
  if (!isObj(classes)) bad('classes', 'not an object');
  for (const [code, c] of Object.entries(classes)) {
    if (!isObj(c)) bad(`classes.${code}`, 'not an object');
    if (!isLabel(c.label)) bad(`classes.${code}.label`, 'needs fr and en');
    if (!isMes(c.mes)) bad(`classes.${code}.mes`, 'not a MES category');
  }
  if (!isObj(types)) bad('types', 'not an object');
  for (const [code, t] of Object.entries(types)) {
    if (!isObj(t)) bad(`types.${code}`, 'not an object');
    if (typeof t.label !== 'string' || t.label === '') bad(`types.${code}.label`, 'missing');
    if (!isMes(t.mes)) bad(`types.${code}.mes`, 'not a MES category');
  }
  if (!isObj(professions) || Object.keys(professions).length === 0) bad('professions', 'empty or not an object');
  for (const [code, p] of Object.entries(professions)) {
    const at = `professions.${code}`;
    if (!isObj(p)) bad(at, 'not an object');
    if (!isLabel(p.label)) bad(`${at}.label`, 'needs fr and en');
    if (p.classes !== '*') {
      if (!isStrArr(p.classes)) bad(`${at}.classes`, "not '*' or a list of class codes");
      for (const c of p.classes) if (!(c in classes)) bad(`${at}.classes`, `unknown class ${c}`);
    }
    for (const key of ['types', 'deniedTypes'] as const) {
      const list = p[key];
      if (!isStrArr(list)) bad(`${at}.${key}`, 'not a list of type codes');
      for (const t of list) if (!(t in types)) bad(`${at}.${key}`, `unknown type ${t}`);
    }
    if (p.note !== undefined && typeof p.note !== 'string') bad(`${at}.note`, 'not a string');
  }
  for (const p of unknownClassReaders) if (!(p in professions)) bad('unknownClassReaders', `unknown profession ${p}`);
  return json as unknown as HabilitationMatrix;
}

/** The matrix Carnet ships with (arrêté of 26 Oct 2023, as transcribed in the JSON file). */
export const defaultMatrix: HabilitationMatrix = loadMatrix(rawDefault);

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Does the matrix let this profession read a document of this class and type? */
export function matrixAllows(
  matrix: HabilitationMatrix,
  professionCode: string,
  category: Coding | undefined,
  type: Coding | undefined,
): boolean {
  if (!own(matrix.professions, professionCode)) return false;
  const p = matrix.professions[professionCode];
  const typeCode = type?.code;
  if (typeCode !== undefined) {
    if (p.deniedTypes.includes(typeCode)) return false;
    if (p.types.includes(typeCode)) return true;
  }
  const classCode = category?.code;
  if (classCode !== undefined && own(matrix.classes, classCode)) {
    return p.classes === '*' || p.classes.includes(classCode);
  }
  return matrix.unknownClassReaders.includes(professionCode);
}

/**
 * The MES category a document is shown under: its type decides when the matrix knows the type
 * (a lab report filed as class 10 "Compte rendu" is shown under BIOLOGIE), else its class, else
 * AUTR_DOC.
 */
export function mesCategoryOf(
  category: Coding | undefined,
  type: Coding | undefined,
  matrix: HabilitationMatrix = defaultMatrix,
): MesCategory {
  const t = type?.code;
  if (t !== undefined && own(matrix.types, t)) return matrix.types[t].mes;
  const c = category?.code;
  if (c !== undefined && own(matrix.classes, c)) return matrix.classes[c].mes;
  return 'AUTR_DOC';
}

/** Human label of a profession code, falling back to the code itself. */
export function professionLabel(
  code: string,
  matrix: HabilitationMatrix = defaultMatrix,
): { fr: string; en: string } {
  return own(matrix.professions, code)
    ? matrix.professions[code].label
    : { fr: `profession ${code}`, en: `profession ${code}` };
}
