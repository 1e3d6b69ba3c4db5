/**
 * The portal's use cases on a real store (SQLite, or PostgreSQL with DATABASE_URL): only the
 * holder's side reaches the holder's space; documents come with their MES category and marks; the
 * viewer renders a CDA as blocks; history filters and labels; the profile is sealed; export is a
 * zip of the Bundle and the originals; break-glass reuses an open session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { addPatient } from '../addPatient.ts';
import { addPractitioner } from '../addPractitioner.ts';
import { fileDocuments } from '../fileDocuments.ts';
import { grantConsent } from '../rights.ts';
import { readDocument } from '../readDocuments.ts';
import { CarnetError } from '../../domain/errors.ts';
import { cdaDocument, FIXTURE_INS, holderOf, LAB_AUTHOR_RPPS, LAB_FINESS, professional, TEST_OID } from '../testkit.ts';
import { addOwnDocument, holderDocuments, viewDocument } from './documents.ts';
import { holderHome, markAlertsSeen } from './home.ts';
import { changeSettings, changeSharing, sharingView } from './sharing.ts';
import { holderHistory } from './history.ts';
import { readProfile, saveProfile, validateProfile } from './profile.ts';
import { exportRecord } from './exportRecord.ts';
import { openBreakGlass } from './breakGlass.ts';
import { decideAboutRecord } from './myRecord.ts';
import { searchDirectory } from './directory.ts';

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CarnetError) return e.code;
    throw e;
  }
  return 'NO_ERROR';
};

describe('portal services', () => {
  let c: TestCarnet;
  let recordId: string;
  let tshId: string;
  const lab = professional(LAB_AUTHOR_RPPS, { organisation: LAB_FINESS, name: 'Marcel Camparini' });
  const doctor = professional('10000000041', { name: 'Nadia Leroy', organisation: '750712184' });
  const stranger = professional('10000000017', { name: 'Paul Durand' });

  before(async () => {
    c = await openTestCarnet();
    const r = await addPatient(c.ctx, {
      ins: FIXTURE_INS, insOid: TEST_OID, identityStatus: 'qualifiee', activateNow: true,
      demographics: { birthName: 'DUPONT', firstNames: ['Jeanne'], sex: 'F', birthDate: '1979-03-05' },
    });
    recordId = r.recordId;
    await addPractitioner(c.ctx, { rpps: '10000000041', family: 'Leroy', given: 'Nadia', professionCode: '10' });
    const tsh = cdaDocument('BIO-CR-BIO_2024.01_TSH_1.xml');
    const filed = await fileDocuments(c.ctx, lab, { patient: { recordId }, documents: [tsh] });
    tshId = filed.documents[0].id;
  });
  after(async () => c?.cleanup());

  test('the holder’s space is the holder side’s only', async () => {
    assert.equal(await codeOf(holderDocuments(c.ctx, doctor, recordId)), 'PORTAL_HOLDER_SIDE_ONLY');
    assert.equal(await codeOf(holderHome(c.ctx, holderOf('someone-else'), recordId)), 'DENY_NOT_LINKED');
    assert.equal(await codeOf(readProfile(c.ctx, lab, recordId)), 'PORTAL_HOLDER_SIDE_ONLY');
  });

  test('documents come with their MES category, the type label and the masking mark', async () => {
    const docs = await holderDocuments(c.ctx, holderOf(recordId), recordId);
    const d = docs.find((x) => x.id === tshId)!;
    assert.equal(d.category, 'BIOLOGIE');
    assert.equal(d.categoryLabel.fr, 'Biologie');
    assert.equal(d.format, 'cda');
    assert.equal(d.masked, false);
    assert.equal(d.patientAdded, false);
  });

  test('the viewer renders the lab report as blocks: its results table, never XML', async () => {
    const v = await viewDocument(c.ctx, holderOf(recordId), tshId);
    assert.equal(v.kind, 'cda');
    if (v.kind !== 'cda') return;
    const json = JSON.stringify(v.rendered);
    assert.ok(!json.includes('<ClinicalDocument'));
    const table = v.rendered.sections?.[0].blocks.flatMap((b) => (b.kind === 'section' ? b.section.blocks : [b])).find((b) => b.kind === 'table');
    assert.ok(table && table.kind === 'table');
    assert.deepEqual(table.body[0].slice(1), ['1.950 mUI/l', '(0.270 - 4.200)']);
  });

  test('the holder adds their own document: class 90, shown apart', async () => {
    const d = await addOwnDocument(c.ctx, holderOf(recordId), recordId, {
      title: 'Ancienne ordonnance', typeCode: 'DOCPAT02', mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n% own\n'),
    });
    assert.equal(d.patientAdded, true);
    assert.equal(d.classCode, '90');
    assert.equal(d.category, 'ORD_SOIN');
    assert.equal(await codeOf(addOwnDocument(c.ctx, holderOf(recordId), recordId, { title: 'x', typeCode: '11502-2', mimeType: 'application/pdf', bytes: Buffer.from('x') })), 'OWN_DOCUMENT_TYPE');
    assert.equal(await codeOf(addOwnDocument(c.ctx, holderOf(recordId), recordId, { title: 'x', typeCode: 'DOCPAT02', mimeType: 'text/html', bytes: Buffer.from('x') })), 'OWN_DOCUMENT_FORMAT');
  });

  test('sharing: one change at a time through the rights services; a professional cannot change it', async () => {
    await changeSharing(c.ctx, holderOf(recordId), recordId, 'consent', doctor.id, true);
    let v = await sharingView(c.ctx, holderOf(recordId), recordId);
    assert.deepEqual(v.authorized.map((a) => [a.rpps, a.name, a.basis]), [[doctor.id, 'Nadia Leroy', 'consent']]);
    await changeSharing(c.ctx, holderOf(recordId), recordId, 'block', doctor.id, true);
    v = await sharingView(c.ctx, holderOf(recordId), recordId);
    assert.deepEqual(v.authorized, [], 'a blocked professional is not listed as authorized');
    assert.deepEqual(v.blocked.map((b) => b.rpps), [doctor.id]);
    await changeSharing(c.ctx, holderOf(recordId), recordId, 'block', doctor.id, false);
    assert.equal(await codeOf(changeSharing(c.ctx, doctor, recordId, 'consent', stranger.id, true)), 'PORTAL_HOLDER_SIDE_ONLY');
    assert.equal(await codeOf(changeSettings(c.ctx, holderOf(recordId), recordId, { nonsense: true } as never)), 'SETTINGS_UNKNOWN');
    const s = await changeSettings(c.ctx, holderOf(recordId), recordId, { maskedInEmergency: true });
    assert.equal(s.maskedInEmergency, true);
  });

  test('history: labels, profession, own entries apart, and the emergency flag', async () => {
    await readDocument(c.ctx, doctor, tshId);
    const others = await holderHistory(c.ctx, holderOf(recordId), recordId, { who: 'others' });
    assert.ok(others.entries.every((e) => !e.own));
    const read = others.entries.find((e) => e.action === 'document.read' && e.actor.id === doctor.id)!;
    assert.equal(read.reason, 'ALLOW_CONSENT');
    assert.equal(read.profession?.code, '10');
    assert.equal(read.document?.title, "Compte rendu d'examens biologiques");
    assert.equal(read.emergency, false);
    const mine = await holderHistory(c.ctx, holderOf(recordId), recordId, { who: 'me' });
    assert.ok(mine.entries.length > 0 && mine.entries.every((e) => e.own));
  });

  test('break-glass opens one session and reuses it while it lasts', async () => {
    assert.equal(await codeOf(openBreakGlass(c.ctx, stranger, recordId, 'urgent')), 'EMERGENCY_JUSTIFICATION_REQUIRED');
    const first = await openBreakGlass(c.ctx, stranger, recordId, 'Patiente inconsciente aux urgences');
    const again = await openBreakGlass(c.ctx, stranger, recordId, 'Patiente inconsciente aux urgences');
    assert.equal(first.reused, false);
    assert.equal(again.reused, true);
    assert.equal(again.sessionId, first.sessionId);
    const notices = await c.ctx.db.selectFrom('notifications').select('id').where('record_id', '=', recordId).where('kind', '=', 'emergency_access').execute();
    assert.equal(notices.length, 1, 'the holder is told once');
    const view = await viewDocument(c.ctx, stranger, tshId, { mode: 'bris_de_glace' });
    assert.equal(view.document.access?.reason, 'ALLOW_BRIS_DE_GLACE');
    const h = await holderHistory(c.ctx, holderOf(recordId), recordId, { mode: 'bris_de_glace' });
    assert.ok(h.entries.length >= 2 && h.entries.every((e) => e.emergency));
  });

  test('home: emergency alerts apart; "new" until the reader marks them seen', async () => {
    const home = await holderHome(c.ctx, holderOf(recordId), recordId);
    const e = home.alerts.find((a) => a.emergency)!;
    assert.equal(e.payload.name, 'Paul Durand');
    assert.equal(e.isNew, true);
    c.advance(1000);
    await markAlertsSeen(c.ctx, holderOf(recordId), recordId);
    const later = await holderHome(c.ctx, holderOf(recordId), recordId);
    assert.ok(later.alerts.every((a) => !a.isNew));
  });

  test('the profile is validated and sealed under the record key', async () => {
    assert.equal(await codeOf(Promise.resolve().then(() => validateProfile({ trustedPerson: { name: '' } }))), 'PROFILE_INVALID');
    assert.equal(await codeOf(Promise.resolve().then(() => validateProfile({ organDonation: { choice: 'maybe' } }))), 'PROFILE_INVALID');
    await saveProfile(c.ctx, holderOf(recordId), recordId, {
      trustedPerson: { name: 'Paul Dupont', relationship: 'Frère', phone: '06 12 34 56 78' },
      advanceDirectives: { written: true, keptBy: 'Mon médecin traitant' },
      organDonation: { choice: 'donor' },
    });
    const p = await readProfile(c.ctx, holderOf(recordId), recordId);
    assert.equal(p.trustedPerson?.name, 'Paul Dupont');
    assert.equal(p.organDonation?.choice, 'donor');
    const row = await c.ctx.db.selectFrom('portal_profiles').select('data_enc').where('record_id', '=', recordId).executeTakeFirstOrThrow();
    assert.ok(!Buffer.from(row.data_enc).toString('latin1').includes('Paul Dupont'), 'nothing in clear');
  });

  test('export: a zip holding the FHIR Bundle and the original files', async () => {
    const out = await exportRecord(c.ctx, holderOf(recordId), recordId, { fhirBase: 'https://carnet.test/fhir' });
    const files = unzipSync(out.zip);
    const bundle = JSON.parse(strFromU8(files['bundle.json']));
    assert.equal(bundle.resourceType, 'Bundle');
    const drs = bundle.entry.filter((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'DocumentReference');
    assert.equal(drs.length, out.documents);
    const tsh = drs.find((e: { resource: { id: string } }) => e.resource.id === tshId).resource;
    const path = tsh.content[0].attachment.url as string;
    assert.deepEqual(Buffer.from(files[path]), cdaDocument('BIO-CR-BIO_2024.01_TSH_1.xml').bytes);
    assert.equal(await codeOf(exportRecord(c.ctx, doctor, recordId, { fhirBase: 'x' })), 'PORTAL_HOLDER_SIDE_ONLY');
  });

  test('the directory finds professionals by name or RPPS', async () => {
    assert.deepEqual((await searchDirectory(c.ctx, holderOf(recordId), 'leroy')).map((e) => e.rpps), ['10000000041']);
    assert.deepEqual((await searchDirectory(c.ctx, holderOf(recordId), '10000000041')).map((e) => e.name), ['Nadia Leroy']);
    assert.deepEqual(await searchDirectory(c.ctx, holderOf(recordId), 'l'), []);
  });

  test('closing the record: the holder may, a professional may not; then reopen', async () => {
    assert.equal(await codeOf(decideAboutRecord(c.ctx, doctor, recordId, 'close')), 'PORTAL_HOLDER_SIDE_ONLY');
    assert.equal((await decideAboutRecord(c.ctx, holderOf(recordId), recordId, 'close')).state, 'closed');
    assert.equal((await decideAboutRecord(c.ctx, holderOf(recordId), recordId, 'reopen')).state, 'active');
  });

  test('a consent recorded by the professional shows as "you authorized them"', async () => {
    await grantConsent(c.ctx, stranger, recordId, stranger.id);
    const v = await sharingView(c.ctx, holderOf(recordId), recordId);
    assert.ok(v.authorized.some((a) => a.rpps === stranger.id && a.basis === 'consent'));
  });
});
