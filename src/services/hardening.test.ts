/**
 * Rules that sit at the edges of the services: who may replace a document, who hears about a
 * minor's record, and that a change request does not confirm a hidden document exists.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { fileDocuments } from './fileDocuments.ts';
import { setMasked } from './manageDocuments.ts';
import { addPerson } from './persons.ts';
import { holderOf, newRecord, notificationsOf, OPERATOR, professional, rejectsWith, syntheticDocument, freshIns } from './testkit.ts';

let c: TestCarnet;
before(async () => {
  c = await openTestCarnet();
});
after(() => c.cleanup());

test('§4 a document is replaced by its author or the author’s organisation, not by another professional', async () => {
  const r = await newRecord(c);
  const author = professional('10000000411', { organisation: '750712184' });
  const first = await fileDocuments(c.ctx, author, { patient: { recordId: r.recordId }, documents: [syntheticDocument(c, { author: { rpps: author.id, finess: '750712184' } })] });
  const other = professional('10000000429', { organisation: '330781196' });
  const v2 = syntheticDocument(c, { author: { rpps: other.id }, text: 'v2 by someone else' });
  await rejectsWith(
    fileDocuments(c.ctx, other, { patient: { recordId: r.recordId }, documents: [{ ...v2, replaces: { id: first.documents[0].id } }] }),
    'NOT_AUTHOR', 'forbidden',
  );
  const colleague = professional('10000000437', { organisation: '750712184' });
  const v3 = syntheticDocument(c, { author: { rpps: colleague.id, finess: '750712184' }, text: 'v2 by a colleague' });
  const replaced = await fileDocuments(c.ctx, colleague, { patient: { recordId: r.recordId }, documents: [{ ...v3, replaces: { id: first.documents[0].id } }] });
  assert.deepEqual(replaced.superseded, [first.documents[0].id]);
});

test('§3 the legal representatives of a minor are told what the holder is told', async () => {
  const r = await newRecord(c, { minor: true });
  const repIns = freshIns();
  await addPerson(c.ctx, OPERATOR, r.recordId, { kind: 'legal_representative', ins: repIns, insOid: '1.2.250.1.213.1.4.10', name: 'Parent Un' });
  const author = professional('10000000445');
  await fileDocuments(c.ctx, author, { patient: { recordId: r.recordId }, documents: [syntheticDocument(c, { author: { rpps: author.id } })] });
  const news = await notificationsOf(c, r.recordId, 'new_document');
  assert.deepEqual(news.map((n) => n.recipient_kind).sort(), ['holder', 'legal_representative']);
  assert.equal(news.find((n) => n.recipient_kind === 'legal_representative')?.recipient_id, repIns);
});

test('§1 the operator registers a minor’s representatives, never an adult’s caregivers', async () => {
  const r = await newRecord(c);
  await rejectsWith(
    addPerson(c.ctx, OPERATOR, r.recordId, { kind: 'caregiver', ins: freshIns(), insOid: '1.2.250.1.213.1.4.10', name: 'Aidant' }),
    'DENY_NOT_HOLDER', 'forbidden',
  );
});

test('§5.7 masking a document the holder may not see yet answers "no such document"', async () => {
  const r = await newRecord(c);
  const author = professional('10000000453');
  const filed = await fileDocuments(c.ctx, author, {
    patient: { recordId: r.recordId }, documents: [syntheticDocument(c, { author: { rpps: author.id }, flags: ['INVISIBLE_PATIENT'] })],
  });
  await rejectsWith(setMasked(c.ctx, holderOf(r.recordId), filed.documents[0].id, true), 'DOCUMENT_UNKNOWN', 'not_found');
});
