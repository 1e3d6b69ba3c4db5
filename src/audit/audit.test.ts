import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { appendAudit, startChain, verifyAudit } from './audit.ts';

let c: TestCarnet;
before(async () => {
  c = await openTestCarnet();
});
after(() => c.cleanup());

async function seedChain(recordId: string, n: number) {
  await c.ctx.db.transaction().execute(async (trx) => {
    await startChain(trx, recordId);
    for (let i = 0; i < n; i++) {
      await appendAudit(trx, c.ctx.engine, {
        recordId,
        actor: { kind: 'professional', id: '10000000001', name: 'Dr Test' },
        action: 'document.read',
        documentId: `doc-${i}`,
        outcome: i % 2 ? 'deny' : 'allow',
        reason: i % 2 ? 'DENY_MATRIX' : 'ALLOW_CONSENT',
        at: new Date(Date.UTC(2026, 0, 1, 0, i)),
      });
    }
  });
}

test('an untouched chain verifies', async () => {
  await seedChain('rec-ok', 5);
  const r = await verifyAudit(c.ctx.db, { recordId: 'rec-ok' });
  assert.equal(r.ok, true);
  assert.equal(r.entries, 5);
});

test('a person actor never has a name stored', async () => {
  await c.ctx.db.transaction().execute(async (trx) => {
    await startChain(trx, 'rec-holder');
    await appendAudit(trx, c.ctx.engine, {
      recordId: 'rec-holder', actor: { kind: 'holder', id: 'rec-holder', name: 'Jeanne Dupont' },
      action: 'document.read', outcome: 'allow', at: new Date(),
    });
  });
  const row = await c.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', 'rec-holder').executeTakeFirstOrThrow();
  assert.equal(row.actor_name, null);
});

test('an entry altered directly in the database is named by verify', async () => {
  await seedChain('rec-alt', 6);
  const third = await c.ctx.db.selectFrom('audit_log').select('seq').where('record_id', '=', 'rec-alt').where('record_seq', '=', 3).executeTakeFirstOrThrow();
  await sql`update audit_log set reason = 'ALLOW_MEDECIN_TRAITANT' where seq = ${third.seq}`.execute(c.ctx.db);
  const r = await verifyAudit(c.ctx.db, { recordId: 'rec-alt' });
  assert.equal(r.ok, false);
  assert.equal(r.broken[0].problem, 'altered');
  assert.equal(r.broken[0].recordSeq, 3);
  assert.equal(r.broken[0].seq, Number(third.seq));
});

test('an entry deleted from the middle is named by verify', async () => {
  await seedChain('rec-del', 6);
  await sql`delete from audit_log where record_id = 'rec-del' and record_seq = 4`.execute(c.ctx.db);
  const r = await verifyAudit(c.ctx.db, { recordId: 'rec-del' });
  assert.equal(r.ok, false);
  assert.equal(r.broken[0].problem, 'missing');
  assert.equal(r.broken[0].recordSeq, 4);
});

test('the last entry deleted is detected through the chain head', async () => {
  await seedChain('rec-tail', 3);
  await sql`delete from audit_log where record_id = 'rec-tail' and record_seq = 3`.execute(c.ctx.db);
  const r = await verifyAudit(c.ctx.db, { recordId: 'rec-tail' });
  assert.equal(r.ok, false);
  assert.equal(r.broken[0].recordSeq, 3);
});

test('an entry rewritten with a recomputed own hash still breaks the link to the next', async () => {
  await seedChain('rec-rehash', 4);
  const { entryHash } = await import('./audit.ts');
  const row = await c.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', 'rec-rehash').where('record_seq', '=', 2).executeTakeFirstOrThrow();
  const { seq, hash: _h, ...fields } = row;
  const forged = { ...fields, outcome: 'allow' };
  await c.ctx.db.updateTable('audit_log').set({ outcome: 'allow', hash: entryHash(forged) }).where('seq', '=', seq).execute();
  const r = await verifyAudit(c.ctx.db, { recordId: 'rec-rehash' });
  assert.equal(r.ok, false);
  assert.equal(r.broken[0].problem, 'link_broken');
  assert.equal(r.broken[0].recordSeq, 3);
});
