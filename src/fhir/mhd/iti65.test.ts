import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CarnetError } from '../../domain/errors.ts';
import { parseDocumentReference, parseProvideBundle } from './iti65.ts';
import { fhirFixture, REPLACEMENT, SEARCHSET, SIMPLIFIED, SUBMISSION } from './test-fixtures.ts';
import { outcomeFromError } from '../operation-outcome.ts';

const clone = <T>(v: T): T => structuredClone(v);
const submission = () => clone(fhirFixture(SUBMISSION));
const replacement = () => clone(fhirFixture(REPLACEMENT));

function errorOf(fn: () => unknown): CarnetError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarnetError, `expected a CarnetError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

/** Runs the parser on a mutated submission bundle and checks the error code and location. */
function rejects(mutate: (b: any) => void, code: string, expression: string, base = submission) {
  const b = base();
  mutate(b);
  const e = errorOf(() => parseProvideBundle(b));
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  assert.equal(e.kind, 'invalid');
  assert.deepEqual(e.expression, [expression]);
  return e;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const sha1 = (buf: Buffer) => createHash('sha1').update(buf).digest();

describe('ITI-65 with the PDSm4DMP fixtures', () => {
  test('TD2 submission parses into the expected submission', () => {
    const raw = fhirFixture(SUBMISSION);
    const expectedBytes = Buffer.from(raw.entry[2].resource.data, 'base64');
    const s = parseProvideBundle(raw);
    assert.equal(s.profile, 'comprehensive');
    assert.deepEqual(s.patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });
    assert.equal(s.submissionSet.sourceId, 'urn:oid:1.2.3.4.5.6.7.8');
    assert.equal(s.submissionSet.submissionTime, '2026-06-12T10:00:00+02:00');
    assert.equal(s.submissionSet.contentType?.code, '11');
    assert.equal(s.submissionSet.authors[0].rpps, '99700218896');
    // The fixture's List has no uniqueId: one is derived from its urn:uuid fullUrl, as an OID.
    assert.equal(s.submissionSet.uniqueIdAssigned, true);
    assert.match(s.submissionSet.uniqueId, /^urn:oid:2\.25\.\d+$/);
    assert.equal(parseProvideBundle(fhirFixture(SUBMISSION)).submissionSet.uniqueId, s.submissionSet.uniqueId);
    assert.ok(s.warnings.some((w) => w.code === 'MHD_SUBMISSION_SET_UNIQUE_ID_ASSIGNED'));

    assert.equal(s.documents.length, 1);
    const [d] = s.documents;
    assert.equal(d.fullUrl, 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000002');
    assert.equal(d.metadata.uniqueId, 'urn:oid:1.2.250.1.213.1.4.8.99999.2');
    assert.deepEqual(d.metadata.type, { system: 'http://loinc.org', code: '11488-4', display: 'Consult note' });
    assert.equal(d.metadata.category.code, '11');
    assert.match(d.metadata.category.system!, /TRE_A03-ClasseDocument/);
    assert.equal(d.metadata.authors.length, 1);
    assert.deepEqual(d.metadata.authors[0], { kind: 'practitioner', rpps: '99700218896' });
    assert.equal(d.metadata.mimeType, 'application/xml');
    assert.equal(d.metadata.language, 'fr-FR');
    assert.equal(d.metadata.title, 'Compte rendu de consultation');
    assert.equal(d.metadata.creationTime, '2026-06-12T10:00:00+02:00');
    assert.deepEqual(d.metadata.servicePeriod, { start: '2026-06-12T10:00:00+02:00' });
    assert.equal(d.metadata.facilityType?.code, '22232009');
    assert.equal(d.metadata.practiceSetting?.code, '394802001');
    assert.equal(d.metadata.format?.code, 'urn:ihe:iti:xds:2017:mimeTypeSufficient');
    assert.deepEqual(d.metadata.securityLabels.map((l) => l.code), ['N']);
    assert.equal(d.metadata.sourceId, 'urn:oid:1.2.3.4.5.6.7.8');
    assert.ok(d.bytes.equals(expectedBytes));
    assert.match(d.bytes.toString('utf8'), /^<\?xml/);
    assert.equal(d.metadata.declaredSize, expectedBytes.length);
    assert.equal(d.metadata.declaredSha1, sha1(expectedBytes).toString('base64'));
    assert.equal(d.replaces, undefined);
    assert.deepEqual(s.supersedes, []);
  });

  test('TD2.1 replacement parses with the replaced id and the superseding PATCH', () => {
    const s = parseProvideBundle(fhirFixture(REPLACEMENT));
    assert.equal(s.documents.length, 1);
    const [d] = s.documents;
    assert.equal(d.metadata.uniqueId, 'urn:oid:1.2.250.1.213.1.4.8.99999.3');
    assert.deepEqual(d.replaces, { id: 'doc-x-id' });
    assert.deepEqual(s.supersedes, [{ id: 'doc-x-id' }]);
    assert.equal(d.metadata.title, 'Compte rendu de consultation (v2)');
    assert.equal(s.submissionSet.submissionTime, '2026-06-12T11:00:00+02:00');
  });

  test('the PDSm4DMP form with a PUT of the replaced DocumentReference is accepted too', () => {
    const b = replacement();
    b.entry[2] = {
      fullUrl: 'DocumentReference/doc-x-id',
      resource: { resourceType: 'DocumentReference', id: 'doc-x-id', status: 'superseded' },
      request: { method: 'PUT', url: 'DocumentReference/doc-x-id' },
    };
    assert.deepEqual(parseProvideBundle(b).supersedes, [{ id: 'doc-x-id' }]);
  });

  test('ITI-105 simplified publish: a lone DocumentReference with inline data', () => {
    const raw = fhirFixture(SIMPLIFIED);
    // The ANS example has no category: Carnet refuses it (a document without class is outside the
    // habilitation matrix, so nobody but the holder could ever list it)…
    const e = errorOf(() => parseDocumentReference(raw));
    assert.equal(e.code, 'MHD_MISSING_CATEGORY');
    assert.deepEqual(e.expression, ['DocumentReference.category']);
    // …and files it once the class is given.
    raw.category = [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument', code: '11' }] }];
    const r = parseDocumentReference(raw);
    assert.ok(r.bytes?.equals(Buffer.from(raw.content[0].attachment.data, 'base64')));
    assert.equal(r.metadata.uniqueId, 'urn:oid:1.2.250.1.213.1.4.8.99999.1');
    assert.deepEqual(r.patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });
  });

  test('the searchset DocumentReferences (PractitionerRole authors) parse alone', () => {
    const bundle = fhirFixture(SEARCHSET);
    const r = parseDocumentReference(bundle.entry[0].resource);
    assert.equal(r.metadata.authors[0].rpps, '99700218896');
    assert.deepEqual(r.metadata.servicePeriod, { start: '2024-11-20T09:00:00+01:00', end: '2024-11-20T10:00:00+01:00' });
    assert.equal(r.contentUrl, 'Binary/example-annexe-binary-cda');
    assert.equal(r.bytes, undefined);
  });
});

describe('ITI-65 negative cases: code and location', () => {
  test('not a Bundle at all', () => {
    for (const v of [null, 42, 'Bundle', [], { resourceType: 'DocumentReference' }, {}]) {
      const e = errorOf(() => parseProvideBundle(v));
      assert.equal(e.code, 'MHD_NOT_A_BUNDLE');
      assert.deepEqual(e.expression, ['Bundle']);
    }
  });

  test('not a transaction', () => {
    rejects((b) => (b.type = 'collection'), 'MHD_NOT_A_TRANSACTION', 'Bundle.type');
    rejects((b) => delete b.type, 'MHD_NOT_A_TRANSACTION', 'Bundle.type');
  });

  test('wrong profile', () => {
    rejects((b) => (b.meta.profile = ['http://example.org/StructureDefinition/my-bundle']), 'MHD_WRONG_PROFILE', 'Bundle.meta.profile');
    // MHD 3.x used DocumentManifest, not List: not a profile Carnet reads.
    rejects(
      (b) => (b.meta.profile = ['http://ihe.net/fhir/StructureDefinition/IHE_MHD_Provide_Comprehensive_DocumentManifest']),
      'MHD_WRONG_PROFILE',
      'Bundle.meta.profile',
    );
    rejects((b) => (b.meta.profile = [12]), 'MHD_BAD_VALUE', 'Bundle.meta.profile[0]');
  });

  test('absent profile is accepted as unknown; MHD profiles by level, http or https', () => {
    const b = submission();
    delete b.meta;
    assert.equal(parseProvideBundle(b).profile, 'unknown');
    const m = submission();
    m.meta.profile = ['http://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle'];
    assert.equal(parseProvideBundle(m).profile, 'minimal');
    const c = submission();
    c.meta.profile = ['https://example.org/other', 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle|4.2.3'];
    assert.equal(parseProvideBundle(c).profile, 'comprehensive');
  });

  test('bad patient link', () => {
    rejects(
      (b) => (b.entry[0].resource.subject.reference = 'Patient?identifier=123456789012345'),
      'MHD_BAD_PATIENT_LINK',
      'Bundle.entry[0].resource.subject.reference',
    );
    rejects(
      (b) => (b.entry[0].resource.subject.reference = 'Patient?name=DUPONT'),
      'MHD_BAD_PATIENT_LINK',
      'Bundle.entry[0].resource.subject.reference',
    );
    rejects((b) => (b.entry[1].resource.subject = { display: 'someone' }), 'MHD_BAD_PATIENT_LINK', 'Bundle.entry[1].resource.subject');
    rejects((b) => delete b.entry[1].resource.subject, 'MHD_BAD_PATIENT_LINK', 'Bundle.entry[1].resource.subject');
    rejects((b) => (b.entry[1].resource.subject.reference = 'Practitioner/12'), 'MHD_BAD_PATIENT_LINK', 'Bundle.entry[1].resource.subject.reference');
    rejects((b) => (b.entry[1].resource.subject.reference = '#nobody'), 'MHD_BAD_PATIENT_LINK', 'Bundle.entry[1].resource.subject.reference');
  });

  test('documents and List pointing at different patients', () => {
    rejects(
      (b) => (b.entry[1].resource.subject.reference = 'Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|279035121518989'),
      'MHD_PATIENT_MISMATCH',
      'Bundle.entry[1].resource.subject',
    );
    rejects((b) => (b.entry[1].resource.subject = { reference: 'Patient/123' }), 'MHD_PATIENT_MISMATCH', 'Bundle.entry[1].resource.subject');
  });

  test('missing sourceId', () => {
    rejects(
      (b) => (b.entry[0].resource.extension = b.entry[0].resource.extension.filter((x: any) => !x.url.endsWith('ihe-sourceId'))),
      'MHD_MISSING_SOURCE_ID',
      'Bundle.entry[0].resource.extension',
    );
    rejects(
      (b) => (b.entry[0].resource.extension[1].valueIdentifier = { system: 'urn:ietf:rfc:3986' }),
      'MHD_MISSING_SOURCE_ID',
      'Bundle.entry[0].resource.extension[1].valueIdentifier.value',
    );
  });

  test('missing or malformed submission time', () => {
    rejects((b) => delete b.entry[0].resource.date, 'MHD_MISSING_SUBMISSION_TIME', 'Bundle.entry[0].resource.date');
    rejects((b) => (b.entry[0].resource.date = '12/06/2026'), 'MHD_BAD_VALUE', 'Bundle.entry[0].resource.date');
    rejects((b) => (b.entry[0].resource.date = '2026-02-30'), 'MHD_BAD_VALUE', 'Bundle.entry[0].resource.date');
  });

  test('missing MIME type', () => {
    rejects(
      (b) => delete b.entry[1].resource.content[0].attachment.contentType,
      'MHD_MISSING_CONTENT_TYPE',
      'Bundle.entry[1].resource.content[0].attachment.contentType',
    );
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.contentType = 'xml'),
      'MHD_BAD_CONTENT_TYPE',
      'Bundle.entry[1].resource.content[0].attachment.contentType',
    );
    rejects((b) => delete b.entry[2].resource.contentType, 'MHD_MISSING_CONTENT_TYPE', 'Bundle.entry[2].resource.contentType');
  });

  test('bad entryUUID; a good one is kept', () => {
    rejects(
      (b) => (b.entry[1].resource.identifier = [{ use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:not-a-uuid' }]),
      'MHD_BAD_ENTRY_UUID',
      'Bundle.entry[1].resource.identifier[0].value',
    );
    rejects(
      (b) => (b.entry[1].resource.identifier = [{ use: 'official', system: 'urn:ietf:rfc:3986', value: '1.2.3.4' }]),
      'MHD_BAD_ENTRY_UUID',
      'Bundle.entry[1].resource.identifier[0].value',
    );
    rejects(
      (b) => (b.entry[0].resource.identifier = [{ use: 'official', value: 'urn:uuid:1234' }]),
      'MHD_BAD_ENTRY_UUID',
      'Bundle.entry[0].resource.identifier[0].value',
    );
    const b = submission();
    b.entry[1].resource.identifier = [
      { use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:7D5BB8AC-68EE-4926-85E7-B8AAC8E1F09D' },
    ];
    b.entry[0].resource.identifier = [
      { use: 'usual', system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3.99' },
      { use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c287d32-01e3-4d87-9953-9fcc9404eb21' },
    ];
    const s = parseProvideBundle(b);
    assert.equal(s.documents[0].metadata.entryUuid, 'urn:uuid:7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d');
    assert.equal(s.submissionSet.uniqueId, 'urn:oid:1.2.3.99');
    assert.equal(s.submissionSet.uniqueIdAssigned, undefined);
    assert.equal(s.submissionSet.entryUuid, 'urn:uuid:0c287d32-01e3-4d87-9953-9fcc9404eb21');
  });

  test('hash mismatch; hex and base64-of-hex SHA-1 accepted when right', () => {
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.hash = sha1(Buffer.from('other')).toString('base64')),
      'MHD_HASH_MISMATCH',
      'Bundle.entry[1].resource.content[0].attachment.hash',
    );
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.hash = 'bm90IGEgaGFzaA=='),
      'MHD_BAD_VALUE',
      'Bundle.entry[1].resource.content[0].attachment.hash',
    );
    const bytes = Buffer.from(fhirFixture(SUBMISSION).entry[2].resource.data, 'base64');
    const hex = sha1(bytes).toString('hex');
    for (const hash of [hex, b64(hex)]) {
      const b = submission();
      b.entry[1].resource.content[0].attachment.hash = hash;
      assert.equal(parseProvideBundle(b).documents[0].metadata.declaredSha1, sha1(bytes).toString('base64'));
    }
  });

  test('size mismatch', () => {
    const e = rejects(
      (b) => (b.entry[1].resource.content[0].attachment.size = 81),
      'MHD_SIZE_MISMATCH',
      'Bundle.entry[1].resource.content[0].attachment.size',
    );
    assert.deepEqual(e.details, { declared: 81, actual: 80 });
  });

  test('Binary missing, without data, unreferenced, or not base64', () => {
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.url = 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000099'),
      'MHD_BINARY_MISSING',
      'Bundle.entry[1].resource.content[0].attachment.url',
    );
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.url = 'http://example.com/nowhere.txt'),
      'MHD_BINARY_MISSING',
      'Bundle.entry[1].resource.content[0].attachment.url',
    );
    rejects((b) => delete b.entry[2].resource.data, 'MHD_BINARY_MISSING_DATA', 'Bundle.entry[2].resource.data');
    rejects((b) => (b.entry[2].resource.data = 'not base64!'), 'MHD_BAD_VALUE', 'Bundle.entry[2].resource.data');
    rejects(
      (b) =>
        b.entry.push({
          fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000004',
          resource: { resourceType: 'Binary', contentType: 'text/plain', data: b64('stray') },
          request: { method: 'POST', url: 'Binary' },
        }),
      'MHD_UNREFERENCED_BINARY',
      'Bundle.entry[3].resource',
    );
    rejects((b) => delete b.entry[1].resource.content[0].attachment.url, 'MHD_MISSING_CONTENT', 'Bundle.entry[1].resource.content[0].attachment.url');
  });

  test('garbage types: numbers where strings belong, strings where numbers belong', () => {
    rejects((b) => (b.entry[0].resource.date = 20260612), 'MHD_BAD_VALUE', 'Bundle.entry[0].resource.date');
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.contentType = 42),
      'MHD_BAD_VALUE',
      'Bundle.entry[1].resource.content[0].attachment.contentType',
    );
    rejects(
      (b) => (b.entry[1].resource.content[0].attachment.size = '80'),
      'MHD_BAD_VALUE',
      'Bundle.entry[1].resource.content[0].attachment.size',
    );
    rejects((b) => (b.entry[1].resource.masterIdentifier.value = 1.2), 'MHD_BAD_VALUE', 'Bundle.entry[1].resource.masterIdentifier.value');
    rejects((b) => (b.entry[1].resource.category = { coding: [] }), 'MHD_BAD_VALUE', 'Bundle.entry[1].resource.category');
    rejects((b) => (b.entry[1].resource.type.coding[0].code = true), 'MHD_BAD_VALUE', 'Bundle.entry[1].resource.type.coding[0].code');
    rejects((b) => (b.entry = { 0: b.entry[0] }), 'MHD_BAD_VALUE', 'Bundle.entry');
    rejects((b) => (b.entry[1] = 'DocumentReference'), 'MHD_BAD_VALUE', 'Bundle.entry[1]');
    rejects((b) => (b.entry[1].resource.subject.reference = ''), 'MHD_BAD_VALUE', 'Bundle.entry[1].resource.subject.reference');
  });

  test('document metadata Carnet needs', () => {
    rejects((b) => delete b.entry[1].resource.masterIdentifier, 'MHD_MISSING_UNIQUE_ID', 'Bundle.entry[1].resource.masterIdentifier');
    rejects((b) => delete b.entry[1].resource.type, 'MHD_MISSING_TYPE', 'Bundle.entry[1].resource.type');
    rejects((b) => delete b.entry[1].resource.category, 'MHD_MISSING_CATEGORY', 'Bundle.entry[1].resource.category');
    rejects((b) => (b.entry[1].resource.status = 'superseded'), 'MHD_BAD_STATUS', 'Bundle.entry[1].resource.status');
    rejects(
      (b) => {
        delete b.entry[1].resource.content[0].attachment.creation;
        delete b.entry[1].resource.date;
      },
      'MHD_MISSING_CREATION_TIME',
      'Bundle.entry[1].resource.content[0].attachment.creation',
    );
    rejects(
      (b) =>
        (b.entry[1].resource.securityLabel = [
          { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument', code: 'MASQUE_PS' }] },
          { coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument', code: 'INVISIBLE_PATIENT' }] },
        ]),
      'MHD_BAD_SECURITY_LABEL',
      'Bundle.entry[1].resource.securityLabel',
    );
    rejects((b) => (b.entry[1].resource.author = [{ reference: '#ghost' }]), 'MHD_BAD_REFERENCE', 'Bundle.entry[1].resource.author[0].reference');
    rejects(
      (b) => (b.entry[1].resource.context.period = { start: '2026-06-12', end: '2026-06-11' }),
      'MHD_BAD_PERIOD',
      'Bundle.entry[1].resource.context.period',
    );
    rejects(
      (b) => (b.entry[1].resource.modifierExtension = [{ url: 'http://example.org/x', valueBoolean: true }]),
      'MHD_UNSUPPORTED_MODIFIER_EXTENSION',
      'Bundle.entry[1].resource.modifierExtension',
    );
  });

  test('Bundle structure', () => {
    rejects((b) => (b.entry[2].request.method = 'GET'), 'MHD_BAD_REQUEST_METHOD', 'Bundle.entry[2].request.method');
    rejects((b) => delete b.entry[2].request, 'MHD_BAD_REQUEST', 'Bundle.entry[2].request');
    rejects((b) => (b.entry = []), 'MHD_EMPTY_BUNDLE', 'Bundle.entry');
    rejects((b) => b.entry.splice(0, 1), 'MHD_MISSING_SUBMISSION_SET', 'Bundle.entry');
    rejects((b) => b.entry.push({ ...structuredClone(b.entry[0]), fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000005' }), 'MHD_MULTIPLE_SUBMISSION_SETS', 'Bundle.entry[3].resource');
    rejects((b) => (b.entry[2].fullUrl = b.entry[1].fullUrl), 'MHD_DUPLICATE_FULL_URL', 'Bundle.entry[2].fullUrl');
    rejects(
      (b) => b.entry.push({ resource: { resourceType: 'Observation', status: 'final' }, request: { method: 'POST', url: 'Observation' } }),
      'MHD_UNEXPECTED_RESOURCE',
      'Bundle.entry[3].resource.resourceType',
    );
    rejects(
      (b) => (b.entry[0].resource.entry[0].item.reference = 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000077'),
      'MHD_BAD_LIST_ENTRY',
      'Bundle.entry[0].resource.entry[0].item.reference',
    );
    rejects(
      (b) => (b.entry[2].request.url = 'DocumentReference/other-id'),
      'MHD_UNEXPECTED_UPDATE',
      'Bundle.entry[2].request.url',
      replacement,
    );
    rejects(
      (b) => (b.entry[2].resource.parameter[0].part[2].valueCode = 'entered-in-error'),
      'MHD_UNSUPPORTED_UPDATE',
      'Bundle.entry[2].resource.parameter[0]',
      replacement,
    );
  });
});

describe('ITI-65 forms the fixtures do not show', () => {
  test('patient by logical identifier, by literal id, and through a contained Patient', () => {
    const b = submission();
    b.entry[0].resource.subject = { identifier: { system: '1.2.250.1.213.1.4.8', value: '123456789012345' } };
    assert.deepEqual(parseProvideBundle(b).patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });

    const c = submission();
    c.entry[0].resource.subject = { reference: 'Patient/abc-1' };
    c.entry[1].resource.subject = { reference: 'https://carnet.example.org/fhir/Patient/abc-1' };
    assert.deepEqual(parseProvideBundle(c).patient, { kind: 'id', id: 'abc-1' });

    const d = submission();
    d.entry[0].resource.subject = { reference: '#patient-source' };
    assert.deepEqual(parseProvideBundle(d).patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });

    const e = submission();
    e.entry[0].resource.subject = { reference: 'Patient?identifier=urn%3Aoid%3A1.2.250.1.213.1.4.8%7C123456789012345' };
    assert.equal(parseProvideBundle(e).patient.kind, 'identifier');
  });

  test('a Patient entry in the Bundle (MHD minimal) resolves by its INS', () => {
    const b = submission();
    b.entry.push({
      fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000010',
      resource: {
        resourceType: 'Patient',
        identifier: [
          { system: 'http://hospital.example.org/ipp', value: 'IPP-1' },
          { system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' },
        ],
      },
      request: { method: 'POST', url: 'Patient' },
    });
    b.entry[1].resource.subject = { reference: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000010' };
    const s = parseProvideBundle(b);
    assert.deepEqual(s.patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });
    assert.ok(s.warnings.some((w) => w.code === 'MHD_PATIENT_ENTRY_IGNORED'));
  });

  test('authors: PractitionerRole with contained Practitioner and Organization; authorOrg on the List', () => {
    const b = submission();
    const doc = b.entry[1].resource;
    doc.contained = [
      { resourceType: 'Patient', id: 'patient-source', identifier: [{ system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' }] },
      {
        resourceType: 'Practitioner',
        id: 'pr',
        identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810001234567' }],
        name: [{ family: 'Martin', given: ['Anne', 'Marie'] }],
      },
      { resourceType: 'Organization', id: 'org', identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.2', value: '1750000001' }], name: 'CH Test' },
      {
        resourceType: 'PractitionerRole',
        id: 'role',
        practitioner: { reference: '#pr' },
        organization: { reference: '#org' },
        code: [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10' }] }],
        specialty: [{ coding: [{ system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: 'SM54' }] }],
      },
      { resourceType: 'Device', id: 'dev' },
    ];
    doc.author = [{ reference: '#role' }, { reference: '#dev' }, { reference: '#org' }];
    const list = b.entry[0].resource;
    list.contained.push({ resourceType: 'Organization', id: 'o2', identifier: [{ system: 'https://finess.esante.gouv.fr', value: '750000002' }] });
    list.source.extension = [{ url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-authorOrg', valueReference: { reference: '#o2' } }];
    const s = parseProvideBundle(b);
    assert.deepEqual(s.documents[0].metadata.authors, [
      {
        kind: 'practitioner',
        rpps: '10001234567',
        family: 'Martin',
        given: 'Anne Marie',
        professionCode: '10',
        specialty: { system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: 'SM54' },
        organisation: { finess: '750000001', name: 'CH Test' },
      },
      { kind: 'device' },
      { kind: 'organisation', organisation: { finess: '750000001', name: 'CH Test' } },
    ]);
    assert.deepEqual(s.submissionSet.authors, [{ kind: 'practitioner', rpps: '99700218896', organisation: { finess: '750000002' } }]);
  });

  test('relatesTo by identifier, unsupported associations as warnings, folders ignored', () => {
    const b = submission();
    b.entry[1].resource.relatesTo = [
      { code: 'replaces', target: { identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.250.1.213.1.4.8.99999.0' } } },
      { code: 'appends', target: { reference: 'DocumentReference/other' } },
    ];
    b.entry.push({
      fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000020',
      resource: { resourceType: 'List', status: 'current', mode: 'working', code: { coding: [{ code: 'folder' }] } },
      request: { method: 'POST', url: 'List' },
    });
    const s = parseProvideBundle(b);
    assert.deepEqual(s.documents[0].replaces, { identifier: 'urn:oid:1.2.250.1.213.1.4.8.99999.0' });
    const codes = s.warnings.map((w) => w.code);
    assert.ok(codes.includes('PartialAppendContentNotProcessed'));
    assert.ok(codes.includes('PartialFolderContentNotProcessed'));
    rejects(
      (x) =>
        (x.entry[1].resource.relatesTo = [
          { code: 'replaces', target: { reference: 'DocumentReference/a' } },
          { code: 'replaces', target: { reference: 'DocumentReference/b' } },
        ]),
      'MHD_BAD_RELATES_TO',
      'Bundle.entry[1].resource.relatesTo[1]',
    );
  });

  test('several documents, each with its own Binary; duplicate uniqueIds refused', () => {
    const b = submission();
    const content = Buffer.from('%PDF-1.4 second document');
    b.entry.push(
      {
        fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000012',
        resource: {
          ...structuredClone(b.entry[1].resource),
          masterIdentifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.3.4.5.99' },
          content: [{ attachment: { contentType: 'application/pdf', url: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000013', size: content.length, hash: sha1(content).toString('base64'), creation: '2026-06-12' } }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      {
        fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000013',
        resource: { resourceType: 'Binary', contentType: 'application/pdf', data: content.toString('base64') },
        request: { method: 'POST', url: 'Binary' },
      },
    );
    const s = parseProvideBundle(b);
    assert.equal(s.documents.length, 2);
    assert.ok(s.documents[1].bytes.equals(content));
    assert.equal(s.documents[1].metadata.mimeType, 'application/pdf');
    assert.ok(s.warnings.some((w) => w.code === 'MHD_DOCUMENT_NOT_LISTED' && w.expression[0] === 'Bundle.entry[3].resource'));
    b.entry[3].resource.masterIdentifier.value = 'urn:oid:1.2.250.1.213.1.4.8.99999.2';
    const e = errorOf(() => parseProvideBundle(b));
    assert.equal(e.code, 'MHD_DUPLICATE_UNIQUE_ID');
    assert.deepEqual(e.expression, ['Bundle.entry[3].resource.masterIdentifier.value']);
  });

  test('errors become OperationOutcomes with the code and the location', () => {
    const b = submission();
    delete b.entry[1].resource.content[0].attachment.contentType;
    const oo = outcomeFromError(errorOf(() => parseProvideBundle(b)));
    assert.equal(oo.issue[0].code, 'required');
    assert.equal(oo.issue[0].details?.coding?.[0].code, 'MHD_MISSING_CONTENT_TYPE');
    assert.deepEqual(oo.issue[0].expression, ['Bundle.entry[1].resource.content[0].attachment.contentType']);
  });
});

describe('ITI-65 robustness', () => {
  /** Every JSON path of a value, as key lists. */
  function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
    if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
    if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
    return [at];
  }
  function setAt(root: any, path: Array<string | number>, value: unknown) {
    let o = root;
    for (const k of path.slice(0, -1)) o = o[k];
    o[path[path.length - 1]] = value;
  }

  test('any element replaced by any JSON type: a parse or a CarnetError with a location, never a crash', () => {
    for (const fixture of [SUBMISSION, REPLACEMENT]) {
      const original = fhirFixture(fixture);
      const all = paths(original).filter((p) => p.length > 0);
      let rejected = 0;
      for (const p of all)
        for (const value of [7, -1.5, '', 'x', true, null, [], {}, ['x'], { a: 1 }]) {
          const b = structuredClone(original);
          setAt(b, p, value);
          try {
            parseProvideBundle(b);
          } catch (e) {
            assert.ok(e instanceof CarnetError, `${p.join('.')} = ${JSON.stringify(value)}: ${String(e)}`);
            assert.ok(e.expression?.length, `${p.join('.')}: no expression`);
            assert.ok(!e.message.includes('123456789012345'), 'no INS in messages');
            rejected++;
          }
        }
      assert.ok(rejected > all.length, 'most corruptions are refused');
    }
  });
});
