/**
 * Every real CDA of the shared fixtures, wrapped in a PDSm ITI-65 Provide Document Bundle, POSTed
 * over HTTP; then found by ITI-67 with the right type, author, date and patient; then retrieved
 * byte-identical by ITI-68 with its original MIME type. The fixtures whose identity data are wrong
 * are refused with a precise code and file nothing. The PDSm4DMP example bundles (TD2, TD2.1) are
 * accepted once pointed at a test patient.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseCdaHeader } from '../../src/fhir/cda/header.ts';
import {
  FIXTURE_INS, NIR_OID, authorIdNats, TEST_OID, assertAuditIntact, assertOutcome, call, cdaFixture, cdaFixtureNames, fhirFixtureText,
  filedIds, miniCda, newPatient, newPractitioner, provideBundle, recordSnapshot, startServer, token, type Server,
} from './helpers.ts';

/** Fixtures refused, and why (see fixtures/README.md; VAC_2023.01's legal authenticator INS has a wrong key too). */
const REFUSED: Record<string, { code: string; at: string }> = {
  'CSE-CS24_2024.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'CSE-CS24_2025.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'CSE-CS8_2025.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'CSE-CS9_2024.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'CSE-MDE_2023.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'OBP-SNE_2024.01.xml': { code: 'INS_KEY', at: 'recordTarget' },
  'VAC_2023.01.xml': { code: 'INS_KEY', at: 'legalAuthenticator' },
};
/** The two "auto-présentable" CDAs: an XSL stylesheet carrying the ClinicalDocument (with its recordTarget). */
const AUTO_PRESENTABLE = new Set(['BIO-CR-BIO_2021.01_Auto-Presentable.xml', 'CANCER-PPS_2022.01_Autopresentable.xml']);

const FILER = '10003456789';
const FILER_FINESS = '750712184';

let s: Server;
let t: string;
const patients: Record<string, { recordId: string; ins: string; oid: string }> = {};

before(async () => {
  s = await startServer();
  patients[FIXTURE_INS.main] = await newPatient(s, { ins: FIXTURE_INS.main, oid: TEST_OID });
  patients[FIXTURE_INS.obstetric] = await newPatient(s, { ins: FIXTURE_INS.obstetric, oid: NIR_OID });
  await newPractitioner(s, FILER, { finess: FILER_FINESS, professionCode: '10' });
  t = await token(s, { as: `practitioner:${FILER}` });
  // TD0.3: the hospital records that each holder agreed (over HTTP)
  for (const p of Object.values(patients)) {
    const r = await call(s, 'POST', '/fhir/Consent', {
      token: t,
      body: {
        resourceType: 'Consent', status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: `Patient?identifier=urn:oid:${p.oid}|${p.ins}` },
      },
    });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => s?.close());

const ident = (p: { ins: string; oid: string }) => encodeURIComponent(`urn:oid:${p.oid}|${p.ins}`);

describe('every CDA fixture through ITI-65 → ITI-67 → ITI-68', () => {
  const names = cdaFixtureNames();

  test('the fixture folder is the one described (60 documents)', () => {
    assert.ok(names.length >= 60, `only ${names.length} fixtures`);
    for (const f of [...Object.keys(REFUSED), ...AUTO_PRESENTABLE]) assert.ok(names.includes(f), f);
  });

  for (const name of names) {
    if (REFUSED[name]) continue;
    test(`${name} is filed, found and retrieved byte-identical`, async () => {
      const bytes = cdaFixture(name);
      const h = parseCdaHeader(bytes);
      const p = patients[h.patient.ins!.value];
      assert.ok(p, `no test patient for ${name}`);
      const { bundle, metadata: m } = provideBundle(bytes, { patient: { ins: p.ins, oid: h.patient.ins!.oid } });
      const ids = filedIds(await call(s, 'POST', '/fhir', { token: t, body: bundle }));
      assert.equal(ids.length, 1);

      // ITI-67 by patient.identifier + type (an explicit period: most fixtures are older than the 2-year default)
      const q = `/fhir/DocumentReference?patient.identifier=${ident(p)}&type=${encodeURIComponent(`${m.type.system}|${m.type.code}`)}&creation=ge1990-01-01&_count=100`;
      const found = await call(s, 'GET', q, { token: t });
      assert.equal(found.status, 200, found.text.slice(0, 300));
      const entry = found.json.entry.find((e: any) => e.resource.id === ids[0]);
      assert.ok(entry, `${name} not found by ITI-67`);
      const dr = entry.resource;
      for (const e of found.json.entry) assert.equal(e.resource.type.coding[0].code, m.type.code);
      assert.equal(dr.masterIdentifier.value.replace(/^urn:oid:/, ''), h.uniqueId);
      assert.equal(dr.status, 'current');
      assert.equal(dr.category[0].coding[0].code, m.category.code);
      // the record's INS (SDM-MR 2024 names the same number under the test OID: the record keeps its own)
      assert.deepEqual(dr.subject.identifier, { system: `urn:oid:${p.oid}`, value: p.ins });
      // author: each RPPS of the CDA header, as idNat_PS
      const rppsOut = authorIdNats(dr);
      const rppsIn = h.authors.map((a) => a.rpps).filter(Boolean).map((r) => `8${r}`);
      assert.deepEqual([...new Set(rppsOut)].sort(), [...new Set(rppsIn)].sort());
      // date: the author's creation time (CDA effectiveTime), as an instant
      assert.equal(Date.parse(dr.content[0].attachment.creation), Date.parse(h.effectiveTime!));
      assert.equal(dr.content[0].attachment.size, bytes.length);
      assert.equal(dr.content[0].attachment.hash, createHash('sha1').update(bytes).digest('base64'));
      const mime = AUTO_PRESENTABLE.has(name) ? 'application/xslt+xml' : 'text/xml';
      assert.equal(dr.content[0].attachment.contentType, mime);

      // ITI-68 on attachment.url: the very bytes, with the original MIME type
      const url: string = dr.content[0].attachment.url;
      assert.ok(url.startsWith(`${s.fhir}/Binary/`), url);
      const got = await call(s, 'GET', url, { token: t, headers: { accept: '*/*' } });
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type')?.split(';')[0], mime);
      assert.ok(got.body.equals(bytes), `${name}: bytes differ`);
    });
  }

  for (const [name, why] of Object.entries(REFUSED)) {
    test(`${name} is refused (${why.code} at ${why.at}) and files nothing`, async () => {
      const bytes = cdaFixture(name);
      const main = patients[FIXTURE_INS.main];
      const before = await recordSnapshot(s, main.recordId);
      // as a feed that names a real, qualified patient: the CDA's own identity data are checked
      const r = await call(s, 'POST', '/fhir', { token: t, body: provideBundle(bytes, { patient: main }).bundle });
      assertOutcome(r, 400, why.code);
      assert.ok(r.json.issue[0].expression.some((e: string) => e.endsWith(why.at)), JSON.stringify(r.json.issue[0].expression));
      // as a feed that names the patient the CDA names: refused on the metadata already
      const h = parseCdaHeader(bytes);
      if (why.at === 'recordTarget') {
        const r2 = await call(s, 'POST', '/fhir', { token: t, body: provideBundle(bytes, { patient: { ins: h.patient.ins!.value, oid: h.patient.ins!.oid } }).bundle });
        assertOutcome(r2, 400, 'INS_KEY');
      }
      assert.deepEqual(await recordSnapshot(s, main.recordId), before);
      const none = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(main)}&identifier=${encodeURIComponent(`urn:oid:${h.uniqueId}`)}&creation=ge1990-01-01`, { token: t });
      assert.equal(none.status, 200);
      assert.equal(none.json.total, 0);
    });
  }

  test('a CDA without recordTarget is refused with CDA_NO_PATIENT and files nothing', async () => {
    const original = cdaFixture('VAC-NOTE_2023.01.xml').toString('utf8');
    const stripped = Buffer.from(original.replace(/<recordTarget>[\s\S]*?<\/recordTarget>/, ''), 'utf8');
    assert.ok(!/<recordTarget/.test(stripped.toString('utf8')));
    const main = patients[FIXTURE_INS.main];
    const before = await recordSnapshot(s, main.recordId);
    const r = await call(s, 'POST', '/fhir', {
      token: t,
      body: provideBundle(stripped, { patient: main, fullMetadata: { uniqueId: '1.2.250.1.999.77.1', type: { system: 'http://loinc.org', code: '87273-9' }, category: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.6.1', code: '10' }, authors: [], creationTime: '2021-04-09T15:35:00+01:00', mimeType: 'text/xml', securityLabels: [] } }).bundle,
    });
    assertOutcome(r, 400, 'CDA_NO_PATIENT');
    assert.deepEqual(await recordSnapshot(s, main.recordId), before);
  });

  test('the audit chains are intact after the whole feed', async () => {
    await assertAuditIntact(s);
  });
});

describe('the PDSm4DMP example bundles, pointed at a test patient', () => {
  // The examples name INS 123456789012345 (not a valid INS) and carry an 80-byte empty
  // <ClinicalDocument/> (same bytes in TD2 and TD2.1). Carnet parses a CDA's header and refuses one
  // with no patient, and refuses a replacement identical to the current version, so the copies get
  // a small CDA for the test patient (type 11488-4, the examples' author 899700218896) and their
  // size and hash are recomputed. Nothing else is changed, except the TD2.1 target id.
  const EXAMPLE_AUTHOR = '99700218896';

  function pointAt(fixture: string, p: { ins: string }, cda: Buffer, replaceTarget?: string) {
    let text = fhirFixtureText(fixture).replaceAll('123456789012345', p.ins);
    if (replaceTarget) text = text.replaceAll('DocumentReference/doc-x-id', `DocumentReference/${replaceTarget}`);
    const b = JSON.parse(text);
    const sha1 = createHash('sha1').update(cda).digest('base64');
    for (const e of b.entry) {
      if (e.resource.resourceType === 'Binary') e.resource.data = cda.toString('base64');
      if (e.resource.resourceType === 'DocumentReference') {
        e.resource.content[0].attachment.size = cda.length;
        e.resource.content[0].attachment.hash = sha1;
      }
    }
    return b;
  }

  test('the examples as published: hash and size agree with their Binary, but the Binary is an empty ClinicalDocument', () => {
    for (const f of ['pdsm4dmp-Bundle-example-td2-iti65-lot-soumission.json', 'pdsm4dmp-Bundle-example-td2-1-remplacement.json']) {
      const b = JSON.parse(fhirFixtureText(f));
      const bin = Buffer.from(b.entry.find((e: any) => e.resource.resourceType === 'Binary').resource.data, 'base64');
      const att = b.entry.find((e: any) => e.resource.resourceType === 'DocumentReference').resource.content[0].attachment;
      assert.equal(att.size, bin.length);
      assert.equal(att.hash, createHash('sha1').update(bin).digest('base64'));
      assert.match(bin.toString('utf8'), /<ClinicalDocument xmlns="urn:hl7-org:v3"\/>/);
    }
  });

  test('as published, the submission is refused: its INS is not one (INS_MONTH), then its CDA names no patient (CDA_NO_PATIENT)', async () => {
    const raw = JSON.parse(fhirFixtureText('pdsm4dmp-Bundle-example-td2-iti65-lot-soumission.json'));
    assertOutcome(await call(s, 'POST', '/fhir', { token: t, body: raw }), 400, 'INS_MONTH');
    const p = await newPatient(s);
    const onlyIns = JSON.parse(fhirFixtureText('pdsm4dmp-Bundle-example-td2-iti65-lot-soumission.json').replaceAll('123456789012345', p.ins));
    assertOutcome(await call(s, 'POST', '/fhir', { token: t, body: onlyIns }), 400, 'CDA_NO_PATIENT');
    assert.equal((await recordSnapshot(s, p.recordId)).docs.length, 0);
  });

  test('TD2 submission then TD2.1 replacement are accepted; the first version becomes superseded', async () => {
    const p = await newPatient(s);
    await newPractitioner(s, EXAMPLE_AUTHOR, { professionCode: '10' });
    const author = await token(s, { as: `practitioner:${EXAMPLE_AUTHOR}` });
    const v1 = miniCda({ ins: p.ins, typeCode: '11488-4', authorRpps: EXAMPLE_AUTHOR, uniqueId: '1.2.250.1.213.1.4.8.99999.2', text: 'version 1' });
    const first = await call(s, 'POST', '/fhir', { token: author, body: pointAt('pdsm4dmp-Bundle-example-td2-iti65-lot-soumission.json', p, v1) });
    const [id1] = filedIds(first);
    assert.ok(id1);
    // the example's SubmissionSet has no uniqueId: Carnet assigned one and says so on that entry
    const listWarnings = first.json.entry[0].response.outcome?.issue ?? [];
    assert.ok(listWarnings.some((i: any) => i.severity === 'warning' && i.details.coding[0].code === 'MHD_SUBMISSION_SET_UNIQUE_ID_ASSIGNED'), JSON.stringify(first.json.entry[0]));

    const list = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}&type=http://loinc.org|11488-4`, { token: author });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.entry.map((e: any) => e.resource.id), [id1]);
    const dr1 = list.json.entry[0].resource;
    assert.equal(dr1.masterIdentifier.value, 'urn:oid:1.2.250.1.213.1.4.8.99999.2');
    assert.equal(dr1.content[0].attachment.title, 'Compte rendu de consultation');
    assert.equal(dr1.context.practiceSetting.coding[0].code, '394802001');
    const got1 = await call(s, 'GET', dr1.content[0].attachment.url, { token: author, headers: { accept: '*/*' } });
    assert.equal(got1.headers.get('content-type')?.split(';')[0], 'application/xml');
    assert.ok(got1.body.equals(v1));

    const v2 = miniCda({ ins: p.ins, typeCode: '11488-4', authorRpps: EXAMPLE_AUTHOR, uniqueId: '1.2.250.1.213.1.4.8.99999.3', text: 'version 2' });
    const second = await call(s, 'POST', '/fhir', { token: author, body: pointAt('pdsm4dmp-Bundle-example-td2-1-remplacement.json', p, v2, id1) });
    const [id2] = filedIds(second);
    assert.ok(id2 && id2 !== id1);
    const old = await call(s, 'GET', `/fhir/DocumentReference/${id1}`, { token: author });
    assert.equal(old.json.status, 'superseded');
    const now = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}&status=current`, { token: author });
    assert.deepEqual(now.json.entry.map((e: any) => e.resource.id), [id2]);
    assert.equal(now.json.entry[0].resource.relatesTo[0].code, 'replaces');
    assert.equal(now.json.entry[0].resource.relatesTo[0].target.reference, `DocumentReference/${id1}`);
    const got2 = await call(s, 'GET', now.json.entry[0].resource.content[0].attachment.url, { token: author, headers: { accept: '*/*' } });
    assert.ok(got2.body.equals(v2));
  });
});
