/**
 * INS — Identifiant National de Santé (DOMAIN §2). Pure parsing and checking, no I/O.
 *
 * An INS is a NIR (or NIA) of 13 characters followed by a 2-digit key, plus the OID that says which
 * kind of number it is:
 *
 *   OID                     kind  meaning
 *   1.2.250.1.213.1.4.8     NIR   INSEE registration number (numéro de sécurité sociale)
 *   1.2.250.1.213.1.4.9     NIA   waiting number for people not (yet) registered at INSEE
 *   1.2.250.1.213.1.4.10    TEST  test NIR (test identities, e.g. the ANS CDA examples)
 *   1.2.250.1.213.1.4.11    DEMO  demonstration NIR
 *
 * Layout (1-based positions):  S YY MM DD CCC OOO KK
 *   1      sex digit
 *   2–3    year of birth (last two digits)
 *   4–5    month of birth, or a pseudo-month (see below)
 *   6–7    department of birth; `2A` / `2B` for Corsica; `99` abroad
 *   8–10   commune (or country) code
 *   11–13  order number
 *   14–15  key = 97 − (first 13 as a number mod 97), with 2A counted as 19 and 2B as 18
 *
 * What this module accepts, and why (where the sources are loose we prefer accepting a real number
 * to rejecting it; the key check catches typing errors anyway):
 *
 * - Sex digit. NIR, TEST and DEMO: `1` (male) or `2` (female) — the only values INSEE assigns in the
 *   RNIPP. NIA: also `3`/`4` (foreign-born people while their registration is in progress) and
 *   `7`/`8` (temporary numbers, male/female), which the health insurance uses before a NIR exists.
 * - Month. `01`–`12`; pseudo-months used when the civil-status document gives no month: `20`–`42`
 *   (INSEE uses 20, 30–42; some sources say 20–30, so the whole 20–42 range is accepted) and `50`;
 *   `99` (month unknown, seen on NIA). Everything else (`00`, `13`–`19`, `43`–`49`, `51`–`98`) is
 *   rejected with INS_MONTH.
 * - Characters. Digits only, except `2A` / `2B` at positions 6–7 (Corsica). Input is trimmed,
 *   inner white space is removed and letters are upper-cased, so `2 79 03 2a …` is fine. Any other
 *   separator (dot, dash) is an INS_CHARACTERS error: we do not guess.
 *
 * Errors are `CarnetError`s of kind `invalid`; messages never echo the number (an INS is personal
 * data), details give positions and lengths only.
 */
import { invalid } from './errors.ts';

export type InsKind = 'NIR' | 'NIA' | 'TEST' | 'DEMO';

export interface Ins {
  /** 15 characters, upper-case, no spaces (`2A`/`2B` kept as letters). */
  value: string;
  /** Bare OID, without the `urn:oid:` prefix. */
  oid: string;
  kind: InsKind;
}

export const INS_OIDS: Readonly<Record<InsKind, string>> = {
  NIR: '1.2.250.1.213.1.4.8',
  NIA: '1.2.250.1.213.1.4.9',
  TEST: '1.2.250.1.213.1.4.10',
  DEMO: '1.2.250.1.213.1.4.11',
};

const KIND_BY_OID: ReadonlyMap<string, InsKind> = new Map(
  (Object.entries(INS_OIDS) as [InsKind, string][]).map(([k, oid]) => [oid, k]),
);

/** Sex digits accepted per kind (see the module comment). */
const SEX_DIGITS: Readonly<Record<InsKind, readonly string[]>> = {
  NIR: ['1', '2'],
  TEST: ['1', '2'],
  DEMO: ['1', '2'],
  NIA: ['1', '2', '3', '4', '7', '8'],
};

const INS_LENGTH = 15;
const BODY_LENGTH = 13;

/** The OID of an INS kind. */
export const insOid = (kind: InsKind): string => INS_OIDS[kind];

/** Kind for an OID (with or without `urn:oid:`), or undefined when it is not an INS OID. */
export function insKindOfOid(oid: string): InsKind | undefined {
  return KIND_BY_OID.get(stripUrnOid(oid.trim()));
}

/** FHIR `Identifier.system` for an INS: `urn:oid:<oid>`. */
export const insSystem = (ins: Ins): string => `urn:oid:${ins.oid}`;

function stripUrnOid(s: string): string {
  return s.toLowerCase().startsWith('urn:oid:') ? s.slice('urn:oid:'.length) : s;
}

/**
 * Digits of the 13-character body as a BigInt, Corsica letters replaced (2A → 19, 2B → 18).
 * The body must already be well-formed (digits, or 2A/2B at positions 6–7).
 */
function bodyNumber(body: string): bigint {
  const dept = body.slice(5, 7);
  const digits = dept === '2A' ? body.slice(0, 5) + '19' + body.slice(7) : dept === '2B' ? body.slice(0, 5) + '18' + body.slice(7) : body;
  return BigInt(digits);
}

/** Index (0-based) of the first character that is not allowed in a 13-character body, or -1. */
function firstBadChar(body: string): number {
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c >= '0' && c <= '9') continue;
    // Corsica: positions 6–7 (indexes 5–6) may read `2A` or `2B`.
    if (i === 6 && (c === 'A' || c === 'B') && body[5] === '2') continue;
    return i;
  }
  return -1;
}

/**
 * The 2-digit key of a 13-character NIR/NIA body: 97 − (number mod 97), Corsica 2A → 19, 2B → 18.
 * Accepts lower-case `2a`/`2b`. Throws INS_LENGTH / INS_CHARACTERS on a malformed body.
 */
export function insKey(first13: string): string {
  const body = first13.replace(/\s+/g, '').toUpperCase();
  if (body.length !== BODY_LENGTH) {
    throw invalid('INS_LENGTH', `The INS body must have ${BODY_LENGTH} characters.`, {
      details: { expectedLength: BODY_LENGTH, actualLength: body.length },
    });
  }
  const bad = firstBadChar(body);
  if (bad >= 0) {
    throw invalid('INS_CHARACTERS', 'The INS may only contain digits (and 2A/2B at positions 6–7 for Corsica).', {
      details: { position: bad + 1 },
    });
  }
  const key = 97n - (bodyNumber(body) % 97n);
  return key.toString().padStart(2, '0');
}

const isPseudoMonth = (m: number) => (m >= 20 && m <= 42) || m === 50 || m === 99;

/**
 * Parses and checks an INS. `oid` defaults to the NIR OID; `urn:oid:` prefixes are accepted.
 * Checks, in order: INS_OID, INS_EMPTY, INS_LENGTH, INS_CHARACTERS, INS_SEX, INS_MONTH, INS_KEY.
 */
export function parseIns(value: string, oid: string = INS_OIDS.NIR): Ins {
  const bareOid = stripUrnOid((oid ?? '').trim());
  const kind = KIND_BY_OID.get(bareOid);
  if (!kind) {
    throw invalid('INS_OID', 'The identifier system is not an INS OID (expected 1.2.250.1.213.1.4.8, .9, .10 or .11).', {
      details: { oid: bareOid, expected: Object.values(INS_OIDS) },
    });
  }

  const v = (value ?? '').replace(/\s+/g, '').toUpperCase();
  if (v.length === 0) {
    throw invalid('INS_EMPTY', 'The INS is empty.');
  }
  if (v.length !== INS_LENGTH) {
    throw invalid('INS_LENGTH', `The INS must have ${INS_LENGTH} characters (13 + a 2-digit key).`, {
      details: { expectedLength: INS_LENGTH, actualLength: v.length },
    });
  }
  const body = v.slice(0, BODY_LENGTH);
  const key = v.slice(BODY_LENGTH);
  const badBody = firstBadChar(body);
  const badKey = /^\d{2}$/.test(key) ? -1 : /\d/.test(key[0]) ? 14 : 13;
  if (badBody >= 0 || badKey >= 0) {
    throw invalid('INS_CHARACTERS', 'The INS may only contain digits (and 2A/2B at positions 6–7 for Corsica).', {
      details: { position: badBody >= 0 ? badBody + 1 : badKey + 1 },
    });
  }

  const sex = body[0];
  if (!SEX_DIGITS[kind].includes(sex)) {
    throw invalid('INS_SEX', `The first digit of the INS (sex) is not allowed for a ${kind}.`, {
      details: { position: 1, allowed: SEX_DIGITS[kind] },
    });
  }

  const month = Number(body.slice(3, 5));
  if (!((month >= 1 && month <= 12) || isPseudoMonth(month))) {
    throw invalid('INS_MONTH', 'The month of birth in the INS (positions 4–5) is not a month or a known pseudo-month.', {
      details: { positions: [4, 5], allowed: '01-12, 20-42, 50, 99' },
    });
  }

  const expected = 97n - (bodyNumber(body) % 97n);
  if (BigInt(key) !== expected) {
    throw invalid('INS_KEY', 'The INS key (last 2 digits) does not match the number.', {
      details: { positions: [14, 15] },
    });
  }

  return { value: v, oid: bareOid, kind };
}

/** True when `parseIns` would accept it. */
export function isValidIns(value: string, oid?: string): boolean {
  try {
    parseIns(value, oid);
    return true;
  } catch {
    return false;
  }
}

/** Spaced display form: `2 79 03 51 215 189 89` (Corsica: `1 85 05 2A 004 123 45`). */
export function formatIns(ins: Ins | string): string {
  const v = (typeof ins === 'string' ? ins : ins.value).replace(/\s+/g, '').toUpperCase();
  if (v.length !== INS_LENGTH) return v;
  return [v.slice(0, 1), v.slice(1, 3), v.slice(3, 5), v.slice(5, 7), v.slice(7, 10), v.slice(10, 13), v.slice(13)].join(' ');
}

/** What an INS itself says about its holder (used to cross-check identity traits). */
export interface InsFacts {
  /** From the sex digit: 1/3/7 → M, 2/4/8 → F. */
  sex: 'M' | 'F';
  /** Two-digit year of birth. */
  yearOfBirth2: string;
  /** Month 1–12, or undefined for a pseudo-month. */
  monthOfBirth?: number;
  /** Department of birth as written (`75`, `2A`, `99` = abroad, `97` = overseas …). */
  department: string;
}

export function insFacts(ins: Ins): InsFacts {
  const v = ins.value;
  const month = Number(v.slice(3, 5));
  return {
    sex: ['1', '3', '7'].includes(v[0]) ? 'M' : 'F',
    yearOfBirth2: v.slice(1, 3),
    monthOfBirth: month >= 1 && month <= 12 ? month : undefined,
    department: v.slice(5, 7),
  };
}
