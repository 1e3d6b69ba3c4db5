/// <reference types="fhir" />
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { StoredDocument } from '../../domain/document.ts';
import { parseDocumentReference, parseProvideBundle, type ProvidedDocument } from './iti65.ts';
import { toDocumentReference, toSearchsetBundle, toSubmissionSetList, type SubmissionSetView } from './docref.ts';
import { fhirFixture, REPLACEMENT, SUBMISSION } from './test-fixtures.ts';
import { PDSM_IS_ARCHIVED_EXT, PDSM_PROFILES, VISIBILITY_SYSTEM } from './constants.ts';

const A07 = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';

/** What the filing service would store for a parsed document (computed, not copied from the parse). */
function store(d: ProvidedDocument, extra: Partial<StoredDocument> = {}): StoredDocument {
  return {
    ...d.metadata,
    id: 'f3c1e0de-2b7a-4c55-9a1e-0d6f1b2c3d4e',
    recordId: 'rec-1',
    status: 'current',
    archived: false,
    size: d.bytes.length,
    sha256: createHash('sha256').update(d.bytes).digest('hex'),
    sha1: createHash('sha1').update(d.bytes).digest('base64'),
    submittedAt: '2026-06-12T08:00:01Z',
    filedBy: { kind: 'professional', id: '99700218896' },
    ...extra,
  };
}

const ctx = {
  baseUrl: 'https://carnet.example.org/fhir/',
  patient: { ins: '123456789012345', oid: '1.2.250.1.213.1.4.8' },
  id: 'f3c1e0de-2b7a-4c55-9a1e-0d6f1b2c3d4e',
};

describe('round trip: ITI-65 bundle → StoredDocument → DocumentReference', () => {
  test('identifiers, codes, securityLabel, attachment', () => {
    const raw = fhirFixture(SUBMISSION);
    const bytes = Buffer.from(raw.entry[2].resource.data, 'base64');
    const [d] = parseProvideBundle(raw).documents;
    const doc = store(d, {
      securityLabels: [...d.metadata.securityLabels, { code: 'MASQUE_PS' }],
      entryUuid: 'urn:uuid:7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d',
    });
    const fr = toDocumentReference(doc, ctx);

    assert.equal(fr.resourceType, 'DocumentReference');
    assert.equal(fr.id, ctx.id);
    assert.deepEqual(fr.meta?.profile, [PDSM_PROFILES.documentReference]);
    assert.deepEqual(fr.masterIdentifier, { system: 'urn:ietf:rfc:3986', value: raw.entry[1].resource.masterIdentifier.value });
    assert.deepEqual(fr.identifier, [{ use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d' }]);
    assert.equal(fr.status, 'current');
    assert.deepEqual(fr.type, raw.entry[1].resource.type);
    assert.deepEqual(fr.category, raw.entry[1].resource.category);
    assert.equal(fr.subject?.reference, 'Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|123456789012345');
    assert.equal(fr.date, '2026-06-12T08:00:01Z');

    assert.equal(VISIBILITY_SYSTEM, A07);
    assert.deepEqual(fr.securityLabel, [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N', display: 'normal' }] },
      { coding: [{ system: A07, code: 'MASQUE_PS' }] },
    ]);

    const att = fr.content[0].attachment;
    assert.equal(att.url, `https://carnet.example.org/fhir/Binary/${doc.id}`);
    assert.equal(att.size, bytes.length);
    assert.equal(att.hash, createHash('sha1').update(bytes).digest('base64'));
    assert.equal(att.hash, raw.entry[1].resource.content[0].attachment.hash);
    assert.equal(att.contentType, 'application/xml');
    assert.equal(att.language, 'fr-FR');
    assert.equal(att.creation, '2026-06-12T10:00:00+02:00');
    assert.equal(att.title, 'Compte rendu de consultation');
    assert.deepEqual(fr.content[0].format, raw.entry[1].resource.content[0].format);
    assert.deepEqual(fr.context?.period, { start: '2026-06-12T10:00:00+02:00' });
    assert.equal(fr.context?.sourcePatientInfo?.reference, '#patient-source');
    assert.equal(fr.extension, undefined);
    assert.equal(fr.relatesTo, undefined);

    // The author: a contained PractitionerRole pointing at a Practitioner with idNat_PS = 8 + RPPS.
    const role = fr.contained?.find((r) => `#${r.id}` === fr.author?.[0].reference);
    assert.equal(role?.resourceType, 'PractitionerRole');
    const pract = fr.contained?.find((r) => `#${r.id}` === (role as fhir4.PractitionerRole).practitioner?.reference) as fhir4.Practitioner;
    assert.deepEqual(pract.identifier, [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '899700218896' }]);
  });

  test('what Carnet writes, Carnet reads back the same', () => {
    const [d] = parseProvideBundle(fhirFixture(SUBMISSION)).documents;
    const rich = store(d, {
      authors: [
        {
          kind: 'practitioner',
          rpps: '10001234567',
          given: 'Anne Marie',
          family: 'Martin',
          professionCode: '10',
          specialty: { system: 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale', code: 'SM54' },
          organisation: { finess: '750000001', name: 'CH Test' },
        },
        { kind: 'organisation', organisation: { finess: '2A0000123' } },
      ],
      events: [{ system: 'https://smt.esante.gouv.fr/terminologie-ccam', code: 'DEQP003' }],
      servicePeriod: { start: '2026-06-10T08:00:00+02:00', end: '2026-06-11T18:00:00+02:00' },
      comments: 'commentaire',
      referenceIds: [{ system: 'urn:oid:1.2.3', value: 'ORDER-7', type: 'urn:ihe:iti:xds:2013:order' }],
      securityLabels: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }, { system: A07, code: 'INVISIBLE_PATIENT' }],
    });
    const back = parseDocumentReference(toDocumentReference(rich, ctx));
    assert.deepEqual(back.patient, { kind: 'identifier', system: 'urn:oid:1.2.250.1.213.1.4.8', value: '123456789012345' });
    const m = back.metadata;
    assert.equal(m.uniqueId, rich.uniqueId);
    assert.equal(m.entryUuid, `urn:uuid:${rich.id}`);
    assert.deepEqual(m.type, rich.type);
    assert.deepEqual(m.category, rich.category);
    assert.deepEqual(m.authors, rich.authors);
    assert.deepEqual(m.events, rich.events);
    assert.deepEqual(m.servicePeriod, rich.servicePeriod);
    assert.deepEqual(m.facilityType, rich.facilityType);
    assert.deepEqual(m.practiceSetting, rich.practiceSetting);
    assert.deepEqual(m.format, rich.format);
    assert.equal(m.mimeType, rich.mimeType);
    assert.equal(m.creationTime, rich.creationTime);
    assert.equal(m.comments, 'commentaire');
    assert.deepEqual(m.referenceIds, rich.referenceIds);
    assert.deepEqual(m.securityLabels.map((l) => l.code), ['N', 'INVISIBLE_PATIENT']);
    assert.equal(back.contentUrl, `https://carnet.example.org/fhir/Binary/${rich.id}`);
  });

  test('replacement, superseded status and archive flag', () => {
    const [d] = parseProvideBundle(fhirFixture(REPLACEMENT)).documents;
    const doc = store(d, { replacesId: d.replaces?.id, status: 'superseded', archived: true });
    const fr = toDocumentReference(doc, ctx);
    assert.deepEqual(fr.relatesTo, [{ code: 'replaces', target: { reference: 'DocumentReference/doc-x-id' } }]);
    assert.equal(fr.status, 'superseded');
    assert.deepEqual(fr.extension, [{ url: PDSM_IS_ARCHIVED_EXT, valueBoolean: true }]);
    // no confidentiality stored → N is written, as PDSm prescribes
    const bare = toDocumentReference(store(d, { securityLabels: [] }), ctx);
    assert.equal(bare.securityLabel?.[0].coding?.[0].code, 'N');
  });
});

describe('SubmissionSet List and searchset Bundle', () => {
  test('toSubmissionSetList carries the MHD extensions, identifiers and entries', () => {
    const s = parseProvideBundle(fhirFixture(SUBMISSION));
    const view: SubmissionSetView = {
      id: 'set-1',
      uniqueId: s.submissionSet.uniqueId,
      sourceId: s.submissionSet.sourceId,
      submissionTime: s.submissionSet.submissionTime,
      authors: [...s.submissionSet.authors, { kind: 'organisation', organisation: { finess: '750000001' } }],
      contentType: s.submissionSet.contentType,
      documentIds: ['doc-1', 'doc-2'],
    };
    const list = toSubmissionSetList(view, { ...ctx, id: 'set-1' });
    assert.equal(list.code?.coding?.[0].code, 'submissionset');
    assert.equal(list.mode, 'working');
    assert.equal(list.date, '2026-06-12T10:00:00+02:00');
    assert.deepEqual(list.identifier, [{ use: 'usual', system: 'urn:ietf:rfc:3986', value: s.submissionSet.uniqueId }]);
    const sourceId = list.extension?.find((e) => e.url.endsWith('/ihe-sourceId'));
    assert.equal(sourceId?.valueIdentifier?.value, 'urn:oid:1.2.3.4.5.6.7.8');
    assert.equal(list.extension?.find((e) => e.url.endsWith('/ihe-designationType'))?.valueCodeableConcept?.coding?.[0].code, '11');
    assert.deepEqual(list.entry?.map((e) => e.item.reference), ['DocumentReference/doc-1', 'DocumentReference/doc-2']);
    const org = list.source?.extension?.find((e) => e.url.endsWith('/ihe-authorOrg'));
    assert.ok(org?.valueReference?.reference?.startsWith('#'));
    // and it reads back as a SubmissionSet
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:11111111-0000-0000-0000-000000000001', resource: { ...list, entry: [{ item: { reference: 'urn:uuid:11111111-0000-0000-0000-000000000002' } }] }, request: { method: 'POST', url: 'List' } },
        { fullUrl: 'urn:uuid:11111111-0000-0000-0000-000000000002', resource: fhirFixture(SUBMISSION).entry[1].resource, request: { method: 'POST', url: 'DocumentReference' } },
        { fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000003', resource: fhirFixture(SUBMISSION).entry[2].resource, request: { method: 'POST', url: 'Binary' } },
      ],
    };
    const again = parseProvideBundle(bundle);
    assert.equal(again.submissionSet.uniqueId, s.submissionSet.uniqueId);
    assert.deepEqual(again.submissionSet.authors, [{ kind: 'practitioner', rpps: '99700218896', organisation: { finess: '750000001' } }]);
  });

  test('toSearchsetBundle: fullUrls from the base, links, total, outcome', () => {
    const [d] = parseProvideBundle(fhirFixture(SUBMISSION)).documents;
    const fr = toDocumentReference(store(d), ctx);
    const b = toSearchsetBundle([fr], {
      self: 'https://carnet.example.org/fhir/DocumentReference?patient.identifier=x&_count=1',
      next: 'https://carnet.example.org/fhir/DocumentReference?patient.identifier=x&_count=1&_offset=1',
      total: 3,
      outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] },
    });
    assert.equal(b.type, 'searchset');
    assert.equal(b.total, 3);
    assert.deepEqual(b.link?.map((l) => l.relation), ['self', 'next']);
    assert.equal(b.entry?.[0].fullUrl, `https://carnet.example.org/fhir/DocumentReference/${ctx.id}`);
    assert.equal(b.entry?.[0].search?.mode, 'match');
    assert.equal(b.entry?.[1].search?.mode, 'outcome');
  });
});
