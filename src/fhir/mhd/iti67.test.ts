import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CarnetError } from '../../domain/errors.ts';
import type { StoredDocument } from '../../domain/document.ts';
import {
  compareDocuments,
  matchesDocumentQuery,
  matchesListQuery,
  parseDocumentQuery,
  parseListQuery,
  searchLinks,
  selectDocuments,
} from './iti67.ts';
import { dateRange } from './search.ts';
import type { SubmissionSetView } from './docref.ts';

const LOINC = 'http://loinc.org';
const A03 = 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
const A07 = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const SCT = 'http://snomed.info/sct';
const P = { 'patient.identifier': 'urn:oid:1.2.250.1.213.1.4.8|123456789012345' };

function doc(over: Partial<StoredDocument> = {}): StoredDocument {
  return {
    id: 'd1',
    recordId: 'r1',
    uniqueId: 'urn:oid:1.2.250.1.213.1.4.8.99999.2',
    type: { system: LOINC, code: '11488-4' },
    category: { system: A03, code: '11' },
    authors: [{ kind: 'practitioner', rpps: '99700218896', given: 'Élodie', family: 'Lefèvre-Dupont' }],
    creationTime: '2026-06-12T10:00:00+02:00',
    servicePeriod: { start: '2026-06-10T09:00:00+02:00', end: '2026-06-11T17:00:00+02:00' },
    facilityType: { system: SCT, code: '22232009' },
    practiceSetting: { system: SCT, code: '394802001' },
    events: [{ system: 'urn:oid:1.2.250.1.213.2.5', code: 'DEQP003' }],
    format: { system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient' },
    mimeType: 'application/pdf',
    language: 'fr-FR',
    securityLabels: [{ system: CONF, code: 'N' }],
    referenceIds: [{ system: 'urn:oid:1.2.3', value: 'ORDER-7' }],
    status: 'current',
    archived: false,
    size: 10,
    sha256: 'x',
    sha1: 'y',
    submittedAt: '2026-06-12T08:30:00Z',
    filedBy: { kind: 'professional', id: '99700218896' },
    ...over,
  };
}

const q = (params: Record<string, string | string[]>, opts?: Parameters<typeof parseDocumentQuery>[1]) =>
  parseDocumentQuery({ ...P, ...params }, opts);
const m = (params: Record<string, string | string[]>, d = doc()) => matchesDocumentQuery(d, q(params));

function errorOf(fn: () => unknown): CarnetError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarnetError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

describe('ITI-67 parsing', () => {
  test('patient forms', () => {
    assert.deepEqual(q({}).patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });
    assert.deepEqual(parseDocumentQuery({ patient: 'Patient/abc' }).patient, { kind: 'id', id: 'abc' });
    assert.deepEqual(parseDocumentQuery({ patient: 'abc' }).patient, { kind: 'id', id: 'abc' });
    assert.deepEqual(parseDocumentQuery({ 'patient:identifier': '1.2.250.1.213.1.4.8|1' }).patient, {
      kind: 'identifier',
      system: 'urn:oid:1.2.250.1.213.1.4.8',
      value: '1',
    });
    assert.equal(errorOf(() => parseDocumentQuery({ status: 'current' })).code, 'SEARCH_MISSING_PATIENT');
    assert.equal(parseDocumentQuery({ status: 'current' }, { requirePatient: false }).patient, undefined);
    for (const bad of [{ 'patient.identifier': '123456789012345' }, { patient: 'Patient/a,Patient/b' }, { patient: 'Patient/a', 'patient.identifier': 's|v' }]) {
      const e = errorOf(() => parseDocumentQuery(bad));
      assert.equal(e.code, 'SEARCH_BAD_VALUE');
      assert.equal(e.kind, 'invalid');
    }
  });

  test('unknown parameters: ignored by default, refused with Prefer: handling=strict', () => {
    const lenient = q({ foo: 'bar', _include: 'DocumentReference:subject', _format: 'json', status: 'current', constructor: 'x', toString: 'y' });
    assert.deepEqual(lenient.ignored, ['foo', '_include', 'constructor', 'toString']);
    assert.ok(lenient.applied.some(([k]) => k === 'status'));
    assert.ok(!lenient.applied.some(([k]) => k === 'foo'));
    const e = errorOf(() => q({ foo: 'bar' }, { handling: 'strict' }));
    assert.equal(e.code, 'SEARCH_UNKNOWN_PARAMETER');
    assert.deepEqual(e.expression, ['foo']);
    assert.equal(q({ _format: 'json' }, { handling: 'strict' }).ignored.length, 0);
  });

  test('unsupported modifiers are refused even when lenient', () => {
    const e = errorOf(() => q({ 'type:text': 'consult' }));
    assert.equal(e.code, 'SEARCH_UNSUPPORTED_MODIFIER');
    assert.deepEqual(e.expression, ['type:text']);
    assert.equal(errorOf(() => q({ 'date:exact': '2026' })).code, 'SEARCH_UNSUPPORTED_MODIFIER');
  });

  test('paging: _count capped at 100, _offset, bad values', () => {
    assert.equal(q({}).count, 50);
    assert.equal(q({ _count: '10' }).count, 10);
    assert.equal(q({ _count: '5000' }).count, 100);
    assert.equal(q({ _count: '0' }).count, 0);
    assert.equal(q({ _offset: '20' }).offset, 20);
    for (const v of ['-1', 'ten', '1.5', "1; DROP TABLE documents"]) assert.equal(errorOf(() => q({ _count: v })).code, 'SEARCH_BAD_VALUE');
  });

  test('bad values are typed errors naming the parameter', () => {
    for (const [k, v] of [
      ['date', 'yesterday'],
      ['date', '2026-13'],
      ['date', '2026-02-30'],
      ['date', 'xx2026'],
      ['creation', "2026'; DROP TABLE documents; --"],
      ['period', '2026-06-12T25:00'],
      ['status', 'archived'],
      ['isArchived', 'maybe'],
      ['_sort', 'title'],
      ['type:missing', 'perhaps'],
    ]) {
      const e = errorOf(() => q({ [k]: v }));
      assert.equal(e.code, 'SEARCH_BAD_VALUE', `${k}=${v}`);
      assert.deepEqual(e.expression, [k]);
    }
  });

  test('empty values are ignored', () => {
    assert.equal(q({ type: '' }).type.length, 0);
    assert.ok(m({ type: '' }));
  });
});

describe('ITI-67 matching, parameter by parameter', () => {
  test('status (comma = OR, repeat = AND), with or without its system', () => {
    assert.ok(m({ status: 'current' }));
    assert.ok(!m({ status: 'superseded' }));
    assert.ok(m({ status: 'superseded,current' }));
    assert.ok(m({ status: 'http://hl7.org/fhir/document-reference-status|current' }));
    assert.ok(!m({ status: ['current', 'superseded'] }));
    assert.ok(m({ 'status:not': 'entered-in-error' }));
    assert.ok(!m({ status: 'current' }, doc({ status: 'entered-in-error' })));
    assert.ok(m({}, doc({ status: 'entered-in-error' })), 'no status parameter: any status');
  });

  test('token forms: system|code, |code, code, system|', () => {
    assert.ok(m({ type: `${LOINC}|11488-4` }));
    assert.ok(m({ type: '11488-4' }));
    assert.ok(m({ type: `${LOINC}|` }));
    assert.ok(!m({ type: '|11488-4' }), '|code means no system');
    assert.ok(m({ type: '|X' }, doc({ type: { code: 'X' } })));
    assert.ok(!m({ type: `http://other|11488-4` }));
    assert.ok(!m({ type: '11488-5' }));
    assert.ok(m({ 'type:not': '11488-5' }));
    assert.ok(!m({ 'type:not': '11488-4' }));
  });

  test('SQL-shaped text is a literal that matches nothing', () => {
    for (const v of ["' OR '1'='1", "11488-4' OR 1=1 --", '11488-4; DROP TABLE documents', '%', '*']) {
      assert.ok(!m({ type: v }), v);
      assert.ok(!m({ identifier: v }), v);
      assert.ok(!m({ 'author.family': v }), v);
    }
  });

  test('category, setting, facility, event, format, security-label', () => {
    assert.ok(m({ category: `${A03}|11` }));
    assert.ok(!m({ category: `${A03}|90` }));
    assert.ok(m({ setting: `${SCT}|394802001` }));
    assert.ok(!m({ setting: '394802002' }));
    assert.ok(m({ facility: '22232009' }));
    assert.ok(!m({ facility: '35971002' }));
    assert.ok(m({ event: 'DEQP003' }));
    assert.ok(!m({ event: 'DEQP004' }));
    assert.ok(m({ format: 'urn:ihe:iti:xds:2017:mimeTypeSufficient' }));
    assert.ok(!m({ format: 'urn:ihe:iti:xds-sd:pdf:2008' }));
    assert.ok(m({ 'security-label': `${CONF}|N` }));
    assert.ok(!m({ 'security-label': 'MASQUE_PS' }));
    const masked = doc({ securityLabels: [{ system: CONF, code: 'N' }, { code: 'MASQUE_PS' }] });
    assert.ok(m({ 'security-label': `${A07}|MASQUE_PS` }, masked), 'flags are matched in the TRE_A07 system');
    assert.ok(!m({ 'security-label:not': 'MASQUE_PS' }, masked));
    assert.ok(m({ 'event:missing': 'true' }, doc({ events: undefined })));
    assert.ok(!m({ 'event:missing': 'true' }));
  });

  test('identifier: uniqueId (with or without urn:oid:) and entryUUID', () => {
    assert.ok(m({ identifier: 'urn:ietf:rfc:3986|urn:oid:1.2.250.1.213.1.4.8.99999.2' }));
    assert.ok(m({ identifier: 'urn:oid:1.2.250.1.213.1.4.8.99999.2' }));
    assert.ok(m({ identifier: '1.2.250.1.213.1.4.8.99999.2' }));
    assert.ok(!m({ identifier: '1.2.250.1.213.1.4.8.99999.3' }));
    const withUuid = doc({ entryUuid: 'urn:uuid:7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d' });
    assert.ok(m({ identifier: 'urn:uuid:7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d' }, withUuid));
    assert.ok(m({ _id: 'd1' }));
    assert.ok(!m({ _id: 'd2' }));
  });

  test('related, relatesto, contenttype, language, isArchived, author.identifier', () => {
    assert.ok(m({ related: 'urn:oid:1.2.3|ORDER-7' }));
    assert.ok(m({ 'related:identifier': 'ORDER-7' }));
    assert.ok(!m({ related: 'ORDER-8' }));
    const v2 = doc({ replacesId: 'doc-x-id' });
    assert.ok(m({ relatesto: 'DocumentReference/doc-x-id' }, v2));
    assert.ok(m({ relatesto: 'doc-x-id' }, v2));
    assert.ok(!m({ relatesto: 'doc-x-id' }));
    assert.ok(m({ contenttype: 'application/PDF' }));
    assert.ok(!m({ contenttype: 'text/xml' }));
    assert.ok(m({ language: 'fr-FR' }));
    assert.ok(!m({ language: 'en' }));
    assert.ok(m({ isArchived: 'false' }));
    assert.ok(!m({ isArchived: 'true' }));
    assert.ok(m({ isArchived: 'true' }, doc({ archived: true })));
    assert.ok(m({ 'author.identifier': 'urn:oid:1.2.250.1.71.4.2.1|899700218896' }));
    assert.ok(m({ 'author.identifier': 'https://rpps.esante.gouv.fr|99700218896' }));
    assert.ok(!m({ 'author.identifier': 'urn:oid:1.2.250.1.71.4.2.1|99700218896' }));
  });

  test('author.given / author.family: starts-with, case and accents folded; :exact, :contains', () => {
    assert.ok(m({ 'author.family': 'lefevre' }));
    assert.ok(m({ 'author.family': 'DUPONT' }), 'a later part of a compound name');
    assert.ok(m({ 'author.given': 'elo' }));
    assert.ok(!m({ 'author.given': 'odie' }));
    assert.ok(m({ 'author.given:contains': 'odie' }));
    assert.ok(!m({ 'author.family:exact': 'lefèvre-dupont' }));
    assert.ok(m({ 'author.family:exact': 'Lefèvre-Dupont' }));
    assert.ok(m({ 'author.family': 'Martin,Lefèvre' }));
  });

  test('date (when filed): prefixes and partial dates as ranges', () => {
    // submittedAt 2026-06-12T08:30:00Z = 10:30 in Paris
    assert.ok(m({ date: '2026' }));
    assert.ok(m({ date: '2026-06' }));
    assert.ok(m({ date: '2026-06-12' }));
    assert.ok(!m({ date: '2026-06-11' }));
    assert.ok(m({ date: 'eq2026-06-12' }));
    assert.ok(m({ date: 'ne2026-06-11' }));
    assert.ok(!m({ date: 'ne2026-06-12' }));
    assert.ok(m({ date: 'gt2026-06-11' }));
    assert.ok(!m({ date: 'gt2026-06-12' }));
    assert.ok(m({ date: 'ge2026-06-12' }));
    assert.ok(m({ date: 'lt2026-06-13' }));
    assert.ok(!m({ date: 'lt2026-06-12' }));
    assert.ok(m({ date: 'le2026-06-12' }));
    assert.ok(m({ date: 'sa2026-06-11' }));
    assert.ok(!m({ date: 'sa2026-06-12' }));
    assert.ok(m({ date: 'eb2026-06-13' }));
    assert.ok(!m({ date: 'eb2026-06-12' }));
    assert.ok(m({ date: 'ap2026-06-12' }));
    assert.ok(m({ date: ['ge2026-06-01', 'lt2026-07-01'] }), 'a range by two parameters');
    assert.ok(!m({ date: ['ge2026-07-01', 'lt2026-08-01'] }));
    assert.ok(m({ date: 'ge2026-06-12T10:30:00+02:00' }));
    assert.ok(!m({ date: 'gt2026-06-12T08:30:00Z' }));
    assert.ok(m({ date: 'le2026-06-12T08:30:00Z' }));
    assert.ok(m({ date: '2025,2026' }), 'comma = OR');
  });

  test('dates without a zone are read in Paris time', () => {
    // 23:30Z on 11 June is 01:30 on 12 June in Paris (UTC+2 in summer)
    const late = doc({ submittedAt: '2026-06-11T23:30:00Z' });
    assert.ok(m({ date: '2026-06-12' }, late));
    assert.ok(!m({ date: '2026-06-11' }, late));
    // in winter Paris is UTC+1
    const r = dateRange('2026-01-15')!;
    assert.equal(new Date(r.lo).toISOString(), '2026-01-14T23:00:00.000Z');
    assert.equal(new Date(r.hi).toISOString(), '2026-01-15T23:00:00.000Z');
    assert.ok(m({ date: '2026-06-12' }, late) && !matchesDocumentQuery(late, q({ date: '2026-06-12' }, { timeZone: 'UTC' })));
  });

  test('creation, period, period-start, period-end', () => {
    assert.ok(m({ creation: '2026-06-12' }));
    assert.ok(!m({ creation: 'lt2026-06-12' }));
    assert.ok(m({ creation: 'ge2026-06-12T10:00:00+02:00' }));
    // service period 10 → 11 June
    assert.ok(m({ period: 'ge2026-06-01' }));
    assert.ok(!m({ period: 'eq2026-06-10' }), 'the period is not within that single day');
    assert.ok(m({ period: 'eq2026-06' }));
    assert.ok(m({ period: 'sa2026-06-09' }));
    assert.ok(!m({ period: 'sa2026-06-10' }));
    assert.ok(m({ period: 'eb2026-06-12' }));
    assert.ok(m({ period: 'gt2026-06-10' }));
    assert.ok(!m({ period: 'ge2026-06-12' }));
    assert.ok(m({ 'period-start': '2026-06-10' }));
    assert.ok(m({ 'period-end': '2026-06-11' }));
    assert.ok(!m({ 'period-end': '2026-06-10' }));
    const open = doc({ servicePeriod: { start: '2026-06-10T09:00:00+02:00' } });
    assert.ok(m({ period: 'gt2030-01-01' }, open), 'an open period runs on');
    assert.ok(!m({ period: '2026' }, doc({ servicePeriod: undefined })));
    assert.ok(m({ 'period:missing': 'true' }, doc({ servicePeriod: undefined })));
  });
});

describe('selection, sorting, links', () => {
  const docs = [
    doc({ id: 'a', submittedAt: '2026-06-10T00:00:00Z', creationTime: '2026-06-01' }),
    doc({ id: 'b', submittedAt: '2026-06-12T00:00:00Z', creationTime: '2026-05-01' }),
    doc({ id: 'c', submittedAt: '2026-06-11T00:00:00Z', creationTime: '2026-07-01', status: 'superseded' }),
  ];

  test('default order is most recently filed first; _sort changes it; paging after filtering', () => {
    assert.deepEqual(selectDocuments(docs, q({})).page.map((d) => d.id), ['b', 'c', 'a']);
    assert.deepEqual([...docs].sort(compareDocuments(q({ _sort: 'creation' }))).map((d) => d.id), ['b', 'a', 'c']);
    const r = selectDocuments(docs, q({ status: 'current', _count: '1', _offset: '1' }));
    assert.equal(r.total, 2);
    assert.deepEqual(r.page.map((d) => d.id), ['a']);
  });

  test('links keep the applied parameters and page with _offset', () => {
    const query = q({ status: 'current', foo: 'bar', _count: '1' });
    const l = searchLinks('https://carnet.example.org/fhir/DocumentReference', query, 3);
    const self = new URL(l.self);
    assert.equal(self.searchParams.get('status'), 'current');
    assert.equal(self.searchParams.get('foo'), null, 'ignored parameters are left out of the self link');
    assert.equal(self.searchParams.get('patient.identifier'), P['patient.identifier']);
    assert.equal(new URL(l.next!).searchParams.get('_offset'), '1');
    assert.equal(l.previous, undefined);
    assert.equal(searchLinks('https://x/fhir/DocumentReference', { ...query, offset: 2 }, 3).next, undefined);
  });
});

describe('ITI-66 List search', () => {
  const set: SubmissionSetView = {
    id: 's1',
    uniqueId: 'urn:oid:1.2.3.99',
    sourceId: 'urn:oid:1.2.3.4.5.6.7.8',
    submissionTime: '2026-06-12T10:00:00+02:00',
    authors: [{ kind: 'practitioner', family: 'Martin', given: 'Anne' }],
    contentType: { system: A03, code: '11' },
    documentIds: ['d1'],
  };
  const lq = (params: Record<string, string>) => parseListQuery({ ...P, ...params });

  test('code, status, date, identifier, designationType, sourceId, source names', () => {
    assert.ok(matchesListQuery(set, lq({ code: 'submissionset', status: 'current' })));
    assert.ok(!matchesListQuery(set, lq({ code: 'folder' })));
    assert.ok(matchesListQuery(set, lq({ date: 'ge2026-06-12' })));
    assert.ok(!matchesListQuery(set, lq({ date: 'lt2026-06-12' })));
    assert.ok(matchesListQuery(set, lq({ identifier: '1.2.3.99' })));
    assert.ok(!matchesListQuery(set, lq({ identifier: '1.2.3.98' })));
    assert.ok(matchesListQuery(set, lq({ designationType: `${A03}|11` })));
    assert.ok(matchesListQuery(set, lq({ sourceId: 'urn:oid:1.2.3.4.5.6.7.8' })));
    assert.ok(!matchesListQuery(set, lq({ sourceId: "1' OR '1'='1" })));
    assert.ok(matchesListQuery(set, lq({ 'source.family': 'mart' })));
    assert.ok(!matchesListQuery(set, lq({ 'source.given': 'Marie' })));
  });

  test('bad values, unknown parameters, missing patient', () => {
    assert.equal(errorOf(() => lq({ code: 'documents' })).code, 'SEARCH_BAD_VALUE');
    assert.equal(errorOf(() => lq({ date: 'soon' })).code, 'SEARCH_BAD_VALUE');
    assert.deepEqual(lq({ title: 'x' }).ignored, ['title']);
    assert.equal(errorOf(() => parseListQuery({ ...P, title: 'x' }, { handling: 'strict' })).code, 'SEARCH_UNKNOWN_PARAMETER');
    assert.equal(errorOf(() => parseListQuery({ code: 'submissionset' })).code, 'SEARCH_MISSING_PATIENT');
  });
});
