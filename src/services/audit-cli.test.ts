/**
 * Issue "record store": the audit log is hash-chained per record, and the operator's real command
 * line (`carnet audit verify`, run as a child process) names the entry that was tampered with —
 * altered or deleted directly in the database — and exits non-zero; an intact log exits 0.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { fileDocuments } from './fileDocuments.ts';
import { readDocument } from './readDocuments.ts';
import { grantConsent } from './rights.ts';
import { auditOf, holderOf, labAuthor, newRecord, professional, syntheticDocument } from './testkit.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let c: TestCarnet;
let recordId: string;

before(async () => {
  c = await openTestCarnet();
  recordId = (await newRecord(c)).recordId;
  const docs = [syntheticDocument(c, { author: { rpps: '01234534765' } }), syntheticDocument(c, { author: { rpps: '01234534765' } })];
  const filed = await fileDocuments(c.ctx, labAuthor(), { patient: { recordId }, documents: docs });
  const gp = professional('10000000017');
  await grantConsent(c.ctx, holderOf(recordId), recordId, gp.id);
  for (const d of filed.documents) await readDocument(c.ctx, gp, d.id);
  await newRecord(c); // a second chain, untouched
  assert.ok((await auditOf(c, recordId)).length >= 6);
});
after(() => c.cleanup());

/** Runs `node bin/carnet.js audit verify [args]` on the test installation. */
function cli(args: string[] = []): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CARNET_DATA: c.dataDir };
  delete env.DATABASE_URL;
  delete env.CARNET_MASTER_KEY;
  if (c.databaseUrl) env.DATABASE_URL = c.databaseUrl;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['bin/carnet.js', 'audit', 'verify', ...args], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

const entry = async (recordSeq: number) => {
  const rows = await auditOf(c, recordId);
  const row = rows.find((r) => Number(r.record_seq) === recordSeq);
  assert.ok(row, `entry #${recordSeq} exists`);
  return row;
};

test('an intact log: exit 0', async () => {
  const r = await cli();
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /audit log intact: \d+ entries in \d+ chains/);
});

test('an entry altered in the database: non-zero exit, the output names its chain, position and seq', async () => {
  const target = await entry(4);
  await sql`update audit_log set outcome = 'allow', reason = 'ALLOW_MEDECIN_TRAITANT' where seq = ${target.seq}`.execute(c.ctx.db);
  try {
    const r = await cli();
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /BROKEN/);
    assert.ok(r.out.includes(`entry #4 (seq ${target.seq}) of chain ${recordId} was altered`), r.out);
    // the JSON form says the same, and only that chain is broken
    const j = await cli(['--json']);
    assert.notEqual(j.code, 0);
    const parsed = JSON.parse(j.out) as { ok: boolean; broken: { recordId: string; recordSeq: number; seq: number; problem: string }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.broken.map((b) => [b.recordId, b.recordSeq, b.seq, b.problem]), [[recordId, 4, Number(target.seq), 'altered']]);
  } finally {
    // put it back exactly: the log verifies again
    await sql`update audit_log set outcome = ${target.outcome}, reason = ${target.reason} where seq = ${target.seq}`.execute(c.ctx.db);
  }
  assert.equal((await cli()).code, 0);
});

test('an entry deleted from the database: non-zero exit, the output names the missing position of the chain', async () => {
  const target = await entry(3);
  const next = await entry(4);
  await sql`delete from audit_log where seq = ${target.seq}`.execute(c.ctx.db);
  const r = await cli(['--record', recordId]);
  assert.notEqual(r.code, 0, r.out);
  assert.ok(r.out.includes(`entry #3 of chain ${recordId} is missing (next present entry is #4, seq ${next.seq})`), r.out);
  const all = await cli();
  assert.notEqual(all.code, 0);
  assert.ok(all.out.includes(recordId));
});
