/**
 * The same flows driven by an outside FHIR client (fhir-kit-client) over real HTTP on loopback:
 * TD0.2 Patient search, TD0.3 Consent, ITI-65 transaction, ITI-67 (GET and POST _search), ITI-68 (Binary read and
 * the attachment.url), TD3.3 JSON Patch, and an error as the client sees it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';
import {
  FIXTURE_INS, TEST_OID, cdaFixture, newPatient, newPractitioner, provideBundle, startServer, token, type Server,
} from './helpers.ts';

const LAB = '01234534765';
const LAB_FINESS = '120459876';
const FIXTURE = 'BIO-CR-BIO_2024.01_TSH_1.xml';

let s: Server;
let client: InstanceType<typeof Client>;
let patient: { recordId: string; ins: string; oid: string };

before(async () => {
  s = await startServer();
  patient = await newPatient(s, { ins: FIXTURE_INS.main, oid: TEST_OID });
  await newPractitioner(s, LAB, { finess: LAB_FINESS, professionCode: '10' });
  client = new Client({ baseUrl: s.fhir, bearerToken: await token(s, { as: `practitioner:${LAB}` }) });
});
after(async () => s?.close());

const insToken = () => `urn:oid:${patient.oid}|${patient.ins}`;

test('CapabilityStatement through the client', async () => {
  const cs: any = await client.capabilityStatement();
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
});

test('TD0.2: Patient search by INS', async () => {
  const b: any = await client.search({ resourceType: 'Patient', searchParams: { identifier: insToken() } });
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.total, 1);
  assert.equal(b.entry[0].resource.id, patient.recordId);
  assert.equal(b.entry[0].resource.identifier[0].value, patient.ins);
});

test('TD0.3: Consent create', async () => {
  const c: any = await client.create({
    resourceType: 'Consent',
    body: {
      resourceType: 'Consent', status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient?identifier=${insToken()}` },
    },
  });
  assert.equal(c.resourceType, 'Consent');
  const b: any = await client.search({ resourceType: 'Patient', searchParams: { identifier: insToken() } });
  assert.equal(b.entry[0].resource.extension.find((e: any) => /authorization-status$/.test(e.url)).valueCode, 'VALIDE');
});

test('ITI-65 → ITI-67 → ITI-68 → PATCH with fhir-kit-client', async () => {
  const bytes = cdaFixture(FIXTURE);
  const { bundle, metadata } = provideBundle(bytes, { patient });
  const resp: any = await client.transaction({ body: bundle });
  assert.equal(resp.type, 'transaction-response');
  const loc: string = resp.entry.map((e: any) => e.response.location).find((l: string) => l?.startsWith('DocumentReference/'));
  const id = loc.split('/')[1];

  // ITI-67 GET and POST _search give the same document
  const params = { 'patient.identifier': insToken(), type: `http://loinc.org|${metadata.type.code}`, creation: 'ge2000-01-01' };
  const viaGet: any = await client.search({ resourceType: 'DocumentReference', searchParams: params });
  const viaPost: any = await client.search({ resourceType: 'DocumentReference', searchParams: params, options: { postSearch: true } });
  assert.deepEqual(viaGet.entry.map((e: any) => e.resource.id), [id]);
  assert.deepEqual(viaPost.entry.map((e: any) => e.resource.id), [id]);
  const dr = viaGet.entry[0].resource;
  assert.equal(dr.masterIdentifier.value, `urn:oid:${metadata.uniqueId}`);

  // ITI-68 as a FHIR Binary (JSON), by id and by the attachment.url
  const bin: any = await client.read({ resourceType: 'Binary', id });
  assert.equal(bin.contentType, 'text/xml');
  assert.ok(Buffer.from(bin.data, 'base64').equals(bytes));
  const byUrl: any = await client.request(dr.content[0].attachment.url);
  assert.ok(Buffer.from(byUrl.data, 'base64').equals(bytes));

  // TD3.3 archive by JSON Patch (the author may), then it leaves the default listing
  const patched: any = await client.patch({
    resourceType: 'DocumentReference', id,
    jsonPatch: [{ op: 'add', path: '/extension', value: [{ url: 'http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived', valueBoolean: true }] }],
  });
  assert.equal(patched.extension?.[0]?.valueBoolean, true);
  const after: any = await client.search({ resourceType: 'DocumentReference', searchParams: params });
  assert.equal(after.total, 0);
  const archived: any = await client.search({ resourceType: 'DocumentReference', searchParams: { ...params, isArchived: 'true' } });
  assert.deepEqual(archived.entry.map((e: any) => e.resource.id), [id]);
});

test('errors reach the client as status + OperationOutcome', async () => {
  await assert.rejects(
    client.search({ resourceType: 'DocumentReference', searchParams: { 'patient.identifier': `urn:oid:${TEST_OID}|${'279035121518989'.slice(0, 13)}00` } }),
    (e: any) => {
      assert.equal(e.response.status, 400);
      assert.equal(e.response.data.resourceType, 'OperationOutcome');
      assert.equal(e.response.data.issue[0].details.coding[0].code, 'INS_KEY');
      return true;
    },
  );
  await assert.rejects(client.read({ resourceType: 'Binary', id: 'no-such-document' }), (e: any) => {
    assert.equal(e.response.status, 404);
    assert.equal(e.response.data.issue[0].details.coding[0].code, 'DOCUMENT_UNKNOWN');
    return true;
  });
});
