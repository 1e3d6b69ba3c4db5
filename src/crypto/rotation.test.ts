/**
 * Issue "record store", DOMAIN §8: record keys are wrapped by a master key the database never
 * sees, and `rotateMasterKey` (`carnet keys rotate`) moves every wrapped key to a new master key
 * without touching a single sealed document. Both key sources: the key file and CARNET_MASTER_KEY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { openCarnet } from '../services/carnet.ts';
import { rotateMasterKey } from '../services/rotateKeys.ts';
import { fileDocuments } from '../services/fileDocuments.ts';
import { readDocument } from '../services/readDocuments.ts';
import { open } from './envelope.ts';
import { decodeMasterKey, masterKeyId, prepareNextKeyFile, StaticKeyProvider } from './keys.ts';
import { holderOf, labAuthor, newRecord, rejectsWith, syntheticDocument } from '../services/testkit.ts';

interface Population {
  docs: { recordId: string; id: string; bytes: Buffer }[];
  records: string[];
}

/** Three records, two of them with documents, one without. */
async function populate(c: TestCarnet): Promise<Population> {
  const docs: Population['docs'] = [];
  const records: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { recordId } = await newRecord(c);
    records.push(recordId);
    if (i === 2) continue;
    const inputs = [syntheticDocument(c, { text: `doc A ${i}` }), syntheticDocument(c, { text: `doc B ${i}` })];
    const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: inputs });
    filed.documents.forEach((d, k) => docs.push({ recordId, id: d.id, bytes: inputs[k].bytes }));
  }
  return { docs, records };
}

/** Every sealed column of the store, to prove rotation leaves them alone. */
async function sealedColumns(c: { ctx: TestCarnet['ctx'] }) {
  const db = c.ctx.db;
  const docs = await db.selectFrom('documents').select(['id', 'meta_enc']).orderBy('id').execute();
  const blobs = await db.selectFrom('blobs').select(['id', 'data']).orderBy('id').execute();
  const holders = await db.selectFrom('records').select(['id', 'holder_enc']).orderBy('id').execute();
  const subs = await db.selectFrom('submission_sets').select(['id', 'meta_enc']).orderBy('id').execute();
  const hex = (b: Buffer | null) => (b ? Buffer.from(b).toString('hex') : null);
  return {
    docs: docs.map((d) => [d.id, hex(d.meta_enc)]),
    blobs: blobs.map((b) => [b.id, hex(b.data)]),
    holders: holders.map((h) => [h.id, hex(h.holder_enc)]),
    subs: subs.map((s) => [s.id, hex(s.meta_enc)]),
  };
}

const keyRows = (c: { ctx: TestCarnet['ctx'] }) => c.ctx.db.selectFrom('record_keys').selectAll().orderBy('record_id').execute();

async function assertReadable(c: { ctx: TestCarnet['ctx'] }, pop: Population) {
  for (const d of pop.docs) {
    const r = await readDocument(c.ctx, holderOf(d.recordId), d.id);
    assert.ok(r.bytes.equals(d.bytes), 'document bytes unchanged after rotation');
  }
}

test('key file: every record key re-wrapped, documents untouched and readable with only the new key file', async () => {
  const c = await openTestCarnet();
  try {
    const pop = await populate(c);
    const keyFile = join(c.dataDir, 'master.key');
    const oldKey = decodeMasterKey(readFileSync(keyFile, 'utf8'), keyFile);
    const oldId = masterKeyId(oldKey);
    const sealedBefore = await sealedColumns(c);
    const keysBefore = await keyRows(c);
    assert.equal(keysBefore.length, 3);
    assert.ok(keysBefore.every((k) => k.master_key_id === oldId));

    const r = await rotateMasterKey(c.ctx, c.keyProvider);
    assert.equal(r.rewrapped, 3, 'one re-wrap per record key');
    assert.deepEqual(r.from, [oldId]);
    assert.notEqual(r.to, oldId);

    // the key file now holds the new key, 0600, and the rotation left no `.next` behind
    const newKey = decodeMasterKey(readFileSync(keyFile, 'utf8'), keyFile);
    assert.equal(masterKeyId(newKey), r.to);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(existsSync(`${keyFile}.next`), false);
    assert.deepEqual(c.keyProvider.knownKeyIds(), [r.to], 'the running process forgot the old key');

    const keysAfter = await keyRows(c);
    assert.deepEqual(keysAfter.map((k) => k.record_id), keysBefore.map((k) => k.record_id));
    for (const [i, k] of keysAfter.entries()) {
      assert.equal(k.master_key_id, r.to);
      assert.equal(Buffer.from(k.wrapped_key).equals(Buffer.from(keysBefore[i].wrapped_key)), false, 're-wrapped');
      // the old master key opens none of the new wraps, directly or through a provider
      assert.throws(() => open(oldKey, Buffer.from(k.wrapped_key), `wrap:${k.record_id}`), { code: 'CRYPTO_OPEN_FAILED' });
      const oldProvider = new StaticKeyProvider(oldKey);
      assert.throws(() => oldProvider.unwrap(k.master_key_id, Buffer.from(k.wrapped_key), k.record_id), { code: 'MASTER_KEY_UNKNOWN' });
      assert.throws(() => oldProvider.unwrap(oldId, Buffer.from(k.wrapped_key), k.record_id), { code: 'CRYPTO_OPEN_FAILED' });
      // the new key does: same data key as before
      assert.ok(open(newKey, Buffer.from(k.wrapped_key), `wrap:${k.record_id}`).equals(open(oldKey, Buffer.from(keysBefore[i].wrapped_key), `wrap:${k.record_id}`)));
    }
    // not one sealed document, blob, holder row or submission was rewritten
    assert.deepEqual(await sealedColumns(c), sealedBefore);
    const audit = await c.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'keys.rotate').execute();
    assert.equal(audit.length, 1);
    assert.deepEqual(JSON.parse(audit[0].detail!), { to: r.to, rewrapped: 3 });

    // a new process on the same data dir, with only the new key file, reads everything
    const reopened = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl });
    try {
      assert.deepEqual(reopened.keyProvider.knownKeyIds(), [r.to]);
      await assertReadable(reopened, pop);
    } finally {
      await reopened.close();
    }
    // and a process holding only the old key reads nothing
    const withOld = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl, masterKey: oldKey.toString('base64') });
    try {
      await rejectsWith(readDocument(withOld.ctx, holderOf(pop.docs[0].recordId), pop.docs[0].id), 'MASTER_KEY_UNKNOWN');
    } finally {
      await withOld.close();
    }
    // a key file others can read is refused at start
    chmodSync(keyFile, 0o644);
    await rejectsWith(openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl }), 'MASTER_KEY_FILE_MODE');
    chmodSync(keyFile, 0o600);
  } finally {
    await c.cleanup();
  }
});

test('an interrupted rotation: both keys load meanwhile, and rerunning finishes the remaining keys only', async () => {
  const c = await openTestCarnet();
  try {
    const pop = await populate(c);
    const keyFile = join(c.dataDir, 'master.key');
    // the crash happened after the new key was written and one record key moved
    const next = prepareNextKeyFile(keyFile);
    assert.equal(statSync(`${keyFile}.next`).mode & 0o777, 0o600);
    const [first] = await keyRows(c);
    const dataKey = c.keyProvider.unwrap(first.master_key_id, Buffer.from(first.wrapped_key), first.record_id);
    const moved = new StaticKeyProvider(next).wrap(dataKey, first.record_id);
    await c.ctx.db.updateTable('record_keys').set({ wrapped_key: moved.wrapped, master_key_id: moved.keyId }).where('record_id', '=', first.record_id).execute();

    const restarted = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl });
    try {
      assert.equal(restarted.keyProvider.knownKeyIds().length, 2);
      await assertReadable(restarted, pop);
      const r = await rotateMasterKey(restarted.ctx, restarted.keyProvider);
      assert.equal(r.to, masterKeyId(next));
      assert.equal(r.rewrapped, 2, 'only the keys not yet moved');
      assert.ok((await keyRows(restarted)).every((k) => k.master_key_id === r.to));
      await assertReadable(restarted, pop);
    } finally {
      await restarted.close();
    }
    assert.equal(existsSync(`${keyFile}.next`), false);
    assert.equal(masterKeyId(decodeMasterKey(readFileSync(keyFile, 'utf8'), keyFile)), masterKeyId(next));
  } finally {
    await c.cleanup();
  }
});

test('environment key (CARNET_MASTER_KEY): rotation needs the new key given, and writes no key file', async () => {
  const oldB64 = randomBytes(32).toString('base64');
  const newB64 = randomBytes(32).toString('base64');
  const c = await openTestCarnet({ masterKey: oldB64 });
  try {
    assert.equal(existsSync(join(c.dataDir, 'master.key')), false, 'no key file in env mode');
    const pop = await populate(c);
    const sealedBefore = await sealedColumns(c);
    await assert.rejects(rotateMasterKey(c.ctx, c.keyProvider), /CARNET_NEW_MASTER_KEY/);
    assert.ok((await keyRows(c)).every((k) => k.master_key_id === masterKeyId(Buffer.from(oldB64, 'base64'))));
    await rejectsWith(rotateMasterKey(c.ctx, c.keyProvider, { newKeyBase64: 'dG9vIHNob3J0' }), 'MASTER_KEY_INVALID');

    const r = await rotateMasterKey(c.ctx, c.keyProvider, { newKeyBase64: newB64 });
    assert.equal(r.rewrapped, 3);
    assert.equal(r.to, masterKeyId(Buffer.from(newB64, 'base64')));
    assert.ok((await keyRows(c)).every((k) => k.master_key_id === r.to));
    assert.deepEqual(await sealedColumns(c), sealedBefore);
    assert.equal(existsSync(join(c.dataDir, 'master.key')), false);
    assert.equal(existsSync(join(c.dataDir, 'master.key.next')), false);

    const withNew = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl, masterKey: newB64 });
    try {
      await assertReadable(withNew, pop);
    } finally {
      await withNew.close();
    }
    const withOld = await openCarnet({ dataDir: c.dataDir, databaseUrl: c.databaseUrl, masterKey: oldB64 });
    try {
      await rejectsWith(readDocument(withOld.ctx, holderOf(pop.docs[1].recordId), pop.docs[1].id), 'MASTER_KEY_UNKNOWN');
    } finally {
      await withOld.close();
    }
  } finally {
    await c.cleanup();
  }
});
