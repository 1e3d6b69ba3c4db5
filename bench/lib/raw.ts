/**
 * The raw baseline: what the engine alone does with the same rows and the same queries, straight
 * through the driver (better-sqlite3 / pg) in this process — no HTTP, no token, no crypto, no
 * access decision, no audit chain logic, no JSON mapping. Run on the benchmark's own database after
 * Carnet's server has stopped, with the pragmas (SQLite) or pool size (PostgreSQL, 10) Carnet uses.
 *
 * - consult: per pair, the record by INS + the ITI-67 list query (`documents` of the record, status
 *   current/superseded, not archived, created in the last 2 years, newest first), then the document
 *   row by id + its blob: the reads one ITI-67 + one ITI-68 make, minus everything else.
 * - feed: per document, one transaction inserting the rows a filing writes (document, blob of the
 *   same size, submission set, audit entry with its chain-head update, notification), values
 *   precomputed.
 */
import { randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { BenchStore } from './store.ts';
import type { Population } from './dataset.ts';
import { percentiles, type LatencyStats } from './load.ts';
import { startWindow, type CpuWindow } from './probes.ts';
import { personalise, tagOf, documentBytes, type CdaTemplate } from './cda.ts';

export interface RawResult {
  scenario: 'consult' | 'feed';
  engine: string;
  /** Operations per second, counted like the HTTP scenario (consult: 2 per pair; feed: documents). */
  rps: number;
  operations: number;
  seconds: number;
  concurrency: number;
  latencyMs: LatencyStats;
  cpu: CpuWindow;
  what: string;
}

interface RawOpts {
  seconds: number;
  concurrency: number;
  warmupSeconds: number;
  pgUrl: string;
}

type Op = () => void | Promise<void>;

function openSqlite(file: string) {
  const db = new SQLite(file);
  // the pragmas of src/store/db.ts
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('secure_delete = ON');
  return db;
}

/** Runs `op` for `seconds` from `concurrency` workers (1 for a synchronous engine); each op timed. */
async function loop(seconds: number, concurrency: number, op: Op, sync: boolean, perOp: number) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  if (sync) {
    while (performance.now() < end) {
      const s = performance.now();
      op();
      latencies.push(performance.now() - s);
    }
  } else {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const s = performance.now();
          await op();
          latencies.push(performance.now() - s);
        }
      }),
    );
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { operations: latencies.length * perOp, seconds: elapsed, latencies };
}

async function measure(store: BenchStore, opts: RawOpts, op: Op, sync: boolean, perOp: number) {
  if (opts.warmupSeconds) await loop(opts.warmupSeconds, opts.concurrency, op, sync, perOp);
  const w = await startWindow({ pg: store.dbName ? { adminUrl: opts.pgUrl, dbName: store.dbName } : undefined });
  const r = await loop(opts.seconds, opts.concurrency, op, sync, perOp);
  const cpu = await w.stop();
  return { ...r, cpu };
}

type Measured = Awaited<ReturnType<typeof measure>>;

/** What a raw run reports (SQLite's synchronous driver always runs one caller). */
const rawResult = (scenario: RawResult['scenario'], store: BenchStore, opts: RawOpts, res: Measured, what: string): RawResult => ({
  scenario, engine: store.engine, rps: Math.round((res.operations / res.seconds) * 10) / 10, operations: res.operations,
  seconds: res.seconds, concurrency: store.engine === 'sqlite' ? 1 : opts.concurrency, latencyMs: percentiles(res.latencies), cpu: res.cpu,
  what,
});

const LIST_SQL_SQLITE =
  'select * from documents where record_id = ? and status in (?, ?) and archived = ? and creation_time >= ? order by creation_time desc';
const LIST_SQL_PG =
  'select * from documents where record_id = $1 and status in ($2, $3) and archived = $4 and creation_time >= $5 order by creation_time desc';

const twoYearsAgo = () => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() - 2);
  return d.toISOString();
};

export async function rawConsult(store: BenchStore, pop: Pick<Population, 'records'>, opts: RawOpts): Promise<RawResult> {
  const records = pop.records.filter((r) => r.docIds.length);
  const pick = () => records[Math.floor(Math.random() * records.length)];
  let res;
  if (store.engine === 'sqlite') {
    const db = openSqlite(store.sqliteFile!);
    const byIns = db.prepare('select id from records where ins = ?');
    const list = db.prepare(LIST_SQL_SQLITE);
    const docById = db.prepare('select * from documents where id = ?');
    const blob = db.prepare('select data from blobs where record_id = ? and id = ?');
    try {
      res = await measure(store, opts, () => {
        const r = pick();
        const rec = byIns.get(r.ins) as { id: string };
        const rows = list.all(rec.id, 'current', 'superseded', 0, twoYearsAgo());
        if (!rows.length) throw new Error('raw consult: empty list');
        const d = docById.get(r.docIds[Math.floor(Math.random() * r.docIds.length)]) as { record_id: string; blob_id: string };
        if (!(blob.get(d.record_id, d.blob_id) as { data: Buffer } | undefined)?.data) throw new Error('raw consult: no blob');
      }, true, 2);
    } finally {
      db.close();
    }
  } else {
    const pool = new pg.Pool({ connectionString: store.databaseUrl, max: 10 });
    try {
      res = await measure(store, opts, async () => {
        const r = pick();
        const rec = (await pool.query('select id from records where ins = $1', [r.ins])).rows[0];
        const rows = (await pool.query(LIST_SQL_PG, [rec.id, 'current', 'superseded', 0, twoYearsAgo()])).rows;
        if (!rows.length) throw new Error('raw consult: empty list');
        const d = (await pool.query('select * from documents where id = $1', [r.docIds[Math.floor(Math.random() * r.docIds.length)]])).rows[0];
        const b = (await pool.query('select data from blobs where record_id = $1 and id = $2', [d.record_id, d.blob_id])).rows[0];
        if (!b?.data) throw new Error('raw consult: no blob');
      }, false, 2);
    } finally {
      await pool.end();
    }
  }
  return rawResult('consult', store, opts, res, 'per pair: record by INS + the ITI-67 list query, then document by id + its blob (latency is per pair)');
}

const DOC_COLUMNS = [
  'id', 'record_id', 'unique_id', 'entry_uuid', 'status', 'archived', 'type_code', 'type_system', 'class_code', 'format_code', 'mime_type',
  'size', 'sha256', 'sha1', 'creation_time', 'submitted_at', 'service_start', 'service_end', 'facility_type', 'practice_setting', 'language',
  'security_labels', 'author_ids', 'author_orgs', 'filed_by_kind', 'filed_by_id', 'filed_by_org', 'submission_set_id', 'replaces_id',
  'invisible_since', 'announced_at', 'meta_enc', 'blob_id',
] as const;
const AUDIT_COLUMNS = ['record_id', 'record_seq', 'at', 'actor_kind', 'actor_id', 'actor_name', 'action', 'document_id', 'mode', 'outcome', 'reason', 'detail', 'prev_hash', 'hash'] as const;
const NOTIF_COLUMNS = ['id', 'record_id', 'recipient_kind', 'recipient_id', 'kind', 'payload', 'created_at', 'due_at', 'delivered_at', 'dedupe_key'] as const;
const SS_COLUMNS = ['id', 'record_id', 'unique_id', 'entry_uuid', 'source_id', 'submitted_at', 'document_ids', 'meta_enc'] as const;

const insertSql = (table: string, cols: readonly string[], pgStyle: boolean) =>
  `insert into ${table} (${cols.join(', ')}) values (${cols.map((_, i) => (pgStyle ? `$${i + 1}` : '?')).join(', ')})`;

export async function rawFeed(store: BenchStore, pop: Population, templates: CdaTemplate[], opts: RawOpts): Promise<RawResult> {
  // the bytes and metadata of ~30 KB documents, in clear: no sealing
  const samples = pop.records.slice(0, 50).map((r, i) => {
    const t = templates[i % templates.length];
    return { rec: r, bytes: documentBytes(personalise(t, r.ins, undefined), tagOf(i)), t };
  });
  let n = 0;
  const hex64 = 'ab'.repeat(32);
  const rowsFor = () => {
    const s = samples[n++ % samples.length];
    const id = randomUUID();
    const ssId = randomUUID();
    const now = new Date().toISOString();
    const meta = Buffer.from(JSON.stringify({ uniqueId: `raw.${n}`, type: { code: s.t.typeCode }, title: s.t.file, authors: [] }));
    const doc: Record<string, unknown> = {
      id, record_id: s.rec.id, unique_id: `1.2.250.1.999.0.${Date.now()}.${n}`, entry_uuid: null, status: 'current', archived: 0,
      type_code: s.t.typeCode, type_system: 'http://loinc.org', class_code: s.t.classCode, format_code: null, mime_type: 'text/xml',
      size: s.bytes.length, sha256: hex64, sha1: 'x'.repeat(28), creation_time: now, submitted_at: now, service_start: null, service_end: null,
      facility_type: null, practice_setting: null, language: 'fr-FR', security_labels: '["N"]', author_ids: '["19900000001"]', author_orgs: '[]',
      filed_by_kind: 'professional', filed_by_id: '19900000001', filed_by_org: null, submission_set_id: ssId, replaces_id: null,
      invisible_since: null, announced_at: null, meta_enc: meta, blob_id: id,
    };
    const ss: Record<string, unknown> = { id: ssId, record_id: s.rec.id, unique_id: `raw.ss.${Date.now()}.${n}`, entry_uuid: null, source_id: 'raw', submitted_at: now, document_ids: JSON.stringify([id]), meta_enc: meta };
    const audit = (seq: number): Record<string, unknown> => ({
      record_id: s.rec.id, record_seq: seq, at: now, actor_kind: 'professional', actor_id: '19900000001', actor_name: 'raw', action: 'document.file',
      document_id: id, mode: 'normal', outcome: 'success', reason: null, detail: JSON.stringify({ submissionSetId: ssId }), prev_hash: hex64, hash: hex64,
    });
    const notif: Record<string, unknown> = {
      id: randomUUID(), record_id: s.rec.id, recipient_kind: 'holder', recipient_id: s.rec.id, kind: 'new_document',
      payload: JSON.stringify({ documentId: id }), created_at: now, due_at: now, delivered_at: null, dedupe_key: null,
    };
    return { s, id, doc, ss, audit, notif };
  };
  const vals = (o: Record<string, unknown>, cols: readonly string[]) => cols.map((c) => o[c]);
  let res;
  if (store.engine === 'sqlite') {
    const db = openSqlite(store.sqliteFile!);
    const insBlob = db.prepare('insert into blobs (id, record_id, data) values (?, ?, ?)');
    const insDoc = db.prepare(insertSql('documents', DOC_COLUMNS, false));
    const insSs = db.prepare(insertSql('submission_sets', SS_COLUMNS, false));
    const head = db.prepare('update audit_heads set last_seq = last_seq + 1, last_hash = ? where record_id = ? returning last_seq');
    const insAudit = db.prepare(insertSql('audit_log', AUDIT_COLUMNS, false));
    const insNotif = db.prepare(insertSql('notifications', NOTIF_COLUMNS, false));
    const file = db.transaction(() => {
      const r = rowsFor();
      insBlob.run(r.id, r.s.rec.id, r.s.bytes);
      insDoc.run(...vals(r.doc, DOC_COLUMNS));
      insSs.run(...vals(r.ss, SS_COLUMNS));
      const seq = (head.get(hex64, r.s.rec.id) as { last_seq: number }).last_seq;
      insAudit.run(...vals(r.audit(seq), AUDIT_COLUMNS));
      insNotif.run(...vals(r.notif, NOTIF_COLUMNS));
    });
    try {
      res = await measure(store, opts, () => file(), true, 1);
    } finally {
      db.close();
    }
  } else {
    const pool = new pg.Pool({ connectionString: store.databaseUrl, max: 10 });
    try {
      res = await measure(store, opts, async () => {
        const r = rowsFor();
        const c = await pool.connect();
        try {
          await c.query('begin');
          await c.query('insert into blobs (id, record_id, data) values ($1, $2, $3)', [r.id, r.s.rec.id, r.s.bytes]);
          await c.query(insertSql('documents', DOC_COLUMNS, true), vals(r.doc, DOC_COLUMNS));
          await c.query(insertSql('submission_sets', SS_COLUMNS, true), vals(r.ss, SS_COLUMNS));
          const seq = (await c.query('update audit_heads set last_seq = last_seq + 1, last_hash = $1 where record_id = $2 returning last_seq', [hex64, r.s.rec.id])).rows[0].last_seq;
          await c.query(insertSql('audit_log', AUDIT_COLUMNS, true), vals(r.audit(seq), AUDIT_COLUMNS));
          await c.query(insertSql('notifications', NOTIF_COLUMNS, true), vals(r.notif, NOTIF_COLUMNS));
          await c.query('commit');
        } catch (e) {
          await c.query('rollback');
          throw e;
        } finally {
          c.release();
        }
      }, false, 1);
    } finally {
      await pool.end();
    }
  }
  return rawResult('feed', store, opts, res, 'per document, one transaction: blob (same ~30 KB, in clear) + document row + submission set + audit entry and chain head + notification');
}
