/**
 * The acting user an establishment system asserts, read from the IHE IUA JWT extension
 * (ITI-71 "JWT IUA extension": claims wrapped in `extensions.ihe_iua`), the JSON counterpart of the
 * DMP's VIHF assertion. Carnet reads:
 *
 * | claim                      | required | accepted forms                                            |
 * |----------------------------|----------|-----------------------------------------------------------|
 * | `subject_id`               | yes      | RPPS (11 digits) or idNat_PS (`8` + RPPS); alias `national_provider_identifier` |
 * | `subject_name`             | yes      | non-empty string                                          |
 * | `subject_role`             | yes      | TRE_G15 profession code `10`, `G15_10`, `G15_10/SM26`, as a string, a FHIR Coding or an array of Codings |
 * | `subject_organization_id`  | no       | FINESS (9 chars) or idNat_Struct `1` + FINESS; when present it must be the client's own FINESS |
 * | `subject_organization`     | no       | string (name)                                             |
 * | `purpose_of_use`           | no       | `normal` · `bris_de_glace` · `centre_15` (TRE_R248), string, Coding or Coding[]; absent = `normal` |
 * | `justification`            | for `bris_de_glace` | non-empty string, at most 1000 characters       |
 *
 * `justification` is a Carnet addition inside `ihe_iua` (IUA allows other members there): break-glass
 * needs a reason (CSP L1111-17) and IUA has no claim for it.
 *
 * Error messages name claims and expected formats, never the values sent (a name is personal data).
 */
import type { JWTPayload } from 'jose';
import type { AccessMode } from '../domain/access/types.ts';
import { ACCESS_MODES } from '../domain/access/types.ts';

export interface IuaActor {
  /** RPPS, 11 digits (normalised from idNat_PS when needed). */
  rpps: string;
  name: string;
  /** TRE_G15 profession code ('10' médecin, '21' pharmacien …). */
  professionCode: string;
  /** Specialty code when the role came as `G15_10/SM26`. */
  specialty?: string;
  /** FINESS of the structure the user acts for. */
  organisation?: string;
  organisationName?: string;
  purposeOfUse: AccessMode;
  justification?: string;
}

/** A claim is missing or malformed: which one (path under `ihe_iua`) and what was expected. */
export class IuaClaimError extends Error {
  constructor(readonly claim: string, readonly expected: string) {
    super(`ihe_iua.${claim}: ${expected}`);
    this.name = 'IuaClaimError';
  }
}

export const MAX_JUSTIFICATION_LENGTH = 1000;
const MAX_TEXT = 200;

export const RPPS_RE = /^\d{11}$/;
/** FINESS: 9 characters, department digits or 2A/2B (Corsica) then 7 digits. */
export const FINESS_RE = /^(?:\d{2}|2A|2B)\d{7}$/;
const PROFESSION_RE = /^\d{1,3}$/;

/** RPPS from an RPPS or an idNat_PS (`8` + RPPS); `undefined` if neither. */
export function normaliseRpps(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (RPPS_RE.test(value)) return value;
  if (/^8\d{11}$/.test(value)) return value.slice(1);
  return undefined;
}

/** FINESS from a FINESS or an idNat_Struct (`1` + FINESS); `undefined` if neither. */
export function normaliseFiness(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (FINESS_RE.test(value)) return value;
  if (value.length === 10 && value.startsWith('1') && FINESS_RE.test(value.slice(1))) return value.slice(1);
  return undefined;
}

/** Finds the `ihe_iua` object: `extensions.ihe_iua` (IUA), or a top-level `ihe_iua` (tolerated). */
export function findIuaClaims(payload: JWTPayload): Record<string, unknown> | undefined {
  const ext = payload.extensions;
  const nested = isObject(ext) ? ext.ihe_iua : undefined;
  const top = payload.ihe_iua;
  if (nested !== undefined && top !== undefined) {
    throw new IuaClaimError('', 'send the claims once, in extensions.ihe_iua, not also at the top level');
  }
  const found = nested ?? top;
  if (found === undefined) return undefined;
  if (!isObject(found)) throw new IuaClaimError('', 'must be a JSON object');
  return found;
}

/** Reads and checks the acting user. Throws `IuaClaimError` on the first problem. */
export function parseIuaActor(iua: Record<string, unknown>): IuaActor {
  const rawId = iua.subject_id ?? iua.national_provider_identifier;
  if (iua.subject_id !== undefined && iua.national_provider_identifier !== undefined &&
      normaliseRpps(iua.subject_id) !== normaliseRpps(iua.national_provider_identifier)) {
    throw new IuaClaimError('subject_id', 'subject_id and national_provider_identifier name different professionals');
  }
  if (rawId === undefined) throw new IuaClaimError('subject_id', 'required: the RPPS (11 digits) or idNat_PS (8 + RPPS) of the acting professional');
  const rpps = normaliseRpps(rawId);
  if (!rpps) throw new IuaClaimError('subject_id', 'must be an RPPS (11 digits) or an idNat_PS (8 followed by the 11-digit RPPS)');

  const name = text(iua.subject_name, 'subject_name', true)!;
  const role = parseRole(iua.subject_role);

  let organisation: string | undefined;
  if (iua.subject_organization_id !== undefined) {
    organisation = normaliseFiness(iua.subject_organization_id);
    if (!organisation) throw new IuaClaimError('subject_organization_id', 'must be a FINESS (9 characters) or idNat_Struct (1 + FINESS)');
  }
  const organisationName = text(iua.subject_organization, 'subject_organization', false);
  const purposeOfUse = parsePurpose(iua.purpose_of_use);

  let justification: string | undefined;
  if (iua.justification !== undefined) {
    if (typeof iua.justification !== 'string') throw new IuaClaimError('justification', 'must be a string');
    justification = iua.justification.trim() || undefined;
    if (justification && justification.length > MAX_JUSTIFICATION_LENGTH) {
      throw new IuaClaimError('justification', `must be at most ${MAX_JUSTIFICATION_LENGTH} characters`);
    }
  }
  if (purposeOfUse === 'bris_de_glace' && !justification) {
    throw new IuaClaimError('justification', 'required and non-empty when purpose_of_use is bris_de_glace');
  }

  return {
    rpps,
    name,
    professionCode: role.profession,
    ...(role.specialty ? { specialty: role.specialty } : {}),
    ...(organisation ? { organisation } : {}),
    ...(organisationName ? { organisationName } : {}),
    purposeOfUse,
    ...(justification ? { justification } : {}),
  };
}

function text(v: unknown, claim: string, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new IuaClaimError(claim, 'required, a non-empty string');
    return undefined;
  }
  if (typeof v !== 'string' || !v.trim()) throw new IuaClaimError(claim, 'must be a non-empty string');
  if (v.length > MAX_TEXT) throw new IuaClaimError(claim, `must be at most ${MAX_TEXT} characters`);
  return v.trim();
}

/** Codes of a claim that may be a string, a FHIR Coding or an array of Codings. */
function codesOf(v: unknown, claim: string): string[] {
  const one = (x: unknown): string => {
    if (typeof x === 'string') return x;
    if (isObject(x) && typeof x.code === 'string') return x.code;
    throw new IuaClaimError(claim, 'must be a code, a FHIR Coding ({ system, code }) or an array of Codings');
  };
  if (Array.isArray(v)) {
    if (!v.length) throw new IuaClaimError(claim, 'must not be an empty array');
    return v.map(one);
  }
  return [one(v)];
}

function parseRole(v: unknown): { profession: string; specialty?: string } {
  if (v === undefined || v === null) throw new IuaClaimError('subject_role', 'required: the TRE_G15 profession code (e.g. 10 for médecin)');
  const parsed = new Map<string, { profession: string; specialty?: string }>();
  for (const code of codesOf(v, 'subject_role')) {
    // `10`, `G15_10`, `G15_10/SM26` (the JDV_J01 form used in CDA headers).
    const m = /^(?:G15_)?(\d{1,3})(?:\/([A-Z0-9_]{1,16}))?$/.exec(code);
    if (!m || !PROFESSION_RE.test(m[1])) continue;
    parsed.set(m[1], { profession: m[1], ...(m[2] ? { specialty: m[2] } : {}) });
  }
  if (parsed.size === 0) throw new IuaClaimError('subject_role', 'must carry a TRE_G15 profession code (10, G15_10 or G15_10/SM26)');
  if (parsed.size > 1) throw new IuaClaimError('subject_role', 'names more than one profession');
  return [...parsed.values()][0];
}

function parsePurpose(v: unknown): AccessMode {
  if (v === undefined || v === null) return 'normal';
  const codes = codesOf(v, 'purpose_of_use');
  // Unknown codes are refused, not skipped: an access mode must never be guessed.
  const modes = new Set(codes);
  if (modes.size !== 1 || !(ACCESS_MODES as readonly string[]).includes(codes[0])) {
    throw new IuaClaimError('purpose_of_use', 'must be exactly one of normal, bris_de_glace, centre_15 (TRE_R248)');
  }
  return codes[0] as AccessMode;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
