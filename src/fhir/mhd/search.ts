/**
 * FHIR R4 search parameter values (search.html): token, date, string and reference parsing, and the
 * pure matching used after a record's rows are loaded. Shared by ITI-67 (DocumentReference) and ITI-66
 * (List).
 *
 * - Repeating a parameter means AND; commas inside one value mean OR; `\,` `\|` `\$` `\\` escape.
 * - Empty values are ignored (FHIR: a parameter with no value is ignored).
 * - Anything a client sends is a literal: SQL-shaped text in a token is a code that matches nothing.
 */
import { invalid } from '../../domain/errors.ts';
import type { Coding } from '../../domain/document.ts';
import { FHIR_ID_RE } from './constants.ts';
import type { PatientLink } from './references.ts';
import { normaliseSystem } from './references.ts';

export const SEARCH_BAD_VALUE = 'SEARCH_BAD_VALUE';
export const SEARCH_UNKNOWN_PARAMETER = 'SEARCH_UNKNOWN_PARAMETER';
export const SEARCH_UNSUPPORTED_MODIFIER = 'SEARCH_UNSUPPORTED_MODIFIER';
export const SEARCH_MISSING_PATIENT = 'SEARCH_MISSING_PATIENT';

export const badSearchValue = (param: string, message: string) =>
  invalid(SEARCH_BAD_VALUE, `${param}: ${message}`, { expression: [param], details: { parameter: param } });

export type SearchParams = Record<string, string | string[] | undefined>;

export interface SearchOptions {
  /** FHIR `Prefer: handling=strict|lenient`; lenient (the FHIR default) ignores unknown parameters. */
  handling?: 'strict' | 'lenient';
  /** Time zone for dates given without one (FHIR: the server's local time). Default Europe/Paris. */
  timeZone?: string;
  /** A search without patient is refused (SEARCH_MISSING_PATIENT). Default true. */
  requirePatient?: boolean;
}

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 100;

// --- splitting -----------------------------------------------------------------------------------

/** Splits on unescaped `sep`, keeping escapes in the parts. */
function splitUnescaped(v: string, sep: string, limit = Infinity): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (ch === '\\' && i + 1 < v.length) {
      cur += ch + v[i + 1];
      i++;
    } else if (ch === sep && out.length < limit - 1) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const unescape = (v: string) => v.replace(/\\([\\,|$])/g, '$1');

/** One raw value → its OR alternatives. */
export const orValues = (raw: string): string[] => splitUnescaped(raw, ',').map((s) => s.trim());

// --- token ---------------------------------------------------------------------------------------

export type TokenCriterion =
  | { kind: 'code'; code: string } // code: any system
  | { kind: 'no-system'; code: string } // |code
  | { kind: 'system-code'; system: string; code: string } // system|code
  | { kind: 'system'; system: string }; // system|

export interface TokenParam {
  any: TokenCriterion[];
  not?: boolean;
  missing?: boolean;
}

export function parseToken(raw: string): TokenCriterion {
  const parts = splitUnescaped(raw, '|', 2);
  if (parts.length === 1) return { kind: 'code', code: unescape(parts[0]) };
  const [system, code] = [unescape(parts[0]), unescape(parts[1])];
  if (!system) return { kind: 'no-system', code };
  if (!code) return { kind: 'system', system };
  return { kind: 'system-code', system, code };
}

export function tokenHits(c: { system?: string; code: string }, t: TokenCriterion, sameCode = (a: string, b: string) => a === b): boolean {
  switch (t.kind) {
    case 'code':
      return sameCode(c.code, t.code);
    case 'no-system':
      return !c.system && sameCode(c.code, t.code);
    case 'system-code':
      return !!c.system && normaliseSystem(c.system) === normaliseSystem(t.system) && sameCode(c.code, t.code);
    case 'system':
      return !!c.system && normaliseSystem(c.system) === normaliseSystem(t.system);
  }
}

export function matchToken(
  codings: Array<{ system?: string; code: string }>,
  p: TokenParam,
  sameCode?: (a: string, b: string) => boolean,
): boolean {
  if (p.missing !== undefined) return (codings.length === 0) === p.missing;
  const hit = codings.some((c) => p.any.some((t) => tokenHits(c, t, sameCode)));
  return p.not ? !hit : hit;
}

export const codingsOf = (...cs: Array<Coding | undefined>): Coding[] => cs.filter((c): c is Coding => c !== undefined);

// --- string --------------------------------------------------------------------------------------

export interface StringParam {
  any: string[];
  match: 'start' | 'exact' | 'contains';
  missing?: boolean;
}

/** FHIR string search: case- and accent-insensitive, starts-with by default. */
export const foldString = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();

export function matchString(values: Array<string | undefined>, p: StringParam): boolean {
  const present = values.filter((v): v is string => !!v);
  if (p.missing !== undefined) return (present.length === 0) === p.missing;
  return present.some((v) =>
    p.any.some((q) => {
      if (p.match === 'exact') return v === q;
      const fv = foldString(v);
      const fq = foldString(q);
      if (p.match === 'contains') return fv.includes(fq);
      // starts-with on the whole value or on any of its words ("Marie" finds "Anne Marie")
      return fv.startsWith(fq) || fv.split(/[\s-]/).some((w) => w.startsWith(fq));
    }),
  );
}

// --- date ----------------------------------------------------------------------------------------

export type DatePrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set<DatePrefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** A time range [lo, hi) in epoch milliseconds. */
export interface Range {
  lo: number;
  hi: number;
}

export interface DateCriterion extends Range {
  prefix: DatePrefix;
  raw: string;
}

export interface DateParam {
  any: DateCriterion[];
  missing?: boolean;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Offset of `timeZone` from UTC at instant `utc`, in ms. */
function zoneOffset(utc: number, timeZone: string): number {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(utc)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUtc - Math.floor(utc / 1000) * 1000;
}

/** Local wall-clock time in `timeZone` → UTC epoch ms. */
function localToUtc(wall: number, timeZone: string): number {
  let guess = wall - zoneOffset(wall, timeZone);
  guess = wall - zoneOffset(guess, timeZone);
  return guess;
}

/**
 * The range a FHIR date/dateTime denotes at its precision (`2026` is the whole year). Values without
 * a zone are read in `timeZone`. Undefined when it is not a date.
 */
export function dateRange(value: string, timeZone = 'Europe/Paris'): Range | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = +y;
  const month = mo ? +mo : 1;
  const day = d ? +d : 1;
  if (month < 1 || month > 12) return undefined;
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (hh !== undefined && (+hh > 23 || +mi > 59 || (ss !== undefined && +ss > 60))) return undefined;
  if (tz && tz !== 'Z') {
    const [oh, om] = tz.slice(1).split(':').map(Number);
    if (oh > 14 || om > 59) return undefined;
  }
  const fracMs = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const wallLo = Date.UTC(year, month - 1, day, hh ? +hh : 0, mi ? +mi : 0, ss ? +ss : 0, fracMs);
  let wallHi: number;
  if (!mo) wallHi = Date.UTC(year + 1, 0, 1);
  else if (!d) wallHi = Date.UTC(year, month, 1);
  else if (hh === undefined) wallHi = Date.UTC(year, month - 1, day + 1);
  else if (ss === undefined) wallHi = wallLo + 60_000;
  else if (!frac) wallHi = wallLo + 1000;
  else wallHi = wallLo + 1;
  if (tz) {
    const off = tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
    return { lo: wallLo - off, hi: wallHi - off };
  }
  return { lo: localToUtc(wallLo, timeZone), hi: localToUtc(wallHi, timeZone) };
}

export function parseDateCriterion(raw: string, param: string, timeZone?: string): DateCriterion {
  let prefix: DatePrefix = 'eq';
  let value = raw;
  const p = raw.slice(0, 2) as DatePrefix;
  if (/^[a-z]{2}/.test(raw)) {
    if (!PREFIXES.has(p)) throw badSearchValue(param, 'unknown date prefix');
    prefix = p;
    value = raw.slice(2);
  }
  const r = dateRange(value, timeZone);
  if (!r) throw badSearchValue(param, 'not a FHIR date (yyyy, yyyy-mm, yyyy-mm-dd or a dateTime)');
  return { prefix, raw, ...r };
}

/** FHIR R4 search.html#prefix, comparing the target range with the parameter range. */
export function dateHits(t: Range, c: DateCriterion): boolean {
  const within = t.lo >= c.lo && t.hi <= c.hi;
  switch (c.prefix) {
    case 'eq':
      return within;
    case 'ne':
      return !within;
    case 'gt':
      return t.hi > c.hi;
    case 'lt':
      return t.lo < c.lo;
    case 'ge':
      return t.hi > c.hi || within;
    case 'le':
      return t.lo < c.lo || within;
    case 'sa':
      return t.lo >= c.hi;
    case 'eb':
      return t.hi <= c.lo;
    case 'ap': {
      // "approximately": overlap with the parameter range widened by a tenth of its width (≥ 1 h).
      const w = Math.max((c.hi - c.lo) / 10, 3_600_000);
      return t.lo < c.hi + w && t.hi > c.lo - w;
    }
  }
}

export function matchDate(target: Range | undefined, p: DateParam): boolean {
  if (p.missing !== undefined) return (target === undefined) === p.missing;
  if (!target) return false;
  return p.any.some((c) => dateHits(target, c));
}

/** A Period (either bound may be open) as a range. */
export function periodRange(start: string | undefined, end: string | undefined, timeZone?: string): Range | undefined {
  if (!start && !end) return undefined;
  const s = start ? dateRange(start, timeZone) : undefined;
  const e = end ? dateRange(end, timeZone) : undefined;
  if ((start && !s) || (end && !e)) return undefined;
  return { lo: s ? s.lo : -Infinity, hi: e ? e.hi : Infinity };
}

// --- parameters ----------------------------------------------------------------------------------

export interface RawParam {
  /** Name as sent, e.g. `type:not`. */
  key: string;
  name: string;
  modifier?: string;
  /** Values of each occurrence (AND), not yet split on commas. */
  values: string[];
}

/** Groups a query-string object into parameters, dropping empty values. */
export function rawParams(params: SearchParams): RawParam[] {
  const out: RawParam[] = [];
  for (const [key, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const values = (Array.isArray(v) ? v : [v]).filter((x) => typeof x === 'string' && x.trim() !== '');
    if (!values.length) continue;
    const colon = key.indexOf(':');
    const name = colon >= 0 ? key.slice(0, colon) : key;
    const modifier = colon >= 0 ? key.slice(colon + 1) : undefined;
    out.push({ key, name, ...(modifier !== undefined ? { modifier } : {}), values });
  }
  return out;
}

export function unsupportedModifier(p: RawParam) {
  return invalid(SEARCH_UNSUPPORTED_MODIFIER, `the ${p.name} parameter does not support the :${p.modifier} modifier`, {
    expression: [p.key],
    details: { parameter: p.name, modifier: p.modifier },
  });
}

function missingValue(p: RawParam, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw badSearchValue(p.key, ':missing takes true or false');
  return v === 'true';
}

export function tokenParams(p: RawParam, allowNot = true): TokenParam[] {
  if (p.modifier === 'missing') return p.values.map((v) => ({ any: [], missing: missingValue(p, v) }));
  if (p.modifier !== undefined && !(allowNot && p.modifier === 'not')) throw unsupportedModifier(p);
  return p.values.map((v) => ({
    any: orValues(v).filter(Boolean).map(parseToken),
    ...(p.modifier === 'not' ? { not: true } : {}),
  }));
}

export function dateParams(p: RawParam, timeZone?: string): DateParam[] {
  if (p.modifier === 'missing') return p.values.map((v) => ({ any: [], missing: missingValue(p, v) }));
  if (p.modifier !== undefined) throw unsupportedModifier(p);
  return p.values.map((v) => ({ any: orValues(v).filter(Boolean).map((x) => parseDateCriterion(x, p.key, timeZone)) }));
}

export function stringParams(p: RawParam): StringParam[] {
  if (p.modifier === 'missing') return p.values.map((v) => ({ any: [], match: 'start' as const, missing: missingValue(p, v) }));
  if (p.modifier !== undefined && p.modifier !== 'exact' && p.modifier !== 'contains') throw unsupportedModifier(p);
  const match = p.modifier === 'exact' ? 'exact' : p.modifier === 'contains' ? 'contains' : 'start';
  return p.values.map((v) => ({ any: orValues(v).map(unescape).filter(Boolean), match }));
}

/** `_count` and `_offset`: non-negative integers; `_count` above MAX_COUNT is lowered to it. */
export function pagingParam(p: RawParam): number {
  if (p.modifier !== undefined) throw unsupportedModifier(p);
  if (p.values.length > 1) throw badSearchValue(p.key, 'given more than once');
  const v = p.values[0].trim();
  if (!/^\d{1,9}$/.test(v)) throw badSearchValue(p.key, 'must be a non-negative integer');
  return Number(v);
}

/**
 * The patient of a search: `patient=Patient/123` (or `123`, or an absolute URL),
 * `patient.identifier=system|value` or `patient:identifier=…`; `subject…` likewise. One patient only.
 */
export function patientFromParams(ps: RawParam[]): { link?: PatientLink; used: RawParam[] } {
  const used: RawParam[] = [];
  const links: PatientLink[] = [];
  for (const p of ps) {
    const isRef = p.name === 'patient' || p.name === 'subject';
    const isIdent = p.name === 'patient.identifier' || p.name === 'subject.identifier';
    if (!isRef && !isIdent) continue;
    const byIdentifier = isIdent || p.modifier === 'identifier';
    if (isIdent && p.modifier !== undefined) throw unsupportedModifier(p);
    if (isRef && p.modifier !== undefined && p.modifier !== 'identifier' && p.modifier !== 'Patient') throw unsupportedModifier(p);
    used.push(p);
    for (const v of p.values) {
      const alts = orValues(v);
      if (alts.length !== 1) throw badSearchValue(p.key, 'one patient per search');
      const raw = alts[0];
      if (byIdentifier) {
        const t = parseToken(raw);
        if (t.kind !== 'system-code') throw badSearchValue(p.key, 'the patient identifier must be system|value');
        links.push({ kind: 'identifier', system: normaliseSystem(t.system), value: t.code.trim() });
      } else {
        const m = /^(?:(?:https?:\/\/.+\/)?Patient\/)?([^/]+)$/.exec(raw);
        if (!m || !FHIR_ID_RE.test(m[1])) throw badSearchValue(p.key, 'not a Patient reference');
        links.push({ kind: 'id', id: m[1] });
      }
    }
  }
  if (links.length > 1) {
    const [a] = links;
    const same = links.every((l) =>
      l.kind === 'id' && a.kind === 'id' ? l.id === a.id : l.kind === 'identifier' && a.kind === 'identifier' && l.system === a.system && l.value === a.value,
    );
    if (!same) throw badSearchValue(used[0].key, 'one patient per search');
  }
  return { ...(links[0] ? { link: links[0] } : {}), used };
}

/** Parameters every FHIR server understands outside search (handled by the HTTP layer). */
export const PASSTHROUGH = new Set(['_format', '_pretty']);
