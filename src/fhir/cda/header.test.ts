import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CarnetError } from '../../domain/errors.ts';
import { isValidIns } from '../../domain/ins.ts';
import { cdaHeaderToMetadata, hl7TsToIso, parseCdaHeader, type CdaHeader } from './header.ts';
import { FIXTURES_ROOT } from '../../fixtures.ts';

const FIXTURES = FIXTURES_ROOT;
const CDA_DIR = join(FIXTURES, 'cda');
const files = readdirSync(CDA_DIR).filter((f) => f.endsWith('.xml')).sort();
const read = (name: string): Buffer => readFileSync(join(CDA_DIR, name));

function refused(fn: () => unknown, code: string): CarnetError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarnetError, `expected a CarnetError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.equal(e.kind, 'invalid');
    return e;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

/** ISO 8601 date-time with an explicit offset. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?([+-]\d{2}:\d{2}|Z)$/;

/** Does the raw file hold a recordTarget element at all (comments removed)? */
const hasRecordTarget = (xml: string): boolean => /<([\w.-]+:)?recordTarget[\s>]/.test(xml.replace(/<!--[\s\S]*?-->/g, ''));

test('there are CDA fixtures to read', () => {
  assert.ok(files.length >= 50, `expected the ~60 CI-SIS examples, found ${files.length}`);
});

for (const f of files) {
  test(`header of fixture ${f}`, () => {
    const bytes = read(f);
    if (!hasRecordTarget(bytes.toString('utf8'))) {
      refused(() => parseCdaHeader(bytes), 'CDA_NO_PATIENT');
      return;
    }
    const h = parseCdaHeader(bytes);
    assert.ok(h.type, 'document type code');
    assert.equal(typeof h.type.code, 'string');
    assert.ok(h.type.code.length > 0);
    assert.ok(h.type.system, 'type code system');
    assert.match(h.effectiveTime ?? '', ISO_WITH_OFFSET);
    assert.ok(!Number.isNaN(Date.parse(h.effectiveTime!)), 'effectiveTime is a real date');
    assert.ok(h.authors.length >= 1, 'at least one author');
    assert.ok(
      h.authors.some((a) => a.ids.length > 0 && a.ids.every((i) => typeof i.root === 'string' && i.root.length > 0)),
      'an author with an id',
    );
    assert.match(h.id.root, /^[0-9A-Za-z.-]+$/);
    assert.equal(h.uniqueId, h.id.extension ? `${h.id.root}^${h.id.extension}` : h.id.root);
    assert.ok(h.patient.ids.length >= 1, 'patient ids');
    assert.ok(h.patient.ins, 'an INS among the patient ids');
    assert.match(h.patient.ins.value, /^[0-9AB]{15}$/i);
    assert.ok(h.body.level === 1 || h.body.level === 3, 'a body');
    if (h.versionNumber !== undefined) assert.ok(Number.isInteger(h.versionNumber) && h.versionNumber >= 1);
    for (const t of h.templateIds) assert.match(t.root, /^[0-2](\.\d+)+$/);

    const m = cdaHeaderToMetadata(h);
    assert.equal(m.uniqueId, h.uniqueId);
    assert.equal(m.type?.code, h.type.code);
    assert.equal(m.creationTime, h.effectiveTime);
    assert.equal(m.authors?.length, h.authors.length);
    assert.ok(m.mimeType === 'text/xml' || m.mimeType === 'application/xslt+xml');
    assert.equal(m.mimeType === 'application/xslt+xml', h.autoPresentable);
  });
}

test('a document without recordTarget is refused with CDA_NO_PATIENT', () => {
  const xml = read('BIO-CR-BIO_2024.01_TSH_1.xml').toString('utf8');
  const noPatient = xml.replace(/<recordTarget>[\s\S]*?<\/recordTarget>/, '');
  assert.notEqual(noPatient, xml);
  const e = refused(() => parseCdaHeader(noPatient), 'CDA_NO_PATIENT');
  assert.deepEqual(e.expression, ['ClinicalDocument.recordTarget.patientRole']);
  // recordTarget present but without patientRole: same refusal.
  const emptyTarget = xml.replace(/<recordTarget>[\s\S]*?<\/recordTarget>/, '<recordTarget/>');
  refused(() => parseCdaHeader(emptyTarget), 'CDA_NO_PATIENT');
});

test('BIO lab report (TSH): type, author RPPS, lab FINESS, codes and period', () => {
  const h = parseCdaHeader(read('BIO-CR-BIO_2024.01_TSH_1.xml'));
  assert.deepEqual(h.type, { code: '11502-2', system: '2.16.840.1.113883.6.1', display: "CR d'examens biologiques" });
  assert.equal(h.uniqueId, '1.2.250.1.213.1.1.1.55.2024.9.1');
  assert.equal(h.uniqueIdHasExtension, false);
  assert.deepEqual(h.setId, { root: '1.2.250.1.213.1.1.1.55.2024.9' });
  assert.equal(h.versionNumber, 1);
  assert.equal(h.effectiveTime, '2021-04-01T17:10:00+01:00');
  assert.equal(h.confidentiality?.code, 'N');
  assert.equal(h.language, 'fr-FR');
  assert.deepEqual(h.patient.ins, { value: '279035121518989', oid: '1.2.250.1.213.1.4.10', kind: 'TEST' });
  assert.equal(h.patient.sex, 'F');
  assert.equal(h.patient.birthDate, '1979-03-28');
  assert.ok(h.patient.name?.family.some((p) => p.qualifier === 'BR'));
  const a = h.authors[0];
  assert.equal(a.kind, 'person');
  assert.equal(a.idNat, '801234534765');
  assert.equal(a.rpps, '01234534765');
  assert.equal(a.professionCode, '10');
  assert.equal(a.code?.code, 'G15_10/SM03');
  assert.equal(a.organisation?.finess, '120459876');
  assert.equal(a.organisation?.name, 'Laboratoire des charmes');
  assert.equal(a.time, '2021-01-04T16:05:27+01:00');
  assert.equal(h.custodian?.finess, '120459876');
  assert.equal(h.legalAuthenticator?.rpps, '01234534765');
  assert.deepEqual(h.servicePeriod, { start: '2021-01-04T09:22:00+01:00', end: '2021-01-04T16:05:00+01:00' });
  assert.deepEqual(h.eventCodes.map((c) => c.code), ['18719-5', '18727-8', '18718-7']);
  assert.equal(h.facilityType?.code, 'SA25');
  assert.equal(h.practiceSetting?.code, 'AMBULATOIRE');
  assert.deepEqual(h.body, { level: 3 });
  assert.deepEqual(h.format, { code: 'urn:ihe:lab:xd-lab:2008', system: '1.3.6.1.4.1.19376.1.2.3' });
  assert.deepEqual(h.problems, []);

  const m = cdaHeaderToMetadata(h);
  assert.deepEqual(m.type, { system: 'http://loinc.org', code: '11502-2', display: "CR d'examens biologiques" });
  assert.equal(m.mimeType, 'text/xml');
  assert.equal(m.language, 'fr-FR');
  assert.deepEqual(m.securityLabels, [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N', display: 'Normal' }]);
  assert.deepEqual(m.authors?.[0], {
    kind: 'practitioner',
    rpps: '01234534765',
    given: 'Marcel',
    family: 'CAMPARINI',
    professionCode: '10',
    specialty: { system: 'urn:oid:1.2.250.1.213.1.1.4.5', code: 'G15_10/SM03', display: 'Médecin - Biologie médicale (SM)' },
    organisation: { finess: '120459876', name: 'Laboratoire des charmes' },
  });
  assert.equal(m.facilityType?.code, 'SA25');
  assert.equal(m.facilityType?.system, 'urn:oid:1.2.250.1.71.4.2.4');
  assert.equal(m.practiceSetting?.code, 'AMBULATOIRE');
  assert.deepEqual(m.servicePeriod, h.servicePeriod);
  assert.equal(m.events?.length, 3);
  assert.deepEqual(m.format, { system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', code: 'urn:ihe:lab:xd-lab:2008' });
  assert.equal(m.category, undefined, 'the class code is not in the CDA header');
});

test('level-1 document (PDF in CDA): body, media type and XDS-SD format code', () => {
  for (const f of ['DOC_NON_STRUCTURE_CDA-R2-N1.xml', 'BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml']) {
    const h = parseCdaHeader(read(f));
    assert.deepEqual(h.body, { level: 1, mediaType: 'application/pdf', representation: 'B64' }, f);
    assert.equal(h.format?.code, 'urn:ihe:iti:xds-sd:pdf:2008', f);
    assert.ok(h.templateIds.some((t) => t.root === '1.3.6.1.4.1.19376.1.2.20'), f);
  }
});

test('auto-présentable CDA: the ClinicalDocument inside the stylesheet is read, MIME application/xslt+xml', () => {
  const auto = parseCdaHeader(read('BIO-CR-BIO_2021.01_Auto-Presentable.xml'));
  assert.equal(auto.autoPresentable, true);
  assert.equal(auto.type?.code, '11502-2');
  assert.equal(auto.authors[0].rpps, '01234534765');
  assert.equal(cdaHeaderToMetadata(auto).mimeType, 'application/xslt+xml');
  const plain = parseCdaHeader(read('CANCER-PPS_2022.01_feuille-de-style-externe.xml'));
  const autoPps = parseCdaHeader(read('CANCER-PPS_2022.01_Autopresentable.xml'));
  assert.equal(plain.autoPresentable, false);
  assert.equal(autoPps.autoPresentable, true);
  assert.equal(autoPps.type?.code, plain.type?.code);
  assert.equal(autoPps.format?.code, 'urn:asip:ci-sis:pps-cancer:2017');
});

test('device authors and structures identified by SIRET (dispensation)', () => {
  const h = parseCdaHeader(read('eDISP-MED_2024.01.xml'));
  const device = h.authors.find((a) => a.kind === 'device');
  assert.ok(device);
  assert.equal(device.rpps, undefined);
  assert.equal(device.organisation?.siret, '78435954900010');
  const pharmacist = h.authors.find((a) => a.kind === 'person');
  assert.equal(pharmacist?.professionCode, '21');
  assert.equal(pharmacist?.rpps, '07505123456');
  const m = cdaHeaderToMetadata(h);
  assert.deepEqual(m.authors?.map((a) => a.kind), h.authors.map((a) => (a.kind === 'device' ? 'device' : 'practitioner')));
  assert.equal(m.format?.code, 'urn:ihe:pharm:dis:2010');
});

test('replacement: relatedDocument RPLC gives the replaced uniqueId', () => {
  const h = parseCdaHeader(read('BIO-CR-BIO_2021.01_Microbiologie_V2.xml'));
  assert.equal(h.versionNumber, 2);
  assert.equal(h.replaces, '1.2.250.1.213.1.1.1.55.12345.8');
  assert.equal(parseCdaHeader(read('BIO-CR-BIO_2021.01_Microbiologie_V1.xml')).replaces, undefined);
});

test('wrong INS keys are returned as written (the key is checked elsewhere)', () => {
  const seen = new Map<string, string>();
  for (const f of files) {
    const xml = read(f).toString('utf8');
    if (!hasRecordTarget(xml)) continue;
    const ins = parseCdaHeader(xml).patient.ins;
    if (ins && !isValidIns(ins.value, ins.oid)) seen.set(f, ins.value);
  }
  assert.ok(seen.size >= 1, 'the fixtures hold INS with wrong keys');
  for (const v of seen.values()) assert.ok(['221042545611404', '223042545611404', '222127505611201'].includes(v), v);
});

test('unknown content template → no format code, and unusable values are reported, not fatal', () => {
  const h = parseCdaHeader(read('BIO-TROD_2024.01_COVID-19.xml'));
  assert.equal(h.format, undefined);
  assert.equal(cdaHeaderToMetadata(h).format, undefined);
  assert.ok(h.problems.includes('LEGAL_AUTHENTICATOR_TIME_INVALID'));
  assert.equal(h.legalAuthenticator?.time, undefined);
});

test('a document id with an extension gives the IHE uniqueId root^extension', () => {
  const xml = read('BIO-CR-BIO_2024.01_TSH_1.xml')
    .toString('utf8')
    .replace('<id root="1.2.250.1.213.1.1.1.55.2024.9.1"/>', '<id root="1.2.250.1.213.1.1.1.55" extension="DOC-42"/>');
  const h = parseCdaHeader(xml);
  assert.equal(h.uniqueId, '1.2.250.1.213.1.1.1.55^DOC-42');
  assert.equal(h.uniqueIdHasExtension, true);
});

test('no ClinicalDocument/id → CDA_NO_ID', () => {
  const xml = read('BIO-CR-BIO_2024.01_TSH_1.xml').toString('utf8').replace('<id root="1.2.250.1.213.1.1.1.55.2024.9.1"/>', '');
  refused(() => parseCdaHeader(xml), 'CDA_NO_ID');
});

test('non-CDA XML is refused with CDA_NOT_CLINICAL_DOCUMENT', () => {
  refused(() => parseCdaHeader('<Bundle xmlns="http://hl7.org/fhir"><type value="document"/></Bundle>'), 'CDA_NOT_CLINICAL_DOCUMENT');
  // Right name, wrong (or no) namespace.
  refused(() => parseCdaHeader('<ClinicalDocument><recordTarget/></ClinicalDocument>'), 'CDA_NOT_CLINICAL_DOCUMENT');
  refused(() => parseCdaHeader('<ClinicalDocument xmlns="urn:hl7-org:v2"/>'), 'CDA_NOT_CLINICAL_DOCUMENT');
  // An XSL stylesheet with no ClinicalDocument inside.
  refused(
    () => parseCdaHeader('<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/>'),
    'CDA_NOT_CLINICAL_DOCUMENT',
  );
});

test('XML-level refusals come through parseCdaHeader unchanged', () => {
  refused(
    () => parseCdaHeader('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>'),
    'XML_DTD_FORBIDDEN',
  );
  refused(() => parseCdaHeader('<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1"/>'), 'XML_MALFORMED');
  // Malformed inside the body, which the header reader does not parse into a tree: still refused.
  const xml = read('BIO-CR-BIO_2024.01_TSH_1.xml').toString('utf8').replace('<structuredBody>', '<structuredBody><oops>');
  refused(() => parseCdaHeader(xml), 'XML_MALFORMED');
});

test('hl7TsToIso: precisions, zones and invalid values', () => {
  assert.equal(hl7TsToIso('2021'), '2021');
  assert.equal(hl7TsToIso('202103'), '2021-03');
  assert.equal(hl7TsToIso('20210328'), '2021-03-28');
  assert.equal(hl7TsToIso('202101040735+0100'), '2021-01-04T07:35:00+01:00');
  assert.equal(hl7TsToIso('20210104073512.5-0430'), '2021-01-04T07:35:12.500-04:30');
  assert.equal(hl7TsToIso('20210104073512Z'), '2021-01-04T07:35:12Z');
  // No zone: read as Europe/Paris (winter +01:00, summer +02:00).
  assert.equal(hl7TsToIso('20210115120000'), '2021-01-15T12:00:00+01:00');
  assert.equal(hl7TsToIso('20210715120000'), '2021-07-15T12:00:00+02:00');
  for (const bad of ['', '2021-01-04', '20211304', '20210230', '2021010425', '20240106113623+100', 'abc']) {
    assert.equal(hl7TsToIso(bad), undefined, bad);
  }
});

test('parseCdaHeader accepts Buffer, Uint8Array and string alike', () => {
  const bytes = read('VAC-NOTE_2023.01.xml');
  const a: CdaHeader = parseCdaHeader(bytes);
  const b = parseCdaHeader(new Uint8Array(bytes));
  const c = parseCdaHeader(bytes.toString('utf8'));
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
});
