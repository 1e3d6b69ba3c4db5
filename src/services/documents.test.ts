/**
 * Issue "record store", DOMAIN §2 and §4: filing real CDA documents and what the record refuses —
 * round trip, replacement, empty / identical / reused-uniqueId submissions, unqualified INS, a
 * record not open, atomic submissions, logical deletion by the author side only, archive, a CDA
 * header that disagrees with its metadata, and the fixtures whose INS key is wrong.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { verifyAudit } from '../audit/audit.ts';
import { fileDocuments, type FileDocumentInput } from './fileDocuments.ts';
import { listDocuments, readDocument } from './readDocuments.ts';
import { archiveDocument, deleteDocument } from './manageDocuments.ts';
import {
  auditOf, cdaDocument, countRows, FIXTURE_INS, holderOf, LAB_FINESS, labAuthor, newRecord, notificationsOf, professional,
  rejectsWith, syntheticDocument, TEST_OID,
} from './testkit.ts';

let c: TestCarnet;
/** The record of the fixtures' test identity: every real CDA is filed here. */
let recordId: string;
const LAB = labAuthor();
const COLLEAGUE = professional('10000000066', { organisation: LAB_FINESS, name: 'Biologiste collègue' });
const OTHER_DOCTOR = professional('10000000041', { organisation: '750712184' });

before(async () => {
  c = await openTestCarnet();
  recordId = (await newRecord(c, { ins: FIXTURE_INS })).recordId;
});
after(() => c.cleanup());

const file = (docs: FileDocumentInput[], actor = LAB, patient: { recordId: string } | { ins: string; oid?: string } = { recordId }) =>
  fileDocuments(c.ctx, actor, { patient, documents: docs });

/** Everything of the record that a refused submission must leave as it was. */
async function snapshot(id = recordId) {
  return {
    documents: await countRows(c, 'documents', id),
    blobs: await countRows(c, 'blobs', id),
    submissions: await countRows(c, 'submission_sets', id),
    notifications: await countRows(c, 'notifications', id),
    audit: await auditOf(c, id),
  };
}

/** A refused submission changed nothing but one `document.file` failure entry with its reason. */
async function assertNothingFiled(before: Awaited<ReturnType<typeof snapshot>>, reason: string, id = recordId) {
  const now = await snapshot(id);
  assert.equal(now.documents, before.documents);
  assert.equal(now.blobs, before.blobs);
  assert.equal(now.submissions, before.submissions);
  assert.equal(now.notifications, before.notifications);
  assert.deepEqual(now.audit.slice(0, before.audit.length), before.audit, 'earlier audit entries untouched');
  const added = now.audit.slice(before.audit.length);
  assert.equal(added.length, 1);
  assert.equal(added[0].action, 'document.file');
  assert.equal(added[0].outcome, 'failure');
  assert.equal(added[0].reason, reason);
}

test('a real CDA round-trips: metadata and bytes come back identical', async () => {
  const { bytes, metadata } = cdaDocument('BIO-CR-BIO_2024.01_TSH_1.xml');
  const r = await file([{ metadata, bytes }], LAB, { ins: FIXTURE_INS, oid: TEST_OID });
  assert.equal(r.recordId, recordId);
  assert.equal(r.documents.length, 1);
  const stored = r.documents[0];

  const read = await readDocument(c.ctx, holderOf(recordId), stored.id);
  assert.ok(read.bytes.equals(bytes), 'bytes are byte-identical');
  const doc = read.document;
  for (const k of ['uniqueId', 'type', 'category', 'authors', 'title', 'mimeType', 'language', 'securityLabels'] as const) {
    assert.deepEqual(doc[k], metadata[k], `metadata field ${k}`);
  }
  assert.equal(doc.creationTime, metadata.creationTime);
  assert.equal(doc.status, 'current');
  assert.equal(doc.size, bytes.length);
  assert.equal(doc.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(doc.sha1, createHash('sha1').update(bytes).digest('base64'));
  assert.deepEqual(doc.filedBy, { kind: 'professional', id: LAB.id, organisation: LAB_FINESS });
  assert.equal(doc.submissionSetId, r.submissionSetId);

  const filedEntry = await auditOf(c, recordId, { action: 'document.file', documentId: stored.id });
  assert.equal(filedEntry.length, 1);
  assert.equal(filedEntry[0].outcome, 'success');
  const notices = await notificationsOf(c, recordId, 'new_document');
  assert.ok(notices.some((n) => n.payload.documentId === stored.id));
});

test('replacement: the new version is current, the old one superseded; identical or stale replacements are refused', async () => {
  const v1 = await file([cdaDocument('BIO-CR-BIO_2024.01_Glycémie mole.xml')]);
  const old = v1.documents[0];
  const v2doc = cdaDocument('BIO-CR-BIO_2024.01_Electrophorese.xml');

  // identical bytes as a "new version" are refused
  const before = await snapshot();
  await rejectsWith(file([{ ...cdaDocument('BIO-CR-BIO_2024.01_Glycémie mole.xml', { uniqueId: '1.2.250.1.999.77.1' }), replaces: { id: old.id } }]), 'DOCUMENT_IDENTICAL', 'conflict');
  await assertNothingFiled(before, 'DOCUMENT_IDENTICAL');

  const v2 = await file([{ ...v2doc, replaces: { uniqueId: old.uniqueId } }]);
  assert.deepEqual(v2.superseded, [old.id]);
  assert.equal(v2.documents[0].replacesId, old.id);
  const oldRow = await c.ctx.db.selectFrom('documents').select('status').where('id', '=', old.id).executeTakeFirstOrThrow();
  assert.equal(oldRow.status, 'superseded');
  assert.equal((await auditOf(c, recordId, { action: 'document.replace', documentId: v2.documents[0].id })).length, 1);

  const holder = holderOf(recordId);
  const current = (await listDocuments(c.ctx, holder, recordId)).map((d) => d.document.id);
  assert.ok(current.includes(v2.documents[0].id));
  assert.equal(current.includes(old.id), false, 'a superseded version is not in the default list');
  const superseded = (await listDocuments(c.ctx, holder, recordId, { statuses: ['superseded'] })).map((d) => d.document.id);
  assert.deepEqual(superseded, [old.id]);
  // the old version stays readable as history
  assert.equal((await readDocument(c.ctx, holder, old.id)).document.status, 'superseded');

  // replacing the superseded version again is refused
  await rejectsWith(
    file([{ ...syntheticDocument(c, { author: { rpps: LAB.id, finess: LAB_FINESS } }), replaces: { id: old.id } }]),
    'REPLACED_DOCUMENT_NOT_CURRENT', 'conflict',
  );
});

test('an empty document, an identical re-submission and a reused uniqueId are refused, with nothing filed', async () => {
  const first = await file([cdaDocument('BIO-CR-BIO_2024.01_CRP_non_LOINC.xml')]);
  const { metadata } = cdaDocument('BIO-CR-BIO_2024.01_CRP_non_LOINC.xml');

  let before = await snapshot();
  const e = await rejectsWith(file([{ metadata: { ...metadata, uniqueId: '1.2.250.1.999.1.1' }, bytes: Buffer.alloc(0) }]), 'DOCUMENT_EMPTY', 'invalid');
  assert.deepEqual(e.expression, ['documents[0]']);
  await assertNothingFiled(before, 'DOCUMENT_EMPTY');

  before = await snapshot();
  // same bytes, announced as a new document
  await rejectsWith(file([cdaDocument('BIO-CR-BIO_2024.01_CRP_non_LOINC.xml', { uniqueId: '1.2.250.1.999.1.2' })]), 'DOCUMENT_IDENTICAL', 'conflict');
  await assertNothingFiled(before, 'DOCUMENT_IDENTICAL');

  before = await snapshot();
  // other bytes under a uniqueId already used
  await rejectsWith(file([cdaDocument('BIO-CR-BIO_2024.01_TSH_2.xml', { uniqueId: first.documents[0].uniqueId })]), 'DOCUMENT_DUPLICATE_UNIQUE_ID', 'conflict');
  await assertNothingFiled(before, 'DOCUMENT_DUPLICATE_UNIQUE_ID');
});

test('nothing is filed without a qualified INS, nor into a record that is not open', async () => {
  const unqualified = await newRecord(c, { identityStatus: 'validee' });
  let before = await snapshot(unqualified.recordId);
  const e = await rejectsWith(file([syntheticDocument(c, { author: { rpps: LAB.id } })], LAB, { recordId: unqualified.recordId }), 'INS_NOT_QUALIFIED', 'invalid');
  assert.equal(e.details?.identityStatus, 'validee');
  await assertNothingFiled(before, 'INS_NOT_QUALIFIED', unqualified.recordId);

  const pending = await newRecord(c, { activateNow: false });
  before = await snapshot(pending.recordId);
  await rejectsWith(file([syntheticDocument(c, { author: { rpps: LAB.id } })], LAB, { recordId: pending.recordId }), 'DENY_RECORD_STATE', 'conflict');
  await assertNothingFiled(before, 'DENY_RECORD_STATE', pending.recordId);
});

test('a submission is atomic: a bad second document files nothing of the first', async () => {
  const good = cdaDocument('BIO-CR-BIO_2021.01_Microbiologie_V1.xml');
  const cases: [FileDocumentInput, string][] = [
    [{ ...syntheticDocument(c), bytes: Buffer.alloc(0) }, 'DOCUMENT_EMPTY'],
    [cdaDocument('OBP-SAP_2024.01.xml'), 'CDA_PATIENT_MISMATCH'],
    [{ ...syntheticDocument(c), metadata: { ...syntheticDocument(c).metadata, uniqueId: good.metadata.uniqueId } }, 'DOCUMENT_DUPLICATE_IN_SUBMISSION'],
    [{ ...syntheticDocument(c), replaces: { id: 'no-such-document' } }, 'REPLACED_DOCUMENT_UNKNOWN'],
  ];
  for (const [bad, reason] of cases) {
    const before = await snapshot();
    await rejectsWith(file([good, bad]), reason);
    await assertNothingFiled(before, reason);
  }
  const chain = await verifyAudit(c.ctx.db, { recordId });
  assert.equal(chain.ok, true, 'the failure entries extend the chain properly');
  // and the good document alone files fine afterwards
  assert.equal((await file([good])).documents.length, 1);
});

test('logical deletion: only the author or its organisation; another professional gets NOT_AUTHOR', async () => {
  const d = (await file([cdaDocument('BIO-CR-BIO_2021.01_CR-2nde-intention.xml')])).documents[0];
  const holder = holderOf(recordId);

  await rejectsWith(deleteDocument(c.ctx, OTHER_DOCTOR, d.id), 'NOT_AUTHOR', 'forbidden');
  await rejectsWith(deleteDocument(c.ctx, holder, d.id), 'NOT_AUTHOR', 'forbidden');
  // a professional of another organisation that happens to share nothing with the author
  await rejectsWith(deleteDocument(c.ctx, professional('10000000074', { organisation: '330781196' }), d.id), 'NOT_AUTHOR');
  const denied = await auditOf(c, recordId, { action: 'document.delete', documentId: d.id });
  assert.deepEqual(denied.map((a) => [a.actor_id, a.outcome, a.reason]), [
    [OTHER_DOCTOR.id, 'deny', 'NOT_AUTHOR'], [recordId, 'deny', 'NOT_AUTHOR'], ['10000000074', 'deny', 'NOT_AUTHOR'],
  ]);
  assert.equal((await readDocument(c.ctx, holder, d.id)).document.status, 'current');

  // a colleague of the author's laboratory may delete it
  const deleted = await deleteDocument(c.ctx, COLLEAGUE, d.id);
  assert.equal(deleted.status, 'entered-in-error');
  await rejectsWith(readDocument(c.ctx, holder, d.id), 'DOCUMENT_DELETED', 'gone');
  assert.equal((await listDocuments(c.ctx, holder, recordId)).some((x) => x.document.id === d.id), false);
  await rejectsWith(deleteDocument(c.ctx, LAB, d.id), 'DOCUMENT_DELETED', 'gone');

  // and the author themself deletes their own
  const mine = (await file([syntheticDocument(c, { author: { rpps: LAB.id, finess: LAB_FINESS } })])).documents[0];
  assert.equal((await deleteDocument(c.ctx, LAB, mine.id)).status, 'entered-in-error');
});

test('archive hides a document from the default views only', async () => {
  const d = (await file([syntheticDocument(c, { author: { rpps: LAB.id, finess: LAB_FINESS } })])).documents[0];
  const holder = holderOf(recordId);
  await rejectsWith(archiveDocument(c.ctx, OTHER_DOCTOR, d.id), 'NOT_AUTHOR', 'forbidden');
  const archived = await archiveDocument(c.ctx, holder, d.id);
  assert.equal(archived.archived, true);
  assert.equal((await listDocuments(c.ctx, holder, recordId)).some((x) => x.document.id === d.id), false);
  assert.ok((await listDocuments(c.ctx, holder, recordId, { includeArchived: true })).some((x) => x.document.id === d.id));
  assert.equal((await readDocument(c.ctx, holder, d.id)).document.archived, true);
  await archiveDocument(c.ctx, holder, d.id, false);
  assert.ok((await listDocuments(c.ctx, holder, recordId)).some((x) => x.document.id === d.id));
});

test('a CDA whose header disagrees with its metadata is refused with the field named', async () => {
  const cases: [FileDocumentInput, string, string][] = [
    // another patient's document (the OBP fixtures belong to INS 277076322082910)
    [cdaDocument('OBP-SAP_2024.01.xml'), 'CDA_PATIENT_MISMATCH', 'recordTarget'],
    // a lab report announced as a discharge summary
    [cdaDocument('BIO-CR-BIO_2024.01_Microbiologie_V1.xml', { type: { system: 'http://loinc.org', code: '34133-9' } }), 'CDA_TYPE_MISMATCH', 'type'],
    // an author in the metadata who did not write the CDA
    [cdaDocument('BIO-CR-BIO_2024.01_Microbiologie_V1.xml', { authors: [{ kind: 'practitioner', rpps: '10000000041' }] }), 'CDA_AUTHOR_MISMATCH', 'author'],
  ];
  for (const [doc, code, field] of cases) {
    const before = await snapshot();
    const e = await rejectsWith(file([doc]), code, 'invalid');
    assert.deepEqual(e.expression, ['documents[0]', field]);
    await assertNothingFiled(before, code);
  }
  // no patient data in the message (it may be logged)
  const e = await rejectsWith(file([cdaDocument('OBP-SAP_2024.01.xml')]), 'CDA_PATIENT_MISMATCH');
  assert.equal(e.message.includes('277076322082910'), false);
});

test('the fixtures whose INS key is wrong are refused with INS_KEY, and nothing is filed', async () => {
  const wrongKey = ['CSE-CS24_2024.01.xml', 'CSE-CS24_2025.01.xml', 'CSE-CS8_2025.01.xml', 'CSE-CS9_2024.01.xml', 'CSE-MDE_2023.01.xml', 'OBP-SNE_2024.01.xml'];
  for (const name of wrongKey) {
    const doc = cdaDocument(name);
    const before = await snapshot();
    const e = await rejectsWith(file([doc]), 'INS_KEY', 'invalid');
    assert.deepEqual(e.expression, ['documents[0]', 'recordTarget'], name);
    await assertNothingFiled(before, 'INS_KEY');
  }
  // addressed by the wrong INS itself, the request fails on the INS before any record is looked up
  await rejectsWith(file([cdaDocument('CSE-MDE_2023.01.xml')], LAB, { ins: '222127505611201' }), 'INS_KEY', 'invalid');
});
