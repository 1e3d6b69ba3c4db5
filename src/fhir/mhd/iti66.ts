/**
 * IHE MHD ITI-66 Find Document Lists: query parsing and matching for SubmissionSets. Parameters of
 * ITI-66: patient / patient.identifier, code, status, date, identifier, designationType, sourceId,
 * source.given, source.family. Same leniency rules as ITI-67 (see iti67.ts).
 */
import { invalid } from '../../domain/errors.ts';
import { URI_SYSTEM, UUID_RE, asUrn } from './constants.ts';
import type { SubmissionSetView } from './docref.ts';
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
  pagingParam,
  patientFromParams,
  rawParams,
  stringParams,
  tokenParams,
  type DateParam,
  type SearchOptions,
  type SearchParams,
  type StringParam,
  type TokenParam,
} from './search.ts';

export interface ListQuery {
  patient?: PatientLink;
  code: TokenParam[];
  status: TokenParam[];
  date: DateParam[];
  identifier: TokenParam[];
  designationType: TokenParam[];
  sourceId: TokenParam[];
  sourceGiven: StringParam[];
  sourceFamily: StringParam[];
  count: number;
  offset: number;
  ignored: string[];
  applied: Array<[string, string]>;
  timeZone: string;
}

export function parseListQuery(params: SearchParams, opts: SearchOptions = {}): ListQuery {
  const q: ListQuery = {
    code: [], status: [], date: [], identifier: [], designationType: [], sourceId: [], sourceGiven: [], sourceFamily: [],
    count: DEFAULT_COUNT, offset: 0, ignored: [], applied: [], timeZone: opts.timeZone ?? 'Europe/Paris',
  };
  const raws = rawParams(params);
  const patient = patientFromParams(raws);
  if (patient.link) q.patient = patient.link;
  else if (opts.requirePatient !== false)
    throw invalid(SEARCH_MISSING_PATIENT, 'a List search names its patient (patient or patient.identifier)', { expression: ['patient'] });
  for (const p of raws) {
    if (patient.used.includes(p)) {
      for (const v of p.values) q.applied.push([p.key, v]);
      continue;
    }
    if (PASSTHROUGH.has(p.name)) continue;
    switch (p.name) {
      case 'code': {
        const tps = tokenParams(p);
        for (const t of tps.flatMap((x) => x.any))
          if (t.kind !== 'system' && t.code !== 'submissionset' && t.code !== 'folder')
            throw badSearchValue(p.key, 'code is submissionset or folder');
        q.code.push(...tps);
        break;
      }
      case 'status': {
        const tps = tokenParams(p);
        for (const t of tps.flatMap((x) => x.any))
          if (t.kind !== 'system' && t.code !== 'current' && t.code !== 'superseded')
            throw badSearchValue(p.key, 'status is current or superseded');
        q.status.push(...tps);
        break;
      }
      case 'date':
        q.date.push(...dateParams(p, q.timeZone));
        break;
      case 'identifier':
        q.identifier.push(...tokenParams(p));
        break;
      case 'designationType':
        q.designationType.push(...tokenParams(p));
        break;
      case 'sourceId':
        q.sourceId.push(...tokenParams(p));
        break;
      case 'source.given':
        q.sourceGiven.push(...stringParams(p));
        break;
      case 'source.family':
        q.sourceFamily.push(...stringParams(p));
        break;
      case '_count':
        q.count = Math.min(pagingParam(p), MAX_COUNT);
        break;
      case '_offset':
        q.offset = pagingParam(p);
        break;
      default:
        if (opts.handling === 'strict')
          throw invalid(SEARCH_UNKNOWN_PARAMETER, `the ${p.name} parameter is not supported`, {
            expression: [p.key],
            details: { parameter: p.name },
          });
        q.ignored.push(p.key);
        continue;
    }
    for (const v of p.values) q.applied.push([p.key, v]);
  }
  return q;
}

const same = (a: string, b: string) => a === b || asUrn(a) === asUrn(b);

/** Does the submission set satisfy the query (patient excepted, as for documents)? */
export function matchesListQuery(set: SubmissionSetView, q: ListQuery): boolean {
  const codeCoding = [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }];
  if (!q.code.every((p) => matchToken(codeCoding, p))) return false;
  const status = [{ code: 'current' }];
  if (!q.status.every((p) => matchToken(status, p))) return false;
  if (!q.date.every((p) => matchDate(dateRange(set.submissionTime, q.timeZone), p))) return false;
  const ids = [
    { system: URI_SYSTEM, code: asUrn(set.uniqueId) },
    ...(set.entryUuid ? [{ system: URI_SYSTEM, code: asUrn(set.entryUuid) }] : UUID_RE.test(set.id) ? [{ system: URI_SYSTEM, code: `urn:uuid:${set.id}` }] : []),
  ];
  if (!q.identifier.every((p) => matchToken(ids, p, same))) return false;
  if (!q.designationType.every((p) => matchToken(codingsOf(set.contentType), p))) return false;
  if (!q.sourceId.every((p) => matchToken([{ system: URI_SYSTEM, code: asUrn(set.sourceId) }], p, same))) return false;
  if (!q.sourceGiven.every((p) => matchString(set.authors.map((a) => a.given), p))) return false;
  if (!q.sourceFamily.every((p) => matchString(set.authors.map((a) => a.family), p))) return false;
  return true;
}
