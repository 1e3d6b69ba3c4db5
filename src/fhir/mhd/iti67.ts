/**
 * IHE MHD ITI-67 Find Document References (PDSm4DMP TD3.1): query parsing and the pure predicate the
 * service applies to one patient's documents.
 *
 * Unknown parameters: FHIR (search.html#errors) lets a server ignore them by default and asks it to
 * refuse them when the client sends `Prefer: handling=strict`; ITI-67 says "any additional
 * parameters not supported should be ignored". So lenient by default (they are listed in `ignored`,
 * for a warning and for the self link), strict on request (SEARCH_UNKNOWN_PARAMETER). An unsupported
 * modifier is always an error: ignoring it would silently widen the result.
 */
import { invalid } from '../../domain/errors.ts';
import type { DocumentStatus, StoredDocument } from '../../domain/document.ts';
import { FINESS_SYSTEM, IDNAT_PS_SYSTEM, IDNAT_STRUCT_SYSTEM, RPPS_SYSTEM, asUrn } from './constants.ts';
import { documentIdentifiers, securityLabelsOut } from './docref.ts';
import type { PatientLink } from './references.ts';
import {
  DEFAULT_COUNT,
  MAX_COUNT,
  PASSTHROUGH,
  SEARCH_MISSING_PATIENT,
  SEARCH_UNKNOWN_PARAMETER,
  badSearchValue,
  codingsOf,
  dateParams,
  dateRange,
  matchDate,
  matchString,
  matchToken,
  orValues,
  pagingParam,
  patientFromParams,
  periodRange,
  rawParams,
  stringParams,
  tokenParams,
  unsupportedModifier,
  type DateParam,
  type RawParam,
  type SearchOptions,
  type SearchParams,
  type StringParam,
  type TokenParam,
} from './search.ts';

export { parseListQuery, matchesListQuery, type ListQuery } from './iti66.ts';

export type SortKey = 'date' | 'creation' | 'period';

export interface DocumentQuery {
  patient?: PatientLink;
  status: TokenParam[];
  type: TokenParam[];
  category: TokenParam[];
  securityLabel: TokenParam[];
  setting: TokenParam[];
  facility: TokenParam[];
  event: TokenParam[];
  format: TokenParam[];
  identifier: TokenParam[];
  contentType: TokenParam[];
  language: TokenParam[];
  /** `related`: the document's referenceIdList (context.related identifiers). */
  related: TokenParam[];
  /** `relatesto`: ids of the documents this one replaces. */
  relatesTo: TokenParam[];
  authorIdentifier: TokenParam[];
  id: TokenParam[];
  /** `date`: DocumentReference.date, i.e. when Carnet filed it (`submittedAt`). */
  date: DateParam[];
  /** `creation`: attachment.creation, when the author wrote it. */
  creation: DateParam[];
  period: DateParam[];
  periodStart: DateParam[];
  periodEnd: DateParam[];
  authorGiven: StringParam[];
  authorFamily: StringParam[];
  /** PDSm `isArchived`. */
  archived?: boolean;
  count: number;
  offset: number;
  sort: Array<{ key: SortKey; desc: boolean }>;
  /** Parameters ignored (unknown or unsupported), as sent. */
  ignored: string[];
  /** Parameters applied, as name/value pairs, for the searchset self link. */
  applied: Array<[string, string]>;
  /** Time zone used for dates without one; reused when reading documents' partial dates. */
  timeZone: string;
}

const STATUS_CODES: ReadonlySet<string> = new Set<DocumentStatus>(['current', 'superseded', 'entered-in-error']);
const STATUS_SYSTEM = 'http://hl7.org/fhir/document-reference-status';

type Handler = (q: DocumentQuery, p: RawParam) => void;

const token = (field: keyof DocumentQuery, allowNot = true): Handler => (q, p) => {
  (q[field] as TokenParam[]).push(...tokenParams(p, allowNot));
};
const date = (field: keyof DocumentQuery): Handler => (q, p) => {
  (q[field] as DateParam[]).push(...dateParams(p, q.timeZone));
};
const str = (field: keyof DocumentQuery): Handler => (q, p) => {
  (q[field] as StringParam[]).push(...stringParams(p));
};

const HANDLERS: Record<string, Handler> = {
  status: (q, p) => {
    const params = tokenParams(p);
    for (const tp of params)
      for (const t of tp.any) {
        const code = t.kind === 'system' ? undefined : t.code;
        const system = t.kind === 'system' || t.kind === 'system-code' ? t.system : undefined;
        if (system !== undefined && system !== STATUS_SYSTEM) throw badSearchValue(p.key, 'unknown status system');
        if (code !== undefined && !STATUS_CODES.has(code)) throw badSearchValue(p.key, 'status is current, superseded or entered-in-error');
      }
    q.status.push(...params);
  },
  type: token('type'),
  category: token('category'),
  'security-label': token('securityLabel'),
  setting: token('setting'),
  facility: token('facility'),
  event: token('event'),
  format: token('format'),
  identifier: token('identifier'),
  contenttype: token('contentType'),
  language: token('language'),
  _id: token('id', false),
  'author.identifier': token('authorIdentifier'),
  related: (q, p) => {
    // reference parameter searched by identifier (`related=system|value` or `related:identifier=…`)
    if (p.modifier !== undefined && p.modifier !== 'identifier' && p.modifier !== 'missing') throw unsupportedModifier(p);
    q.related.push(...tokenParams({ ...p, ...(p.modifier === 'identifier' ? { modifier: undefined } : {}) }, false));
  },
  relatesto: (q, p) => {
    if (p.modifier !== undefined && p.modifier !== 'missing') throw unsupportedModifier(p);
    const tps = tokenParams(p, false).map((tp) => ({
      ...tp,
      any: tp.any.map((t) => (t.kind === 'code' ? { kind: 'code' as const, code: t.code.replace(/^(?:.*\/)?DocumentReference\//, '') } : t)),
    }));
    q.relatesTo.push(...tps);
  },
  date: date('date'),
  creation: date('creation'),
  period: date('period'),
  'period-start': date('periodStart'),
  'period-end': date('periodEnd'),
  'author.given': str('authorGiven'),
  'author.family': str('authorFamily'),
  isArchived: (q, p) => {
    if (p.modifier !== undefined) throw unsupportedModifier(p);
    const vals = new Set(p.values.flatMap(orValues));
    if ([...vals].some((v) => v !== 'true' && v !== 'false')) throw badSearchValue(p.key, 'true or false');
    if (vals.size === 1) q.archived = vals.has('true');
  },
  _count: (q, p) => {
    q.count = Math.min(pagingParam(p), MAX_COUNT);
  },
  _offset: (q, p) => {
    q.offset = pagingParam(p);
  },
  _sort: (q, p) => {
    if (p.modifier !== undefined) throw unsupportedModifier(p);
    for (const key of p.values.flatMap(orValues)) {
      const desc = key.startsWith('-');
      const k = desc ? key.slice(1) : key;
      if (k !== 'date' && k !== 'creation' && k !== 'period') throw badSearchValue(p.key, 'sorts on date, creation or period');
      q.sort.push({ key: k, desc });
    }
  },
};
HANDLERS.PDSm_isArchived = HANDLERS.isArchived;

export function emptyDocumentQuery(timeZone = 'Europe/Paris'): DocumentQuery {
  return {
    status: [], type: [], category: [], securityLabel: [], setting: [], facility: [], event: [], format: [],
    identifier: [], contentType: [], language: [], related: [], relatesTo: [], authorIdentifier: [], id: [],
    date: [], creation: [], period: [], periodStart: [], periodEnd: [], authorGiven: [], authorFamily: [],
    count: DEFAULT_COUNT, offset: 0, sort: [], ignored: [], applied: [], timeZone,
  };
}

export function parseDocumentQuery(params: SearchParams, opts: SearchOptions = {}): DocumentQuery {
  const q = emptyDocumentQuery(opts.timeZone);
  const raws = rawParams(params);
  const patient = patientFromParams(raws);
  if (patient.link) q.patient = patient.link;
  else if (opts.requirePatient !== false)
    throw invalid(SEARCH_MISSING_PATIENT, 'a document search names its patient (patient or patient.identifier)', {
      expression: ['patient'],
    });
  for (const p of raws) {
    if (patient.used.includes(p)) {
      for (const v of p.values) q.applied.push([p.key, v]);
      continue;
    }
    if (PASSTHROUGH.has(p.name)) continue;
    const h = Object.hasOwn(HANDLERS, p.name) ? HANDLERS[p.name] : undefined;
    if (!h) {
      if (opts.handling === 'strict')
        throw invalid(SEARCH_UNKNOWN_PARAMETER, `the ${p.name} parameter is not supported`, {
          expression: [p.key],
          details: { parameter: p.name },
        });
      q.ignored.push(p.key);
      continue;
    }
    h(q, p);
    for (const v of p.values) q.applied.push([p.key, v]);
  }
  return q;
}

// --- matching ------------------------------------------------------------------------------------

const all = <T>(ps: T[], f: (p: T) => boolean) => ps.every(f);

function authorIdentifiers(doc: StoredDocument): Array<{ system: string; code: string }> {
  return doc.authors.flatMap((a) => [
    ...(a.rpps ? [{ system: IDNAT_PS_SYSTEM, code: `8${a.rpps}` }, { system: RPPS_SYSTEM, code: a.rpps }] : []),
    ...(a.organisation?.finess
      ? [{ system: IDNAT_STRUCT_SYSTEM, code: `1${a.organisation.finess}` }, { system: FINESS_SYSTEM, code: a.organisation.finess }]
      : []),
  ]);
}

const sameIdentifier = (a: string, b: string) => a === b || asUrn(a) === asUrn(b);
const sameMime = (a: string, b: string) => a.split(';')[0].trim().toLowerCase() === b.split(';')[0].trim().toLowerCase();

/**
 * Does the document satisfy every criterion of the query? The patient criterion is not checked here:
 * the service loads one patient's documents. Status: no `status` parameter means any status.
 */
export function matchesDocumentQuery(doc: StoredDocument, q: DocumentQuery): boolean {
  const tz = q.timeZone;
  if (q.archived !== undefined && doc.archived !== q.archived) return false;
  const statusCoding = [{ system: STATUS_SYSTEM, code: doc.status }];
  if (!all(q.status, (p) => matchToken(statusCoding, p))) return false;
  if (!all(q.type, (p) => matchToken(codingsOf(doc.type), p))) return false;
  if (!all(q.category, (p) => matchToken(codingsOf(doc.category), p))) return false;
  if (!all(q.setting, (p) => matchToken(codingsOf(doc.practiceSetting), p))) return false;
  if (!all(q.facility, (p) => matchToken(codingsOf(doc.facilityType), p))) return false;
  if (!all(q.event, (p) => matchToken(doc.events ?? [], p))) return false;
  if (!all(q.format, (p) => matchToken(codingsOf(doc.format), p))) return false;
  if (q.securityLabel.length) {
    const labels = securityLabelsOut(doc.securityLabels).flatMap((c) => c.coding ?? []).map((c) => ({ system: c.system, code: c.code ?? '' }));
    if (!all(q.securityLabel, (p) => matchToken(labels, p))) return false;
  }
  if (q.identifier.length) {
    const ids = documentIdentifiers(doc).map((i) => ({ system: i.system, code: i.value ?? '' }));
    if (!all(q.identifier, (p) => matchToken(ids, p, sameIdentifier))) return false;
  }
  if (!all(q.contentType, (p) => matchToken([{ system: 'urn:ietf:bcp:13', code: doc.mimeType }], p, sameMime))) return false;
  if (!all(q.language, (p) => matchToken(doc.language ? [{ system: 'urn:ietf:bcp:47', code: doc.language }] : [], p))) return false;
  if (!all(q.related, (p) => matchToken((doc.referenceIds ?? []).map((r) => ({ system: r.system, code: r.value })), p))) return false;
  if (!all(q.relatesTo, (p) => matchToken(doc.replacesId ? [{ code: doc.replacesId }] : [], p))) return false;
  if (!all(q.id, (p) => matchToken([{ code: doc.id }], p))) return false;
  if (q.authorIdentifier.length) {
    const ids = authorIdentifiers(doc);
    if (!all(q.authorIdentifier, (p) => matchToken(ids, p))) return false;
  }
  if (!all(q.date, (p) => matchDate(dateRange(doc.submittedAt, tz), p))) return false;
  if (!all(q.creation, (p) => matchDate(dateRange(doc.creationTime, tz), p))) return false;
  if (!all(q.period, (p) => matchDate(periodRange(doc.servicePeriod?.start, doc.servicePeriod?.end, tz), p))) return false;
  if (!all(q.periodStart, (p) => matchDate(doc.servicePeriod?.start ? dateRange(doc.servicePeriod.start, tz) : undefined, p))) return false;
  if (!all(q.periodEnd, (p) => matchDate(doc.servicePeriod?.end ? dateRange(doc.servicePeriod.end, tz) : undefined, p))) return false;
  if (!all(q.authorGiven, (p) => matchString(doc.authors.map((a) => a.given), p))) return false;
  if (!all(q.authorFamily, (p) => matchString(doc.authors.map((a) => a.family), p))) return false;
  return true;
}

/** Comparator for `_sort` (default: most recently filed first). */
export function compareDocuments(q: Pick<DocumentQuery, 'sort' | 'timeZone'>): (a: StoredDocument, b: StoredDocument) => number {
  const keys = q.sort.length ? q.sort : [{ key: 'date' as const, desc: true }];
  const at = (d: StoredDocument, k: SortKey): number => {
    const v = k === 'date' ? d.submittedAt : k === 'creation' ? d.creationTime : d.servicePeriod?.start;
    return (v ? dateRange(v, q.timeZone)?.lo : undefined) ?? Number.NEGATIVE_INFINITY;
  };
  // each document's sort keys parsed once, not at every comparison of the sort
  const parsed = new WeakMap<StoredDocument, number[]>();
  const keysOf = (d: StoredDocument) => {
    let k = parsed.get(d);
    if (!k) parsed.set(d, (k = keys.map(({ key }) => at(d, key))));
    return k;
  };
  return (a, b) => {
    const ka = keysOf(a);
    const kb = keysOf(b);
    for (let i = 0; i < keys.length; i++) {
      const x = ka[i];
      const y = kb[i];
      if (x !== y) return (x < y ? -1 : 1) * (keys[i].desc ? -1 : 1);
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** Filters, sorts and pages one patient's documents; `total` counts every match. */
export function selectDocuments(docs: StoredDocument[], q: DocumentQuery): { total: number; page: StoredDocument[] } {
  const matched = docs.filter((d) => matchesDocumentQuery(d, q)).sort(compareDocuments(q));
  return { total: matched.length, page: matched.slice(q.offset, q.offset + q.count) };
}

/** self / next / previous links of a page (paging by `_offset`). */
export function searchLinks(
  url: string,
  q: Pick<DocumentQuery, 'applied' | 'count' | 'offset'>,
  total: number,
): { self: string; next?: string; previous?: string } {
  const build = (offset: number) => {
    const sp = new URLSearchParams();
    for (const [k, v] of q.applied) if (k !== '_offset' && k !== '_count') sp.append(k, v);
    sp.set('_count', String(q.count));
    if (offset > 0) sp.set('_offset', String(offset));
    return `${url.split('?')[0]}?${sp.toString()}`;
  };
  return {
    self: build(q.offset),
    ...(q.offset + q.count < total && q.count > 0 ? { next: build(q.offset + q.count) } : {}),
    ...(q.offset > 0 ? { previous: build(Math.max(0, q.offset - q.count)) } : {}),
  };
}
