/**
 * DOMAIN §5.4: a professional with no right on a record learns it as a refusal, whether or not the
 * record holds documents — an empty list would tell them it is empty. The author of a document
 * still reads it back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { listDocuments } from './readDocuments.ts';
import { fileDocuments } from './fileDocuments.ts';
import { newRecord, professional, rejectsWith, syntheticDocument, auditOf } from './testkit.ts';

let c: TestCarnet;
before(async () => {
  c = await openTestCarnet();
});
after(() => c.cleanup());

test('§5.4 an unauthorized professional is refused on an empty record, as on a full one', async () => {
  const empty = await newRecord(c);
  const full = await newRecord(c);
  const author = professional('10000000101');
  await fileDocuments(c.ctx, author, { patient: { recordId: full.recordId }, documents: [syntheticDocument(c, { author: { rpps: author.id } })] });
  const stranger = professional('10000000202');
  const e1 = await rejectsWith(listDocuments(c.ctx, stranger, empty.recordId), 'DENY_NO_AUTHORIZATION', 'forbidden');
  const e2 = await rejectsWith(listDocuments(c.ctx, stranger, full.recordId), 'DENY_NO_AUTHORIZATION', 'forbidden');
  assert.equal(e1.kind, e2.kind);
  const entries = await auditOf(c, empty.recordId, { action: 'document.list' });
  assert.equal(entries.at(-1)?.outcome, 'deny');
  assert.equal(entries.at(-1)?.reason, 'DENY_NO_AUTHORIZATION');
});

test('§5.4 the author of a document lists it without a record-level authorization', async () => {
  const r = await newRecord(c);
  const author = professional('10000000303');
  await fileDocuments(c.ctx, author, { patient: { recordId: r.recordId }, documents: [syntheticDocument(c, { author: { rpps: author.id } })] });
  const listed = await listDocuments(c.ctx, author, r.recordId);
  assert.equal(listed.length, 1);
  assert.equal(listed[0].decision.reason, 'ALLOW_AUTHOR');
});
