/**
 * Issue "record store", DOMAIN §3: the record lifecycle through the services and the daily job,
 * on the settable clock — the 6-week opposition window, opposition with the one-time code and a
 * signed proof, 10-year archive then deletion, reopening, suspension, and typed refusals of
 * illegal transitions.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { openTestCarnet, DAY, type TestCarnet } from '../store/testing.ts';
import { loadOrCreateSigningKey } from '../auth/signing-keys.ts';
import { fileDocuments } from './fileDocuments.ts';
import { readDocument } from './readDocuments.ts';
import { grantConsent } from './rights.ts';
import {
  closeRecord, liftSuspension, opposeRecord, reopenRecord, requestDeletion, runDailyJobs, suspendRecord, activateRecord,
} from './recordLifecycle.ts';
import { lifecycleOf, recordById } from './internal/repo.ts';
import {
  auditOf, holderOf, labAuthor, newRecord, notificationsOf, OPERATOR, professional, rejectsWith, syntheticDocument, TEST_OID,
} from './testkit.ts';

let c: TestCarnet;
const T0 = new Date('2026-03-01T09:00:00Z');
const GP = professional('10000000017');

before(async () => {
  c = await openTestCarnet({ now: T0 });
});
after(() => c.cleanup());

const stateOf = async (recordId: string) => (await recordById(c.ctx, recordId)).state;
const fileOne = (recordId: string) =>
  fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: [syntheticDocument(c, { author: { rpps: '01234534765', finess: '120459876' } })] });

test('opposition window: pending on day 41 (filing refused), active on day 43 after the daily job', async () => {
  c.setNow(T0);
  const r = await newRecord(c, { activateNow: false });
  assert.equal(r.state, 'pending');
  assert.equal((await notificationsOf(c, r.recordId, 'opening_notice')).length, 1);

  c.setNow(new Date(T0.getTime() + 41 * DAY));
  const day41 = await runDailyJobs(c.ctx);
  assert.equal(day41.applied.some((a) => a.recordId === r.recordId), false);
  assert.equal(await stateOf(r.recordId), 'pending');
  const e = await rejectsWith(fileOne(r.recordId), 'DENY_RECORD_STATE', 'conflict');
  assert.deepEqual(e.expression, ['documents[0]']);
  assert.equal(await c.ctx.db.selectFrom('documents').select('id').where('record_id', '=', r.recordId).executeTakeFirst(), undefined);
  const refusal = await auditOf(c, r.recordId, { action: 'document.file' });
  assert.equal(refusal.length, 1);
  assert.equal(refusal[0].outcome, 'failure');
  assert.equal(refusal[0].reason, 'DENY_RECORD_STATE');

  c.setNow(new Date(T0.getTime() + 43 * DAY));
  const day43 = await runDailyJobs(c.ctx);
  assert.deepEqual(day43.applied.filter((a) => a.recordId === r.recordId), [{ recordId: r.recordId, event: 'activate' }]);
  assert.equal(await stateOf(r.recordId), 'active');
  assert.equal((await notificationsOf(c, r.recordId, 'record_opened')).length, 1);
  const filed = await fileOne(r.recordId);
  assert.equal(filed.documents.length, 1);
  // the job is idempotent: running it again the same day changes nothing
  const again = await runDailyJobs(c.ctx);
  assert.equal(again.applied.some((a) => a.recordId === r.recordId), false);
});

test('opposition with the activation code: a wrong code is refused and audited; the proof is signed by Carnet', async () => {
  c.setNow(T0);
  const r = await newRecord(c, { activateNow: false });
  c.advance(10 * DAY);
  await rejectsWith(opposeRecord(c.ctx, { ins: r.ins, insOid: TEST_OID, activationCode: 'AAAA-BBBB-CCCC' }), 'ACTIVATION_CODE_WRONG', 'forbidden');
  assert.equal(await stateOf(r.recordId), 'pending');
  const failed = await auditOf(c, r.recordId, { action: 'record.oppose' });
  assert.equal(failed.length, 1, 'the refused opposition is in the audit log');
  assert.equal(failed[0].outcome, 'failure');
  assert.equal(failed[0].reason, 'ACTIVATION_CODE_WRONG');

  // the code as typed from a letter: lower case, without dashes
  const typed = r.activationCode.replace(/-/g, '').toLowerCase();
  const proof = await opposeRecord(c.ctx, { ins: r.ins, insOid: TEST_OID, activationCode: typed });
  assert.equal(proof.state, 'opposed');
  assert.equal(await stateOf(r.recordId), 'opposed');
  assert.equal(proof.opposedAt, c.ctx.clock().toISOString());
  assert.ok(proof.statement.fr.includes(proof.proofId) && proof.statement.en.includes(proof.proofId));
  assert.equal(proof.statement.fr.includes(r.ins), false, 'the proof does not spell the full INS');

  const signer = await loadOrCreateSigningKey(c.dataDir);
  const { payload, protectedHeader } = await jwtVerify(proof.signature, createLocalJWKSet(signer.publicJwks()), {
    algorithms: ['ES256'], typ: 'carnet-opposition-proof+jwt', issuer: 'carnet',
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.sub, r.recordId);
  assert.equal(payload.jti, proof.proofId);
  assert.equal(payload.opposed_at, proof.opposedAt);
  // a forged proof (payload changed, signature kept) does not verify
  const [h, , s] = proof.signature.split('.');
  const forged = Buffer.from(JSON.stringify({ ...payload, opposed_at: '2026-01-01T00:00:00.000Z' })).toString('base64url');
  await assert.rejects(jwtVerify(`${h}.${forged}.${s}`, createLocalJWKSet(signer.publicJwks())));

  assert.equal((await notificationsOf(c, r.recordId, 'record_opposed')).length, 1);
  // nothing is filed into an opposed record; the code cannot be used twice
  await rejectsWith(fileOne(r.recordId), 'DENY_RECORD_STATE', 'conflict');
  await rejectsWith(opposeRecord(c.ctx, { ins: r.ins, insOid: TEST_OID, activationCode: r.activationCode }), 'LIFECYCLE_ILLEGAL_TRANSITION', 'conflict');
  // the daily job never activates an opposed record
  c.advance(60 * DAY);
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(r.recordId), 'opposed');
});

test('opposition after the window is refused even before the job ran', async () => {
  c.setNow(T0);
  const r = await newRecord(c, { activateNow: false });
  c.setNow(new Date(T0.getTime() + 42 * DAY));
  const e = await rejectsWith(opposeRecord(c.ctx, { ins: r.ins, insOid: TEST_OID, activationCode: r.activationCode }), 'LIFECYCLE_ILLEGAL_TRANSITION', 'conflict');
  assert.equal(e.details?.reason, 'window_elapsed');
  assert.equal(await stateOf(r.recordId), 'pending');
});

test('closure: archived 10 years, the job deletes on the day and not the day before', async () => {
  c.setNow(T0);
  const r = await newRecord(c);
  const doc = (await fileOne(r.recordId)).documents[0];
  await closeRecord(c.ctx, holderOf(r.recordId), r.recordId);
  const lc = lifecycleOf(await recordById(c.ctx, r.recordId));
  assert.equal(lc.state, 'closed');
  assert.equal(lc.archiveUntil, '2036-03-01T09:00:00.000Z');
  assert.equal((await notificationsOf(c, r.recordId, 'record_closed')).length, 1);

  c.setNow(new Date(Date.parse(lc.archiveUntil!) - DAY));
  const before = await runDailyJobs(c.ctx);
  assert.equal(before.applied.some((a) => a.recordId === r.recordId), false);
  assert.equal(await stateOf(r.recordId), 'closed');
  // the archive is still there for the holder
  assert.equal((await readDocument(c.ctx, holderOf(r.recordId), doc.id)).document.id, doc.id);

  c.setNow(lc.archiveUntil!);
  const on = await runDailyJobs(c.ctx);
  assert.deepEqual(on.applied.filter((a) => a.recordId === r.recordId), [{ recordId: r.recordId, event: 'delete' }]);
  assert.equal(await stateOf(r.recordId), 'deleted');
  await rejectsWith(readDocument(c.ctx, holderOf(r.recordId), doc.id), 'DOCUMENT_UNKNOWN', 'not_found');
  await rejectsWith(c.ctx.keys.get(c.ctx.db, r.recordId), 'RECORD_KEY_DESTROYED', 'gone');
});

test('reopening after 9 years restores the documents; the 10-year deletion no longer applies', async () => {
  c.setNow(T0);
  const r = await newRecord(c);
  const filed = await fileOne(r.recordId);
  const doc = filed.documents[0];
  const original = (await readDocument(c.ctx, holderOf(r.recordId), doc.id)).bytes;
  await grantConsent(c.ctx, holderOf(r.recordId), r.recordId, GP.id);
  await closeRecord(c.ctx, holderOf(r.recordId), r.recordId);
  // closed: professionals no longer read (DOMAIN §5.1)
  await rejectsWith(readDocument(c.ctx, GP, doc.id), 'DENY_RECORD_STATE', 'forbidden');

  c.setNow(new Date('2035-03-01T09:00:00Z'));
  const reopened = await reopenRecord(c.ctx, holderOf(r.recordId), r.recordId);
  assert.equal(reopened.state, 'active');
  assert.equal(reopened.lifecycle.archiveUntil, undefined);
  assert.equal(reopened.lifecycle.reopenedAt, c.ctx.clock().toISOString());
  assert.equal((await notificationsOf(c, r.recordId, 'record_reopened')).length, 1);
  const again = await readDocument(c.ctx, holderOf(r.recordId), doc.id);
  assert.ok(again.bytes.equals(original), 'the holder reads the same bytes');
  assert.equal((await readDocument(c.ctx, GP, doc.id)).decision.reason, 'ALLOW_CONSENT');

  c.setNow(new Date('2036-03-02T09:00:00Z'));
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(r.recordId), 'active');
  assert.ok((await readDocument(c.ctx, holderOf(r.recordId), doc.id)).bytes.equals(original));
});

test('suspension for fraud: the job closes it after 6 weeks, not before; lifted in time it is active again', async () => {
  c.setNow(T0);
  const r = await newRecord(c);
  await grantConsent(c.ctx, holderOf(r.recordId), r.recordId, GP.id);
  const doc = (await fileOne(r.recordId)).documents[0];
  await suspendRecord(c.ctx, OPERATOR, r.recordId);
  assert.equal(await stateOf(r.recordId), 'suspended');
  assert.equal((await notificationsOf(c, r.recordId, 'record_suspended')).length, 1);
  await rejectsWith(readDocument(c.ctx, GP, doc.id), 'DENY_RECORD_STATE', 'forbidden');

  c.setNow(new Date(T0.getTime() + 42 * DAY - 60_000));
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(r.recordId), 'suspended');
  c.setNow(new Date(T0.getTime() + 42 * DAY));
  const job = await runDailyJobs(c.ctx);
  assert.deepEqual(job.applied.filter((a) => a.recordId === r.recordId), [{ recordId: r.recordId, event: 'close' }]);
  const lc = lifecycleOf(await recordById(c.ctx, r.recordId));
  assert.equal(lc.state, 'closed');
  assert.equal(lc.closedAt, c.ctx.clock().toISOString());
  // closure is not deletion: the archive stays, the holder still reads it
  assert.equal((await readDocument(c.ctx, holderOf(r.recordId), doc.id)).document.id, doc.id);

  c.setNow(T0);
  const s = await newRecord(c);
  await suspendRecord(c.ctx, OPERATOR, s.recordId);
  c.advance(20 * DAY);
  assert.equal((await liftSuspension(c.ctx, holderOf(s.recordId), s.recordId)).state, 'active');
  c.advance(30 * DAY);
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(s.recordId), 'active');
});

test('illegal transitions are typed errors and change nothing', async () => {
  c.setNow(T0);
  const pending = await newRecord(c, { activateNow: false });
  const active = await newRecord(c);
  const holder = (id: string) => holderOf(id);
  const auditBefore = (await auditOf(c, active.recordId)).length;

  let e = await rejectsWith(reopenRecord(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION', 'conflict');
  assert.deepEqual(e.details, { from: 'active', event: 'reopen' });
  e = await rejectsWith(closeRecord(c.ctx, holder(pending.recordId), pending.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(e.details?.from, 'pending');
  await rejectsWith(liftSuspension(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  await rejectsWith(activateRecord(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(await stateOf(active.recordId), 'active');
  assert.equal(await stateOf(pending.recordId), 'pending');
  assert.equal((await auditOf(c, active.recordId)).length, auditBefore, 'a refused transition writes no success entry');

  // suspension lifted too late; deletion requested twice; anything on a deleted record
  await suspendRecord(c.ctx, OPERATOR, active.recordId);
  c.advance(42 * DAY);
  e = await rejectsWith(liftSuspension(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(e.details?.reason, 'deadline_passed');
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(active.recordId), 'closed');
  await requestDeletion(c.ctx, holder(active.recordId), active.recordId);
  e = await rejectsWith(requestDeletion(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(e.details?.reason, 'already_requested');
  // deletion due: reopening is no longer possible
  e = await rejectsWith(reopenRecord(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(e.details?.reason, 'deletion_due');
  await runDailyJobs(c.ctx);
  assert.equal(await stateOf(active.recordId), 'deleted');
  e = await rejectsWith(reopenRecord(c.ctx, holder(active.recordId), active.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
  assert.equal(e.details?.reason, 'final');
});

test('the daily job: one record it cannot process does not hold the others back, and the run says so', async () => {
  c.setNow(T0);
  const broken = await newRecord(c, { activateNow: false });
  const fine = await newRecord(c, { activateNow: false });
  const row = await recordById(c.ctx, broken.recordId);
  await c.ctx.db.updateTable('records').set({ lifecycle: '{"state": "pending", "pendingUntil": ' }).where('id', '=', broken.recordId).execute();
  try {
    c.setNow(new Date(T0.getTime() + 43 * DAY));
    const e = await rejectsWith(runDailyJobs(c.ctx), 'DAILY_JOB_PARTIAL');
    assert.deepEqual((e.details?.failed as { recordId: string }[]).map((f) => f.recordId), [broken.recordId]);
    assert.ok((e.details?.applied as { recordId: string; event: string }[]).some((a) => a.recordId === fine.recordId && a.event === 'activate'));
    assert.equal(await stateOf(fine.recordId), 'active', 'the other record was processed');
    assert.equal(await stateOf(broken.recordId), 'pending');
  } finally {
    await c.ctx.db.updateTable('records').set({ lifecycle: row.lifecycle }).where('id', '=', broken.recordId).execute();
  }
  const repaired = await runDailyJobs(c.ctx);
  assert.deepEqual(repaired.applied.filter((a) => a.recordId === broken.recordId), [{ recordId: broken.recordId, event: 'activate' }]);
});
