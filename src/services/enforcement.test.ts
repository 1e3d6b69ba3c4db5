/**
 * Issue "access decision": enforcement of DOMAIN §5 through the services, on the store — what each
 * consult returns, the audit entry of every decision (allow and deny, with mode and reason) and
 * the notifications of §6. Each test names the rules it proves.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, DAY, type TestCarnet } from '../store/testing.ts';
import type { Actor } from '../domain/access/types.ts';
import { fileDocuments } from './fileDocuments.ts';
import { listDocuments, readDocument } from './readDocuments.ts';
import { announceDocument, setHiddenFromRepresentatives, setMasked } from './manageDocuments.ts';
import {
  blockPractitioner, grantConsent, promoteAdministrateur, revokeConsent, setMedecinTraitant, updateSettings,
} from './rights.ts';
import { startEmergency } from './emergency.ts';
import { accessHistory } from './accessHistory.ts';
import { addPerson, removePerson } from './persons.ts';
import { runDailyJobs } from './recordLifecycle.ts';
import {
  auditOf, freshIns, holderOf, LAB_FINESS, labAuthor, newRecord, notificationsOf, OPERATOR, professional, rejectsWith,
  syntheticDocument, TEST_OID,
} from './testkit.ts';

const LAB = labAuthor();
const GP = professional('10000000009', { organisation: '330781196', name: 'Claire Martin' }); // médecin traitant
const DOC = professional('10000000017', { organisation: '750712184', name: 'Paul Durand' }); // consented
const OTHER = professional('10000000041', { organisation: '750712184', name: 'Nadia Leroy' }); // nothing
const PHARMA = professional('10000000025', { professionCode: '21', organisation: '330781196', name: 'Sophie Petit' });
const ADMIN = professional('10000000082', { name: 'Hugo Admin' });
const BLOCKED = professional('10000000090', { name: 'Bloqué' });

let c: TestCarnet;
const T0 = new Date('2026-03-01T09:00:00Z');
before(async () => {
  c = await openTestCarnet({ now: T0 });
});
after(() => c.cleanup());

/** A record with a lab report (LOINC 11502-2) and an imaging report (18748-4), filed by the lab. */
async function recordWithDocuments(opts: { minor?: boolean; flags?: string[] } = {}) {
  const r = await newRecord(c, { minor: opts.minor });
  const lab = syntheticDocument(c, { author: { rpps: LAB.id, finess: LAB_FINESS }, text: 'lab' });
  const img = syntheticDocument(c, { typeCode: '18748-4', author: { rpps: LAB.id, finess: LAB_FINESS }, text: 'imaging' });
  const filed = await fileDocuments(c.ctx, LAB, { patient: { recordId: r.recordId }, documents: [lab, img] });
  return { ...r, holder: holderOf(r.recordId), lab: filed.documents[0], img: filed.documents[1], labBytes: lab.bytes };
}

async function fileOne(recordId: string, flags: string[] = [], actor: Actor = LAB) {
  const d = syntheticDocument(c, { author: { rpps: LAB.id, finess: LAB_FINESS }, flags });
  return (await fileDocuments(c.ctx, actor, { patient: { recordId }, documents: [d] })).documents[0];
}

const lastEntry = async (recordId: string, action: string, actorId: string) => {
  const rows = await auditOf(c, recordId, { action, actorId });
  assert.ok(rows.length, `an audit entry ${action} by ${actorId}`);
  return rows[rows.length - 1];
};
const ids = (xs: { document: { id: string } }[]) => xs.map((x) => x.document.id).sort();

test('(a) a consented professional consults: allow entries with reason and mode; first access notified once (§5.4, §6)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id);

  const listed = await listDocuments(c.ctx, DOC, r.recordId);
  assert.deepEqual(ids(listed), [r.lab.id, r.img.id].sort());
  assert.ok(listed.every((l) => l.decision.allow && l.decision.reason === 'ALLOW_CONSENT'));
  const list = await lastEntry(r.recordId, 'document.list', DOC.id);
  assert.deepEqual([list.outcome, list.reason, list.mode, list.actor_kind, list.actor_name], ['allow', 'ALLOW_CONSENT', 'normal', 'professional', DOC.name]);
  assert.deepEqual(JSON.parse(list.detail!).returned.sort(), [r.lab.id, r.img.id].sort());

  const read = await readDocument(c.ctx, DOC, r.lab.id);
  assert.ok(read.bytes.equals(r.labBytes));
  assert.equal(read.decision.reason, 'ALLOW_CONSENT');
  const entry = await lastEntry(r.recordId, 'document.read', DOC.id);
  assert.deepEqual([entry.outcome, entry.reason, entry.mode, entry.document_id], ['allow', 'ALLOW_CONSENT', 'normal', r.lab.id]);

  // a second consult: still audited, but the holder was told about this professional once
  c.advance(DAY);
  await listDocuments(c.ctx, DOC, r.recordId);
  await readDocument(c.ctx, DOC, r.img.id);
  assert.equal((await auditOf(c, r.recordId, { action: 'document.read', actorId: DOC.id })).length, 2);
  const first = await notificationsOf(c, r.recordId, 'first_access');
  assert.equal(first.length, 1);
  assert.deepEqual([first[0].recipient_kind, first[0].recipient_id, first[0].payload.practitioner, first[0].payload.mode], ['holder', r.recordId, DOC.id, 'normal']);
  // the holder's own reads notify nothing
  await readDocument(c.ctx, r.holder, r.lab.id);
  assert.equal((await notificationsOf(c, r.recordId, 'first_access')).length, 1);
});

test('(b) denied consults: no authorization (§5.4), blocked despite consent (§5.3), outside the matrix answered as not found (§5.5)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  // §5.4 no authorization at all: an error, audited with its reason, nothing returned
  await rejectsWith(listDocuments(c.ctx, OTHER, r.recordId), 'DENY_NO_AUTHORIZATION', 'forbidden');
  const list = await lastEntry(r.recordId, 'document.list', OTHER.id);
  assert.deepEqual([list.outcome, list.reason, list.mode], ['deny', 'DENY_NO_AUTHORIZATION', 'normal']);
  assert.deepEqual(JSON.parse(list.detail!).returned, []);
  await rejectsWith(readDocument(c.ctx, OTHER, r.lab.id), 'DENY_NO_AUTHORIZATION', 'forbidden');
  const read = await lastEntry(r.recordId, 'document.read', OTHER.id);
  assert.deepEqual([read.outcome, read.reason, read.document_id], ['deny', 'DENY_NO_AUTHORIZATION', r.lab.id]);

  // §5.3 blocked: consent does not help; the block is notified; the blocked one may still file (§5.11)
  await grantConsent(c.ctx, r.holder, r.recordId, BLOCKED.id);
  assert.equal((await readDocument(c.ctx, BLOCKED, r.lab.id)).decision.reason, 'ALLOW_CONSENT');
  await blockPractitioner(c.ctx, r.holder, r.recordId, BLOCKED.id);
  await rejectsWith(listDocuments(c.ctx, BLOCKED, r.recordId), 'DENY_BLOCKED', 'forbidden');
  await rejectsWith(readDocument(c.ctx, BLOCKED, r.img.id), 'DENY_BLOCKED', 'forbidden');
  const blockedRead = await lastEntry(r.recordId, 'document.read', BLOCKED.id);
  assert.deepEqual([blockedRead.outcome, blockedRead.reason, blockedRead.document_id], ['deny', 'DENY_BLOCKED', r.img.id]);
  assert.equal((await notificationsOf(c, r.recordId, 'block_changed')).length, 1);
  assert.equal((await fileOne(r.recordId, [], professional(BLOCKED.id))).status, 'current');

  // §5.5 a pharmacist with consent: the imaging report is not listed, not counted, not found
  await grantConsent(c.ctx, r.holder, r.recordId, PHARMA.id);
  const seen = await listDocuments(c.ctx, PHARMA, r.recordId);
  assert.ok(seen.some((l) => l.document.id === r.lab.id), 'the lab report is in the pharmacist matrix');
  assert.equal(seen.some((l) => l.document.id === r.img.id), false);
  assert.equal(JSON.stringify(seen).includes(r.img.id), false, 'nothing in the result points at the hidden document');
  const pList = await lastEntry(r.recordId, 'document.list', PHARMA.id);
  assert.equal(pList.outcome, 'allow');
  assert.deepEqual(JSON.parse(pList.detail!).denied, { DENY_MATRIX: 1 }, 'the audit (not the caller) keeps the count');
  const hidden = await rejectsWith(readDocument(c.ctx, PHARMA, r.img.id), 'DOCUMENT_UNKNOWN', 'not_found');
  const unknown = await rejectsWith(readDocument(c.ctx, PHARMA, '00000000-0000-4000-8000-000000000000'), 'DOCUMENT_UNKNOWN', 'not_found');
  assert.deepEqual([hidden.message, hidden.details], [unknown.message, unknown.details], 'indistinguishable from a document that does not exist');
  const pRead = await lastEntry(r.recordId, 'document.read', PHARMA.id);
  assert.deepEqual([pRead.outcome, pRead.reason, pRead.document_id], ['deny', 'DENY_MATRIX', r.img.id]);

  // no first access was notified for the professionals who were refused
  const firsts = (await notificationsOf(c, r.recordId, 'first_access')).map((n) => n.payload.practitioner).sort();
  assert.deepEqual(firsts, [BLOCKED.id, PHARMA.id].sort(), 'only real accesses (BLOCKED before the block, PHARMA) notify');
});

test('(c) break-glass (§5.8): justification required, switchable off, time-boxed, holder and médecin traitant notified', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  await setMedecinTraitant(c.ctx, r.holder, r.recordId, GP.id);
  const masked = await fileOne(r.recordId, ['MASQUE_PS']);

  await rejectsWith(startEmergency(c.ctx, OTHER, r.recordId, 'bris_de_glace', ''), 'EMERGENCY_JUSTIFICATION_REQUIRED', 'invalid');
  await rejectsWith(startEmergency(c.ctx, OTHER, r.recordId, 'bris_de_glace', '  ok  '), 'EMERGENCY_JUSTIFICATION_REQUIRED');
  await rejectsWith(startEmergency(c.ctx, r.holder, r.recordId, 'bris_de_glace', 'une urgence'), 'EMERGENCY_PROFESSIONALS_ONLY');

  await updateSettings(c.ctx, r.holder, r.recordId, { breakGlassAllowed: false });
  await rejectsWith(startEmergency(c.ctx, OTHER, r.recordId, 'bris_de_glace', 'Patient inconscient, urgence vitale'), 'DENY_BREAK_GLASS_DISABLED', 'forbidden');
  const refused = await lastEntry(r.recordId, 'emergency.start', OTHER.id);
  assert.deepEqual([refused.outcome, refused.reason, refused.mode], ['deny', 'DENY_BREAK_GLASS_DISABLED', 'bris_de_glace']);
  assert.equal((await notificationsOf(c, r.recordId, 'emergency_access')).length, 0);
  await updateSettings(c.ctx, r.holder, r.recordId, { breakGlassAllowed: true });

  // no session, no emergency read
  await rejectsWith(readDocument(c.ctx, OTHER, r.lab.id, { mode: 'bris_de_glace' }), 'DENY_EMERGENCY_NO_SESSION', 'forbidden');

  const session = await startEmergency(c.ctx, OTHER, r.recordId, 'bris_de_glace', 'Patient inconscient, urgence vitale');
  assert.equal(session.expiresAt, new Date(T0.getTime() + 24 * 3_600_000).toISOString());
  const notices = await notificationsOf(c, r.recordId, 'emergency_access');
  assert.deepEqual(notices.map((n) => [n.recipient_kind, n.recipient_id]).sort(), [['holder', r.recordId], ['professional', GP.id]].sort());
  assert.ok(notices.every((n) => n.payload.practitioner === OTHER.id && n.payload.mode === 'bris_de_glace'));
  const start = await lastEntry(r.recordId, 'emergency.start', OTHER.id);
  assert.deepEqual([start.outcome, start.reason], ['allow', 'ALLOW_BRIS_DE_GLACE']);
  assert.equal(JSON.stringify(start).includes('inconscient'), false, 'the justification is not in the audit in clear');

  c.advance(3_600_000);
  const read = await readDocument(c.ctx, OTHER, r.lab.id, { mode: 'bris_de_glace' });
  assert.ok(read.bytes.equals(r.labBytes));
  assert.equal(read.decision.reason, 'ALLOW_BRIS_DE_GLACE');
  const entry = await lastEntry(r.recordId, 'document.read', OTHER.id);
  assert.deepEqual([entry.outcome, entry.reason, entry.mode], ['allow', 'ALLOW_BRIS_DE_GLACE', 'bris_de_glace']);
  // the emergency is an explicit mode, not a standing authorization
  await rejectsWith(readDocument(c.ctx, OTHER, r.lab.id), 'DENY_NO_AUTHORIZATION');

  // masked documents stay hidden in an emergency …
  const listed = await listDocuments(c.ctx, OTHER, r.recordId, { mode: 'bris_de_glace' });
  assert.deepEqual(ids(listed), [r.lab.id, r.img.id].sort());
  await rejectsWith(readDocument(c.ctx, OTHER, masked.id, { mode: 'bris_de_glace' }), 'DOCUMENT_UNKNOWN', 'not_found');
  const maskedEntry = await lastEntry(r.recordId, 'document.read', OTHER.id);
  assert.deepEqual([maskedEntry.reason, maskedEntry.mode], ['DENY_MASKED', 'bris_de_glace']);
  // … unless the holder allowed them
  await updateSettings(c.ctx, r.holder, r.recordId, { maskedInEmergency: true });
  assert.equal((await readDocument(c.ctx, OTHER, masked.id, { mode: 'bris_de_glace' })).decision.reason, 'ALLOW_BRIS_DE_GLACE');
  assert.ok(ids(await listDocuments(c.ctx, OTHER, r.recordId, { mode: 'bris_de_glace' })).includes(masked.id));

  // after the window (25 h after the start), refused
  c.setNow(new Date(T0.getTime() + 25 * 3_600_000));
  await rejectsWith(readDocument(c.ctx, OTHER, r.lab.id, { mode: 'bris_de_glace' }), 'DENY_EMERGENCY_EXPIRED', 'forbidden');
  const expired = await lastEntry(r.recordId, 'document.read', OTHER.id);
  assert.deepEqual([expired.outcome, expired.reason, expired.mode], ['deny', 'DENY_EMERGENCY_EXPIRED', 'bris_de_glace']);
});

test('(d) an expiring consent: allowed before, denied after with the expiry reason; revocation; holder notified (§5.4, §6)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  const until = new Date(T0.getTime() + 2 * DAY).toISOString();
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id, until);
  let changes = await notificationsOf(c, r.recordId, 'consent_changed');
  assert.deepEqual(changes.map((n) => [n.payload.practitioner, n.payload.on]), [[DOC.id, true]]);

  c.advance(2 * DAY - 60_000);
  assert.equal((await readDocument(c.ctx, DOC, r.lab.id)).decision.reason, 'ALLOW_CONSENT');
  c.advance(60_000); // the expiry instant itself is outside the consent
  await rejectsWith(readDocument(c.ctx, DOC, r.lab.id), 'DENY_CONSENT_EXPIRED', 'forbidden');
  await rejectsWith(listDocuments(c.ctx, DOC, r.recordId), 'DENY_CONSENT_EXPIRED', 'forbidden');
  const expired = await lastEntry(r.recordId, 'document.read', DOC.id);
  assert.deepEqual([expired.outcome, expired.reason], ['deny', 'DENY_CONSENT_EXPIRED']);

  // renewed, then revoked
  c.advance(DAY);
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id);
  assert.equal((await readDocument(c.ctx, DOC, r.lab.id)).decision.reason, 'ALLOW_CONSENT');
  c.advance(60_000);
  await revokeConsent(c.ctx, r.holder, r.recordId, DOC.id);
  await rejectsWith(readDocument(c.ctx, DOC, r.lab.id), 'DENY_CONSENT_REVOKED', 'forbidden');
  assert.equal((await lastEntry(r.recordId, 'document.read', DOC.id)).reason, 'DENY_CONSENT_REVOKED');
  changes = await notificationsOf(c, r.recordId, 'consent_changed');
  assert.deepEqual(changes.map((n) => n.payload.on), [true, true, false]);

  // a professional records the consent given in person to them, but not to someone else
  c.advance(60_000);
  await grantConsent(c.ctx, PHARMA, r.recordId, PHARMA.id);
  assert.equal((await readDocument(c.ctx, PHARMA, r.lab.id)).decision.reason, 'ALLOW_CONSENT');
  await rejectsWith(grantConsent(c.ctx, PHARMA, r.recordId, OTHER.id), 'DENY_NOT_HOLDER', 'forbidden');
  await rejectsWith(readDocument(c.ctx, OTHER, r.lab.id), 'DENY_NO_AUTHORIZATION');
});

test('(e) MASQUE_PS hides from a consented professional, not from the author, médecin traitant or administrateur (§5.6)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id);
  await setMedecinTraitant(c.ctx, r.holder, r.recordId, GP.id);
  await promoteAdministrateur(c.ctx, r.holder, r.recordId, ADMIN.id);

  await rejectsWith(setMasked(c.ctx, DOC, r.lab.id, true), 'NOT_AUTHOR', 'forbidden');
  await setMasked(c.ctx, r.holder, r.lab.id, true);
  assert.deepEqual(ids(await listDocuments(c.ctx, DOC, r.recordId)), [r.img.id]);
  await rejectsWith(readDocument(c.ctx, DOC, r.lab.id), 'DOCUMENT_UNKNOWN', 'not_found');
  const denied = await lastEntry(r.recordId, 'document.read', DOC.id);
  assert.deepEqual([denied.outcome, denied.reason, denied.document_id], ['deny', 'DENY_MASKED', r.lab.id]);

  assert.equal((await readDocument(c.ctx, LAB, r.lab.id)).decision.reason, 'ALLOW_AUTHOR');
  assert.equal((await readDocument(c.ctx, GP, r.lab.id)).decision.reason, 'ALLOW_MEDECIN_TRAITANT');
  assert.equal((await readDocument(c.ctx, ADMIN, r.lab.id)).decision.reason, 'ALLOW_ADMINISTRATEUR');
  assert.equal((await readDocument(c.ctx, r.holder, r.lab.id)).decision.reason, 'ALLOW_HOLDER');
  assert.ok(ids(await listDocuments(c.ctx, GP, r.recordId)).includes(r.lab.id));

  await setMasked(c.ctx, r.holder, r.lab.id, false);
  assert.equal((await readDocument(c.ctx, DOC, r.lab.id)).decision.reason, 'ALLOW_CONSENT');

  // "mask new documents by default"
  await updateSettings(c.ctx, r.holder, r.recordId, { maskNewByDefault: true });
  const fresh = await fileOne(r.recordId);
  assert.ok(fresh.securityLabels.some((l) => l.code === 'MASQUE_PS'));
  await rejectsWith(readDocument(c.ctx, DOC, fresh.id), 'DOCUMENT_UNKNOWN');
  assert.equal((await readDocument(c.ctx, GP, fresh.id)).decision.reason, 'ALLOW_MEDECIN_TRAITANT');
});

test('(e) INVISIBLE_PATIENT: hidden from the holder until announced or a month passed; 2-week notice once (§5.7, §5.10, §6)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id);
  const announced = await fileOne(r.recordId, ['INVISIBLE_PATIENT']);
  const waiting = await fileOne(r.recordId, ['INVISIBLE_PATIENT']);
  const newDocs = (await notificationsOf(c, r.recordId, 'new_document')).map((n) => n.payload.documentId);
  assert.equal(newDocs.includes(announced.id) || newDocs.includes(waiting.id), false, 'no "new document" notice gives it away');

  assert.deepEqual(ids(await listDocuments(c.ctx, r.holder, r.recordId)), [r.lab.id, r.img.id].sort());
  await rejectsWith(readDocument(c.ctx, r.holder, announced.id), 'DOCUMENT_UNKNOWN', 'not_found');
  assert.equal((await lastEntry(r.recordId, 'document.read', r.recordId)).reason, 'DENY_INVISIBLE_PATIENT');
  // professionals see it, and are told the patient does not
  const pro = await readDocument(c.ctx, DOC, announced.id);
  assert.equal(pro.decision.reason, 'ALLOW_CONSENT');
  assert.match(pro.decision.explanation.en, /not yet visible to the patient/);

  c.setNow(new Date(T0.getTime() + 13 * DAY));
  await runDailyJobs(c.ctx);
  assert.equal((await notificationsOf(c, r.recordId, 'invisible_document_notice')).length, 0);
  c.setNow(new Date(T0.getTime() + 14 * DAY));
  await runDailyJobs(c.ctx);
  c.advance(DAY);
  await runDailyJobs(c.ctx);
  const notices = await notificationsOf(c, r.recordId, 'invisible_document_notice');
  assert.deepEqual(notices.map((n) => n.payload.documentId).sort(), [announced.id, waiting.id].sort(), 'one notice per document, once');
  assert.ok(notices.every((n) => n.recipient_kind === 'holder'));

  // the announcement consultation: only the author may lift it
  await rejectsWith(announceDocument(c.ctx, DOC, announced.id), 'NOT_AUTHOR', 'forbidden');
  await announceDocument(c.ctx, LAB, announced.id);
  assert.equal((await readDocument(c.ctx, r.holder, announced.id)).decision.reason, 'ALLOW_HOLDER');
  await rejectsWith(readDocument(c.ctx, r.holder, waiting.id), 'DOCUMENT_UNKNOWN');

  // a month after it was filed, the other one is visible by itself
  c.setNow(new Date('2026-03-31T23:59:00Z'));
  await rejectsWith(readDocument(c.ctx, r.holder, waiting.id), 'DOCUMENT_UNKNOWN');
  c.setNow(new Date('2026-04-01T09:00:00Z'));
  assert.equal((await readDocument(c.ctx, r.holder, waiting.id)).decision.reason, 'ALLOW_HOLDER');
  assert.ok(ids(await listDocuments(c.ctx, r.holder, r.recordId)).includes(waiting.id));
  await runDailyJobs(c.ctx);
  assert.equal((await notificationsOf(c, r.recordId, 'invisible_document_notice')).length, 2);
});

test('(f) access history: the holder sees everyone, a professional only itself; an invisible document stays out (§5.12, §5.7)', async () => {
  c.setNow(T0);
  const r = await recordWithDocuments();
  await grantConsent(c.ctx, r.holder, r.recordId, DOC.id);
  await grantConsent(c.ctx, r.holder, r.recordId, PHARMA.id);
  await setMedecinTraitant(c.ctx, r.holder, r.recordId, GP.id);
  const invisible = await fileOne(r.recordId, ['INVISIBLE_PATIENT']);
  c.advance(60_000);
  await readDocument(c.ctx, DOC, r.lab.id);
  await readDocument(c.ctx, DOC, invisible.id);
  await readDocument(c.ctx, PHARMA, r.lab.id);

  const mine = await accessHistory(c.ctx, r.holder, r.recordId);
  const actors = new Set(mine.map((e) => e.actor.id));
  for (const a of [DOC.id, PHARMA.id, LAB.id]) assert.ok(actors.has(a), `the holder sees ${a}'s entries`);
  assert.ok(mine.some((e) => e.actor.id === DOC.id && e.action === 'document.read' && e.documentId === r.lab.id && e.reason === 'ALLOW_CONSENT'));
  assert.equal(mine.some((e) => e.documentId === invisible.id), false, 'no entry reveals the invisible document');

  const doc = await accessHistory(c.ctx, DOC, r.recordId);
  assert.ok(doc.length >= 2);
  assert.ok(doc.every((e) => e.actor.id === DOC.id), 'a professional sees its own entries only');
  assert.ok(doc.some((e) => e.documentId === invisible.id), 'including its read of the invisible document');
  const pharma = await accessHistory(c.ctx, PHARMA, r.recordId);
  assert.ok(pharma.length >= 1 && pharma.every((e) => e.actor.id === PHARMA.id));
  assert.deepEqual(await accessHistory(c.ctx, OTHER, r.recordId), []);
  // the médecin traitant sees the whole history
  const gp = await accessHistory(c.ctx, GP, r.recordId);
  assert.ok(gp.some((e) => e.actor.id === PHARMA.id) && gp.some((e) => e.actor.id === DOC.id));
  // reading the history is itself in the history
  assert.ok((await auditOf(c, r.recordId, { action: 'history.read', actorId: DOC.id })).length === 1);

  await announceDocument(c.ctx, LAB, invisible.id);
  const after = await accessHistory(c.ctx, r.holder, r.recordId);
  assert.ok(after.some((e) => e.documentId === invisible.id && e.actor.id === DOC.id && e.action === 'document.read'));
});

test('(g) legal representatives (2, minors) and caregivers (3, no sharing management) through addPerson (§1, §3, §5.10)', async () => {
  c.setNow(T0);
  const minor = await recordWithDocuments({ minor: true });
  const [rep1Ins, rep2Ins, rep3Ins] = [freshIns(), freshIns(), freshIns()];
  const rep1: Actor = { kind: 'legal_representative', id: rep1Ins, name: 'Parent 1' };
  await addPerson(c.ctx, OPERATOR, minor.recordId, { kind: 'legal_representative', ins: rep1Ins, insOid: TEST_OID, name: 'Parent Un' });
  // one representative invites the second; a third is refused
  await addPerson(c.ctx, rep1, minor.recordId, { kind: 'legal_representative', ins: rep2Ins, insOid: TEST_OID, name: 'Parent Deux' });
  await rejectsWith(addPerson(c.ctx, rep1, minor.recordId, { kind: 'legal_representative', ins: rep3Ins, insOid: TEST_OID, name: 'Parent Trois' }), 'PERSON_LIMIT', 'conflict');
  await rejectsWith(addPerson(c.ctx, rep1, minor.recordId, { kind: 'legal_representative', ins: rep2Ins, insOid: TEST_OID, name: 'Parent Deux' }), 'PERSON_ALREADY_LINKED');

  assert.equal((await readDocument(c.ctx, rep1, minor.lab.id)).decision.reason, 'ALLOW_LEGAL_REPRESENTATIVE');
  const entry = await lastEntry(minor.recordId, 'document.read', rep1Ins);
  assert.equal(entry.actor_name, null, "a person's name never lands in the audit log");
  // the representative manages sharing for the minor
  await grantConsent(c.ctx, rep1, minor.recordId, DOC.id);
  assert.equal((await readDocument(c.ctx, DOC, minor.lab.id)).decision.reason, 'ALLOW_CONSENT');
  // the minor hides a document about a confidential act from the representatives (R1111-50)
  await setHiddenFromRepresentatives(c.ctx, minor.holder, minor.img.id, true);
  await rejectsWith(readDocument(c.ctx, rep1, minor.img.id), 'DOCUMENT_UNKNOWN', 'not_found');
  assert.equal((await lastEntry(minor.recordId, 'document.read', rep1Ins)).reason, 'DENY_INVISIBLE_REPRESENTANTS');
  assert.equal(ids(await listDocuments(c.ctx, rep1, minor.recordId)).includes(minor.img.id), false);
  assert.equal((await readDocument(c.ctx, minor.holder, minor.img.id)).decision.reason, 'ALLOW_HOLDER');

  // legal representatives are for minors only
  const adult = await recordWithDocuments();
  await rejectsWith(addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'legal_representative', ins: rep3Ins, insOid: TEST_OID, name: 'X' }), 'REPRESENTATIVE_FOR_MINORS', 'conflict');

  // caregivers: three at most, read per delegation, never manage sharing
  const cg = [freshIns(), freshIns(), freshIns(), freshIns()];
  const links = [];
  links.push(await addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'caregiver', ins: cg[0], insOid: TEST_OID, name: 'Aidant Un' }));
  links.push(await addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'caregiver', ins: cg[1], insOid: TEST_OID, name: 'Aidant Deux', delegation: { read: false } }));
  links.push(await addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'caregiver', ins: cg[2], insOid: TEST_OID, name: 'Aidant Trois' }));
  await rejectsWith(addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'caregiver', ins: cg[3], insOid: TEST_OID, name: 'Aidant Quatre' }), 'PERSON_LIMIT', 'conflict');

  const carer: Actor = { kind: 'caregiver', id: cg[0], name: 'Aidant Un' };
  assert.equal((await readDocument(c.ctx, carer, adult.lab.id)).decision.reason, 'ALLOW_CAREGIVER');
  await rejectsWith(readDocument(c.ctx, { kind: 'caregiver', id: cg[1], name: 'Aidant Deux' }, adult.lab.id), 'DENY_NO_DELEGATION', 'forbidden');
  await rejectsWith(grantConsent(c.ctx, carer, adult.recordId, OTHER.id), 'DENY_CAREGIVER_LIMITS', 'forbidden');
  await rejectsWith(blockPractitioner(c.ctx, carer, adult.recordId, DOC.id), 'DENY_CAREGIVER_LIMITS', 'forbidden');
  await rejectsWith(updateSettings(c.ctx, carer, adult.recordId, { breakGlassAllowed: false }), 'DENY_CAREGIVER_LIMITS', 'forbidden');
  await rejectsWith(addPerson(c.ctx, carer, adult.recordId, { kind: 'caregiver', ins: cg[3], insOid: TEST_OID, name: 'Aidant Quatre' }), 'DENY_CAREGIVER_LIMITS', 'forbidden');
  await rejectsWith(readDocument(c.ctx, OTHER, adult.lab.id), 'DENY_NO_AUTHORIZATION');
  const deniedChange = await lastEntry(adult.recordId, 'rights.change', cg[0]);
  assert.deepEqual([deniedChange.outcome, deniedChange.reason], ['deny', 'DENY_CAREGIVER_LIMITS']);

  // a person not linked to the record reads nothing; removing a caregiver frees a place
  const stranger: Actor = { kind: 'caregiver', id: cg[3], name: 'Inconnu' };
  await rejectsWith(readDocument(c.ctx, stranger, adult.lab.id), 'DENY_NOT_LINKED', 'forbidden');
  await removePerson(c.ctx, adult.holder, adult.recordId, links[0].id);
  await rejectsWith(readDocument(c.ctx, carer, adult.lab.id), 'DENY_NOT_LINKED', 'forbidden');
  await addPerson(c.ctx, adult.holder, adult.recordId, { kind: 'caregiver', ins: cg[3], insOid: TEST_OID, name: 'Aidant Quatre' });
  assert.equal((await readDocument(c.ctx, stranger, adult.lab.id)).decision.reason, 'ALLOW_CAREGIVER');
});
