/**
 * Break-glass (bris de glace) through the establishment door: an emergency physician with no right
 * on the record, whose hospital system asserts purpose_of_use=bris_de_glace with a justification,
 * reads by ITI-67 and ITI-68; the access history (AuditEvent, read by the holder) shows the mode and
 * the reason; the holder and the médecin traitant are notified. Without justification the token
 * endpoint refuses; with the holder's switch off, the read is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setMedecinTraitant, updateSettings } from '../../src/services/rights.ts';
import {
  assertAuditIntact, assertOutcome, call, clientAssertion, clientCredentials, filedIds, iua, miniCda, newPatient, newPractitioner,
  provideBundle, registerClient, startServer, token, tokenRequest, type Server, type TestClient,
} from './helpers.ts';

const ER = '10005678912'; // emergency physician, no right on the record
const AUTHOR = '10006789123';
const MT = '10007891234'; // médecin traitant
const HOSPITAL = '750712184';
const JUSTIFICATION = 'Patient inconscient aux urgences, recherche des antécédents';
const MODE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces';
const REASON_SYSTEM = 'https://carnet.example.org/fhir/CodeSystem/access-reason';

let s: Server;
let client: TestClient;
let p: { recordId: string; ins: string; oid: string };
let docId: string;
let bytes: Buffer;

const ident = (x: { ins: string; oid: string }) => encodeURIComponent(`urn:oid:${x.oid}|${x.ins}`);
const holder = (recordId: string) => ({ kind: 'holder' as const, id: recordId, name: 'Titulaire' });

async function erToken(extra: Parameters<typeof iua>[1]) {
  const r = await tokenRequest(s, clientCredentials(await clientAssertion(s, client, { iua: iua(ER, { subject_organization_id: HOSPITAL, ...extra }) }),
    'system/DocumentReference.rs system/Binary.r system/Patient.rs'));
  return r;
}

before(async () => {
  s = await startServer();
  await newPractitioner(s, ER, { finess: HOSPITAL, professionCode: '10' });
  await newPractitioner(s, AUTHOR, { professionCode: '10' });
  await newPractitioner(s, MT, { professionCode: '10' });
  client = await registerClient(s, { alg: 'ES384', finess: HOSPITAL });
  p = await newPatient(s);
  await setMedecinTraitant(s.carnet.ctx, holder(p.recordId), p.recordId, MT);
  bytes = miniCda({ ins: p.ins, authorRpps: AUTHOR, text: 'antécédents' });
  const author = await token(s, { as: `practitioner:${AUTHOR}` });
  [docId] = filedIds(await call(s, 'POST', '/fhir', { token: author, body: provideBundle(bytes, { patient: p }).bundle }));
});
after(async () => s?.close());

test('in normal mode the emergency physician has no access (403)', async () => {
  const r = await erToken({ purpose_of_use: 'normal' });
  assert.equal(r.status, 200, r.text);
  const td02 = await call(s, 'GET', `/fhir/Patient?identifier=${ident(p)}`, { token: r.json.access_token });
  assert.equal(td02.json.entry[0].resource.extension.find((e: any) => /authorization-status/.test(e.url)).valueCode, 'NON_EXISTE');
  const list = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: r.json.access_token });
  assert.equal(list.status, 403, list.text);
  assert.equal(list.json.resourceType, 'OperationOutcome');
  const read = await call(s, 'GET', `/fhir/Binary/${docId}`, { token: r.json.access_token, headers: { accept: '*/*' } });
  assert.equal(read.status, 403, read.text);
});

test('break-glass with a justification: ITI-67 and ITI-68 succeed, audited and notified', async () => {
  const r = await erToken({ purpose_of_use: 'bris_de_glace', justification: JUSTIFICATION });
  assert.equal(r.status, 200, r.text);
  const bg = r.json.access_token;

  const list = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: bg });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.entry.map((e: any) => e.resource.id), [docId]);
  const got = await call(s, 'GET', list.json.entry[0].resource.content[0].attachment.url, { token: bg, headers: { accept: '*/*' } });
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(bytes));

  // the holder reads the access history: the emergency physician's entries carry the mode and the reason
  const h = await token(s, { as: `holder:${p.recordId}` });
  const audit = await call(s, 'GET', `/fhir/AuditEvent?patient=Patient/${p.recordId}`, { token: h });
  assert.equal(audit.status, 200, audit.text);
  const mine = audit.json.entry.map((e: any) => e.resource).filter((a: any) => a.agent[0].who.identifier?.value === `8${ER}`);
  const codes = (a: any, system: string) => a.purposeOfEvent.flatMap((c: any) => c.coding).filter((c: any) => c.system === system).map((c: any) => c.code);
  const bgEntries = mine.filter((a: any) => codes(a, MODE_SYSTEM).includes('bris_de_glace'));
  const actions = bgEntries.map((a: any) => a.subtype[0].code);
  for (const action of ['emergency.start', 'document.list', 'document.read']) assert.ok(actions.includes(action), `${action} not in ${actions}`);
  for (const a of bgEntries) {
    assert.deepEqual(codes(a, REASON_SYSTEM), ['ALLOW_BRIS_DE_GLACE'], `${a.subtype[0].code}: ${JSON.stringify(a.purposeOfEvent)}`);
    assert.equal(a.outcome, '0');
  }
  const read = bgEntries.find((a: any) => a.subtype[0].code === 'document.read');
  assert.ok(read.entity.some((e: any) => e.what.reference === `DocumentReference/${docId}`));
  // the justification is health data of a sort: it is not in the history served
  assert.ok(!audit.text.includes(JUSTIFICATION));

  // notifications (no HTTP surface yet: read from the outbox)
  const notes = await s.carnet.ctx.db.selectFrom('notifications').selectAll().where('record_id', '=', p.recordId).where('kind', '=', 'emergency_access').execute();
  const to = notes.map((n) => `${n.recipient_kind}:${n.recipient_id}`).sort();
  assert.deepEqual(to, [`holder:${p.recordId}`, `professional:${MT}`].sort());
  assert.equal(JSON.parse(notes[0].payload).mode, 'bris_de_glace');

  // a second read within the window reuses the session: no new notification
  await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: bg });
  const again = await s.carnet.ctx.db.selectFrom('notifications').select('id').where('record_id', '=', p.recordId).where('kind', '=', 'emergency_access').execute();
  assert.equal(again.length, 2);
  await assertAuditIntact(s);
});

test('break-glass starting with a DocumentReference read opens the session (and notifies) like ITI-67 does', async () => {
  const q = await newPatient(s);
  await setMedecinTraitant(s.carnet.ctx, holder(q.recordId), q.recordId, MT);
  const author = await token(s, { as: `practitioner:${AUTHOR}` });
  const [id] = filedIds(await call(s, 'POST', '/fhir', { token: author, body: provideBundle(miniCda({ ins: q.ins, authorRpps: AUTHOR }), { patient: q }).bundle }));
  const r = await erToken({ purpose_of_use: 'bris_de_glace', justification: JUSTIFICATION });
  const dr = await call(s, 'GET', `/fhir/DocumentReference/${id}`, { token: r.json.access_token });
  assert.equal(dr.status, 200, dr.text);
  assert.equal(dr.json.id, id);
  const notes = await s.carnet.ctx.db.selectFrom('notifications').select(['recipient_kind']).where('record_id', '=', q.recordId).where('kind', '=', 'emergency_access').execute();
  assert.deepEqual(notes.map((n) => n.recipient_kind).sort(), ['holder', 'professional']);
});

test('break-glass without justification is refused at the token endpoint (invalid_request)', async () => {
  const r = await erToken({ purpose_of_use: 'bris_de_glace' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error, 'invalid_request');
  assert.match(r.json.error_description, /justification/);
  assert.equal(r.json.access_token, undefined);
  const blank = await erToken({ purpose_of_use: 'bris_de_glace', justification: '   ' });
  assert.equal(blank.status, 400);
  assert.equal(blank.json.error, 'invalid_request');
});

test("with the holder's break-glass switch off, break-glass is refused (403) and nothing is notified", async () => {
  const q = await newPatient(s);
  await setMedecinTraitant(s.carnet.ctx, holder(q.recordId), q.recordId, MT);
  const author = await token(s, { as: `practitioner:${AUTHOR}` });
  const [id] = filedIds(await call(s, 'POST', '/fhir', { token: author, body: provideBundle(miniCda({ ins: q.ins, authorRpps: AUTHOR }), { patient: q }).bundle }));
  await updateSettings(s.carnet.ctx, holder(q.recordId), q.recordId, { breakGlassAllowed: false });

  const r = await erToken({ purpose_of_use: 'bris_de_glace', justification: JUSTIFICATION });
  assert.equal(r.status, 200, r.text);
  assertOutcome(await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(q)}`, { token: r.json.access_token }), 403, 'DENY_BREAK_GLASS_DISABLED');
  assertOutcome(await call(s, 'GET', `/fhir/Binary/${id}`, { token: r.json.access_token, headers: { accept: '*/*' } }), 403, 'DENY_BREAK_GLASS_DISABLED');
  const notes = await s.carnet.ctx.db.selectFrom('notifications').select('id').where('record_id', '=', q.recordId).where('kind', '=', 'emergency_access').execute();
  assert.equal(notes.length, 0);
  // the refusal is in the history the holder reads
  const h = await token(s, { as: `holder:${q.recordId}` });
  const audit = await call(s, 'GET', `/fhir/AuditEvent?patient=Patient/${q.recordId}`, { token: h });
  const refused = audit.json.entry.map((e: any) => e.resource).filter((a: any) => a.subtype[0].code === 'emergency.start');
  assert.ok(refused.length >= 1);
  assert.ok(refused.every((a: any) => a.outcome === '4' && a.outcomeDesc === 'DENY_BREAK_GLASS_DISABLED'));
  await assertAuditIntact(s);
});
