/**
 * Issue "record store", DOMAIN §8: each record's content is sealed under its own key. A real CDA
 * is filed for a holder with a distinctive name, then the raw storage is searched byte by byte —
 * the SQLite file and its WAL, or every text/bytea column of every PostgreSQL table — for a phrase
 * of the document's text, the patient's name inside the CDA and the holder's name: none is found.
 * The same search finds what is deliberately stored in clear (the LOINC type code, the INS), which
 * proves the search can see.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { fileDocuments } from './fileDocuments.ts';
import { readDocument } from './readDocuments.ts';
import { addPerson } from './persons.ts';
import { startEmergency } from './emergency.ts';
import { cdaDocument, FIXTURE_INS, holderOf, labAuthor, newRecord, professional } from './testkit.ts';

const FIXTURE = 'BIO-CR-BIO_2024.01_TSH_1.xml';
/** Phrases of the document's text (the table header and a result label of the lab report). */
const DOC_PHRASES = ['BILAN THYROIDIEN', 'Thyréostimuline (TSH)'];
/** The patient's name as written inside the CDA header. */
const CDA_PATIENT_NAME = 'PAT-TROIS';
/** The holder's name as loaded by the operator, and a caregiver's name. */
const HOLDER_BIRTH_NAME = 'QUIMPERLEZ-VANDAMOUR';
const HOLDER_FIRST_NAME = 'Eulalie-Philomène';
const CAREGIVER_NAME = 'Zéphyrin OSTROGORSKI';
const JUSTIFICATION = 'patient inconscient aux urgences, suspicion de surdosage';

let c: TestCarnet;
let recordId: string;
let documentId: string;

before(async () => {
  c = await openTestCarnet();
  const r = await newRecord(c, { ins: FIXTURE_INS, birthName: HOLDER_BIRTH_NAME, firstName: HOLDER_FIRST_NAME });
  recordId = r.recordId;
  const { bytes, metadata } = cdaDocument(FIXTURE);
  // the phrases really are in the document we file (otherwise finding nothing proves nothing)
  for (const p of [...DOC_PHRASES, CDA_PATIENT_NAME]) assert.ok(bytes.includes(Buffer.from(p, 'utf8')), `fixture lacks ${p}`);
  const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { ins: FIXTURE_INS, oid: '1.2.250.1.213.1.4.10' }, documents: [{ metadata, bytes }] });
  documentId = filed.documents[0].id;
  // more sealed personal data: a caregiver's name and a break-glass justification
  await addPerson(c.ctx, holderOf(recordId), recordId, { kind: 'caregiver', ins: '277076322082910', insOid: '1.2.250.1.213.1.4.10', name: CAREGIVER_NAME });
  await startEmergency(c.ctx, professional('10000000041'), recordId, 'bris_de_glace', JUSTIFICATION);
  // the filed content is intact for an allowed reader, so it is in the store — only sealed
  const read = await readDocument(c.ctx, holderOf(recordId), documentId);
  assert.ok(read.bytes.equals(bytes));
});
after(() => c.cleanup());

const needles = () => ({
  secret: [...DOC_PHRASES, CDA_PATIENT_NAME, HOLDER_BIRTH_NAME, HOLDER_FIRST_NAME, CAREGIVER_NAME, JUSTIFICATION],
  clear: ['11502-2', FIXTURE_INS, documentId],
});

/** Every representation a phrase could take in storage: UTF-8, Latin-1, UTF-16LE. */
function encodings(s: string): Buffer[] {
  return [Buffer.from(s, 'utf8'), Buffer.from(s, 'latin1'), Buffer.from(s, 'utf16le')];
}

/** The raw bytes the engine keeps: SQLite file + WAL, or every text/bytea value of PostgreSQL. */
async function rawStorage(): Promise<Buffer[]> {
  if (c.ctx.engine === 'sqlite') {
    const file = c.database.file!;
    const parts = [readFileSync(file)];
    for (const extra of [`${file}-wal`, `${file}-journal`]) if (existsSync(extra)) parts.push(readFileSync(extra));
    return parts;
  }
  const cols = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = 'public' and data_type in ('text', 'bytea', 'character varying', 'json', 'jsonb', 'character')
    order by table_name, ordinal_position`.execute(c.ctx.db);
  assert.ok(cols.rows.some((r) => r.table_name === 'blobs' && r.data_type === 'bytea'), 'the scan must cover the blobs');
  const out: Buffer[] = [];
  for (const col of cols.rows) {
    const rows = await sql<{ v: Buffer | string | null }>`select ${sql.ref(`${col.table_name}.${col.column_name}`)}::${sql.raw(col.data_type === 'bytea' ? 'bytea' : 'text')} as v from ${sql.table(col.table_name)}`.execute(c.ctx.db);
    for (const r of rows.rows) {
      if (r.v === null) continue;
      out.push(Buffer.isBuffer(r.v) ? r.v : Buffer.from(r.v, 'utf8'));
    }
  }
  return out;
}

const found = (storage: Buffer[], s: string) => storage.some((b) => encodings(s).some((e) => b.includes(e)));

test('the raw storage holds neither the document text nor any name (on either engine)', async () => {
  const storage = await rawStorage();
  assert.ok(storage.reduce((n, b) => n + b.length, 0) > 20_000, 'the scan read the stored bytes');
  const { secret, clear } = needles();
  // the search sees what is stored in clear …
  for (const s of clear) assert.ok(found(storage, s), `search should find clear value ${s}`);
  // … and none of the personal data
  for (const s of secret) assert.equal(found(storage, s), false, `found "${s}" in clear in the storage`);
  if (c.ctx.engine === 'sqlite') {
    // once the WAL is copied back, the database file alone is still clean
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(c.ctx.db);
    const main = [readFileSync(c.database.file!)];
    for (const s of clear) assert.ok(found(main, s), `search should find clear value ${s} in the checkpointed file`);
    for (const s of secret) assert.equal(found(main, s), false, `found "${s}" in the checkpointed database file`);
  }
});

test('the sealed columns are ciphertext: neither the document bytes nor the holder row show their structure', async () => {
  const blob = await c.ctx.db.selectFrom('blobs').select('data').where('record_id', '=', recordId).executeTakeFirstOrThrow();
  const data = Buffer.from(blob.data);
  assert.equal(data[0], 1, 'sealed values start with the envelope version');
  assert.equal(data.includes(Buffer.from('<ClinicalDocument')), false);
  assert.equal(data.includes(Buffer.from('urn:hl7-org:v3')), false);
  const rec = await c.ctx.db.selectFrom('records').select('holder_enc').where('id', '=', recordId).executeTakeFirstOrThrow();
  assert.ok(rec.holder_enc && !Buffer.from(rec.holder_enc).includes(Buffer.from('birthName')));
});
