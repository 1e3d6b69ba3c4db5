/**
 * Issue "record store", DOMAIN §3 (closure, deletion) and §8 ("deleting a record destroys its
 * key"): once a record is deleted — by the daily job after a deletion request, or at once by
 * `deleteRecordNow` — its documents cannot be decrypted by anyone, the master key's holder
 * included. A thief's copy of the sealed blob and sealed metadata taken before the deletion has no
 * key left that opens it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { openCarnet } from './carnet.ts';
import { open } from '../crypto/envelope.ts';
import { masterKeyId, decodeMasterKey } from '../crypto/keys.ts';
import { fileDocuments } from './fileDocuments.ts';
import { readDocument } from './readDocuments.ts';
import { closeRecord, deleteRecordNow, requestDeletion, runDailyJobs } from './recordLifecycle.ts';
import { rotateMasterKey } from './rotateKeys.ts';
import { aad } from './internal/repo.ts';
import {
  auditOf, cdaDocument, FIXTURE_INS, holderOf, labAuthor, newRecord, notificationsOf, OPERATOR, rejectsWith, syntheticDocument,
} from './testkit.ts';

interface Backup {
  recordId: string;
  docs: { id: string; blob: Buffer; meta: Buffer; plaintext: Buffer }[];
  holderEnc: Buffer;
  wrappedKey: Buffer;
  masterKeyId: string;
  /** Wrapped key of another record, which must survive (the positive control of the byte search). */
  bystanderKey: Buffer;
}

/** A record with a real CDA and a second document; returns what a backup thief would copy. */
async function recordWithDocuments(c: TestCarnet): Promise<Backup> {
  const { recordId } = await newRecord(c, { ins: FIXTURE_INS, birthName: 'EFFACEMENT' });
  const cda = cdaDocument('BIO-CR-BIO_2024.01_TSH_1.xml');
  const other = syntheticDocument(c, { author: { rpps: '01234534765', finess: '120459876' } });
  const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: [cda, other] });
  const docs = [];
  for (const [i, d] of filed.documents.entries()) {
    const row = await c.ctx.db.selectFrom('documents').selectAll().where('id', '=', d.id).executeTakeFirstOrThrow();
    const blob = await c.ctx.db.selectFrom('blobs').select('data').where('id', '=', row.blob_id).executeTakeFirstOrThrow();
    docs.push({ id: d.id, blob: Buffer.from(blob.data), meta: Buffer.from(row.meta_enc), plaintext: [cda, other][i].bytes });
  }
  const rec = await c.ctx.db.selectFrom('records').select('holder_enc').where('id', '=', recordId).executeTakeFirstOrThrow();
  const key = await c.ctx.db.selectFrom('record_keys').selectAll().where('record_id', '=', recordId).executeTakeFirstOrThrow();
  const bystander = await newRecord(c);
  const bKey = await c.ctx.db.selectFrom('record_keys').selectAll().where('record_id', '=', bystander.recordId).executeTakeFirstOrThrow();
  return {
    recordId, docs, holderEnc: Buffer.from(rec.holder_enc!), wrappedKey: Buffer.from(key.wrapped_key), masterKeyId: key.master_key_id,
    bystanderKey: Buffer.from(bKey.wrapped_key),
  };
}

/** The master key as the operator has it (the file provider's key file). */
function masterKeyOf(c: TestCarnet): Buffer {
  return decodeMasterKey(readFileSync(join(c.dataDir, 'master.key'), 'utf8'), 'master.key');
}

/** Every key one could try from the master key: itself and the usual derivations per record. */
function candidateKeys(master: Buffer, recordId: string): Buffer[] {
  const sha = (...parts: (Buffer | string)[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
  return [
    master,
    sha(master),
    sha(master, recordId),
    sha(recordId, master),
    Buffer.from(hkdfSync('sha256', master, Buffer.from(recordId), Buffer.alloc(0), 32)),
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from(recordId), 32)),
  ];
}

const opens = (key: Buffer, sealed: Buffer, ad: string) => {
  try {
    open(key, sealed, ad);
    return true;
  } catch {
    return false;
  }
};

/** Before deletion, the backup does open — through the wrapped record key, the only path. */
function assertBackupOpensThroughRecordKey(c: TestCarnet, b: Backup) {
  const dataKey = c.keyProvider.unwrap(b.masterKeyId, b.wrappedKey, b.recordId);
  for (const d of b.docs) {
    assert.ok(open(dataKey, d.blob, aad.blob(b.recordId, d.id)).equals(d.plaintext));
    assert.ok(opens(dataKey, d.meta, aad.docMeta(b.recordId, d.id)));
  }
  // and the master key alone (or anything derived from it) never opened content directly
  for (const k of candidateKeys(masterKeyOf(c), b.recordId)) {
    for (const d of b.docs) assert.equal(opens(k, d.blob, aad.blob(b.recordId, d.id)), false);
  }
}

async function assertShredded(c: TestCarnet, b: Backup) {
  const db = c.ctx.db;
  // the service answers "gone" or "not found", for the holder as for anyone
  for (const d of b.docs) {
    const e = await rejectsWith(readDocument(c.ctx, holderOf(b.recordId), d.id), 'DOCUMENT_UNKNOWN');
    assert.ok(e.kind === 'not_found' || e.kind === 'gone');
  }
  const rec = await db.selectFrom('records').selectAll().where('id', '=', b.recordId).executeTakeFirstOrThrow();
  assert.equal(rec.state, 'deleted');
  assert.equal(rec.holder_enc, null);
  assert.equal(rec.activation_code_hash, null);
  // the wrapped key is gone, and so is everything sealed under it
  assert.equal(await db.selectFrom('record_keys').select('record_id').where('record_id', '=', b.recordId).executeTakeFirst(), undefined);
  for (const table of ['documents', 'blobs', 'submission_sets', 'record_persons', 'emergency_sessions'] as const) {
    const n = await db.selectFrom(table).select('record_id').where('record_id', '=', b.recordId).execute();
    assert.equal(n.length, 0, `${table} still holds rows of the deleted record`);
  }
  await rejectsWith(c.ctx.keys.get(db, b.recordId), 'RECORD_KEY_DESTROYED', 'gone');

  // the backup thief's copies: no key the provider knows opens them, nor anything derived from it
  assert.deepEqual(c.keyProvider.knownKeyIds(), [masterKeyId(masterKeyOf(c))], 'the provider knows exactly the key file');
  for (const d of b.docs) {
    for (const k of candidateKeys(masterKeyOf(c), b.recordId)) {
      assert.equal(opens(k, d.blob, aad.blob(b.recordId, d.id)), false);
      assert.equal(opens(k, d.meta, aad.docMeta(b.recordId, d.id)), false);
      assert.equal(opens(k, b.holderEnc, aad.holder(b.recordId)), false);
    }
    // treating the sealed blob as if it were a wrapped key does not help either
    for (const id of c.keyProvider.knownKeyIds()) {
      assert.throws(() => c.keyProvider.unwrap(id, d.blob, b.recordId), { code: 'CRYPTO_OPEN_FAILED' });
      assert.throws(() => c.keyProvider.unwrap(id, d.meta, b.recordId), { code: 'CRYPTO_OPEN_FAILED' });
    }
  }
  // a fresh process on the same data dir (no key cache) cannot get the record key back
  const again = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl });
  try {
    await rejectsWith(again.ctx.keys.get(again.ctx.db, b.recordId), 'RECORD_KEY_DESTROYED', 'gone');
  } finally {
    await again.close();
  }
  // on SQLite, no copy of the wrapped key survives in the database file or its WAL
  if (c.ctx.engine === 'sqlite') {
    const file = c.database.file!;
    const bytes = [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
    assert.ok(bytes.some((x) => x.includes(b.bystanderKey)), 'the search finds a live wrapped key');
    assert.equal(bytes.some((x) => x.includes(b.wrappedKey)), false, 'the destroyed wrapped key is still in the database file or its WAL');
  }
  // on PostgreSQL, the table's heap file no longer holds it either: read after a checkpoint
  // flushed the pages, which takes a superuser (the test server's `postgres`); with a restricted
  // role only the row-level checks above apply
  const su = c.ctx.engine === 'postgres' && (await sql<{ s: boolean }>`select rolsuper as s from pg_roles where rolname = current_user`.execute(db)).rows[0]?.s;
  if (su) {
    await sql`checkpoint`.execute(db);
    const heap = await sql<{ b: Buffer }>`select pg_read_binary_file(pg_relation_filepath('record_keys')) as b`.execute(db);
    assert.ok(Buffer.from(heap.rows[0].b).includes(b.bystanderKey), 'the search finds a live wrapped key');
    assert.equal(Buffer.from(heap.rows[0].b).includes(b.wrappedKey), false, 'the destroyed wrapped key is still in the record_keys heap');
  }
  // one effective deletion; refused attempts (if any) are audited beside it as denials
  const deleted = (await auditOf(c, b.recordId, { action: 'record.delete' })).filter((e) => e.outcome === 'success');
  assert.equal(deleted.length, 1);
  assert.equal((await notificationsOf(c, b.recordId, 'record_deleted')).length, 1);
}

test('close + deletion request + daily job: the record key is destroyed and nothing opens again', async () => {
  const c = await openTestCarnet();
  try {
    const b = await recordWithDocuments(c);
    assertBackupOpensThroughRecordKey(c, b);
    const holder = holderOf(b.recordId);
    await closeRecord(c.ctx, holder, b.recordId);
    await requestDeletion(c.ctx, holder, b.recordId);
    // not yet deleted: the request is due, the job has not run
    assert.ok((await readDocument(c.ctx, holder, b.docs[0].id)).bytes.equals(b.docs[0].plaintext));
    c.advance(60_000);
    const job = await runDailyJobs(c.ctx);
    assert.deepEqual(job.applied, [{ recordId: b.recordId, event: 'delete' }]);
    await assertShredded(c, b);
  } finally {
    await c.cleanup();
  }
});

test('deleteRecordNow after the deletion request: the same shredding, without the job', async () => {
  const c = await openTestCarnet();
  try {
    const b = await recordWithDocuments(c);
    const holder = holderOf(b.recordId);
    // effective deletion is the operator's (§3): the holder asks for it, and cannot force it
    await rejectsWith(deleteRecordNow(c.ctx, holder, b.recordId), 'DENY_NOT_OPERATOR', 'forbidden');
    // refused on an active record (typed error) and nothing is destroyed
    await rejectsWith(deleteRecordNow(c.ctx, OPERATOR, b.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION', 'conflict');
    assert.ok((await readDocument(c.ctx, holder, b.docs[1].id)).bytes.equals(b.docs[1].plaintext));
    await closeRecord(c.ctx, holder, b.recordId);
    // closed but not yet due: still refused
    await rejectsWith(deleteRecordNow(c.ctx, OPERATOR, b.recordId), 'LIFECYCLE_ILLEGAL_TRANSITION');
    await requestDeletion(c.ctx, holder, b.recordId);
    const r = await deleteRecordNow(c.ctx, OPERATOR, b.recordId);
    assert.equal(r.state, 'deleted');
    await assertShredded(c, b);
  } finally {
    await c.cleanup();
  }
});

test('a backup that also copied the wrapped record key stops opening once the master key is rotated', async () => {
  // Crypto-shredding deletes the wrapped key; a backup taken before the deletion still holds it,
  // and the master key unwraps it until that master key is retired. Rotation retires it.
  const c = await openTestCarnet();
  try {
    const b = await recordWithDocuments(c);
    const holder = holderOf(b.recordId);
    await closeRecord(c.ctx, holder, b.recordId);
    await requestDeletion(c.ctx, holder, b.recordId);
    await deleteRecordNow(c.ctx, OPERATOR, b.recordId);
    const dataKey = c.keyProvider.unwrap(b.masterKeyId, b.wrappedKey, b.recordId);
    assert.ok(open(dataKey, b.docs[0].blob, aad.blob(b.recordId, b.docs[0].id)).equals(b.docs[0].plaintext), 'documented limitation');
    await rotateMasterKey(c.ctx, c.keyProvider);
    for (const id of c.keyProvider.knownKeyIds()) {
      assert.throws(() => c.keyProvider.unwrap(id, b.wrappedKey, b.recordId), { code: 'CRYPTO_OPEN_FAILED' });
    }
    assert.throws(() => c.keyProvider.unwrap(b.masterKeyId, b.wrappedKey, b.recordId), { code: 'MASTER_KEY_UNKNOWN' });
    for (const k of candidateKeys(masterKeyOf(c), b.recordId)) {
      assert.equal(opens(k, b.wrappedKey, `wrap:${b.recordId}`), false);
      assert.equal(opens(k, b.docs[0].blob, aad.blob(b.recordId, b.docs[0].id)), false);
    }
  } finally {
    await c.cleanup();
  }
});
