import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../store/testing.ts';
import { appendAudit, startChain, verifyAudit } from './audit.ts';

let c: TestCarnet;
before(async () => {
  c = await openTestCarnet();
});
after(() => c.cleanup());

test('concurrent transactions appending to one chain keep it whole, and returned seqs are the rows written', async () => {
  await c.ctx.db.transaction().execute((trx) => startChain(trx, 'rec-conc'));
  const seqs = await Promise.all(
    Array.from({ length: 24 }, (_, i) =>
      c.ctx.db.transaction().execute((trx) =>
        appendAudit(trx, c.ctx.engine, {
          recordId: 'rec-conc', actor: { kind: 'professional', id: '10000000001', name: 'Dr Test' }, action: 'document.read',
          documentId: `doc-${i}`, outcome: 'allow', reason: 'ALLOW_CONSENT', at: new Date(Date.UTC(2026, 0, 1, 0, i)),
        }),
      ),
    ),
  );
  const v = await verifyAudit(c.ctx.db, { recordId: 'rec-conc' });
  assert.equal(v.ok, true, JSON.stringify(v.broken));
  assert.equal(v.entries, 24);
  const rows = await c.ctx.db.selectFrom('audit_log').select(['seq', 'document_id', 'record_seq']).where('record_id', '=', 'rec-conc').execute();
  const bySeq = new Map(rows.map((r) => [Number(r.seq), r.document_id]));
  seqs.forEach((s, i) => assert.equal(bySeq.get(s), `doc-${i}`));
  assert.deepEqual(rows.map((r) => Number(r.record_seq)).sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i + 1));
  const head = await c.ctx.db.selectFrom('audit_heads').selectAll().where('record_id', '=', 'rec-conc').executeTakeFirstOrThrow();
  assert.equal(Number(head.last_seq), 24);
});

test('a rolled-back append leaves the head where it was', async () => {
  await c.ctx.db.transaction().execute((trx) => startChain(trx, 'rec-rb'));
  const entry = { recordId: 'rec-rb', actor: { kind: 'operator', id: 'op', name: 'Op' }, action: 'x', outcome: 'success' as const, at: new Date() };
  await c.ctx.db.transaction().execute((trx) => appendAudit(trx, c.ctx.engine, entry));
  await assert.rejects(
    c.ctx.db.transaction().execute(async (trx) => {
      await appendAudit(trx, c.ctx.engine, entry);
      throw new Error('undo');
    }),
  );
  await c.ctx.db.transaction().execute((trx) => appendAudit(trx, c.ctx.engine, entry));
  const v = await verifyAudit(c.ctx.db, { recordId: 'rec-rb' });
  assert.equal(v.ok, true, JSON.stringify(v.broken));
  assert.equal(v.entries, 2);
});
