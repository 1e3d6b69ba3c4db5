/**
 * The append-only audit log. Each entry carries the hash of the previous entry of the same record
 * (one chain per record, plus a `_system` chain for entries about no record), and its own position
 * in that chain, so an altered entry, a removed entry or a cut tail is detectable.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, AuditLogTable } from '../store/schema.ts';
import type { Engine } from '../store/db.ts';

export const SYSTEM_CHAIN = '_system';

export type AuditOutcome = 'allow' | 'deny' | 'success' | 'failure';

export interface AuditActor {
  kind: string;
  id: string;
  /** Kept only for professionals, apps, clients and operators (never a person's name). */
  name?: string;
}

export interface AuditInput {
  recordId?: string;
  actor: AuditActor;
  action: string;
  documentId?: string;
  mode?: string;
  outcome: AuditOutcome;
  reason?: string;
  /** Non-health details (ids, codes, counts). */
  detail?: Record<string, unknown>;
  at: Date;
}

const NAMED_KINDS = new Set(['professional', 'app', 'client', 'operator', 'system']);

type Hashed = Omit<AuditLogTable, 'seq' | 'hash'>;

/** The hash of an entry: SHA-256 over its fields in a fixed order, the previous hash included. */
export function entryHash(e: Hashed): string {
  const fields = [
    e.prev_hash, e.record_id, e.record_seq, e.at, e.actor_kind, e.actor_id, e.actor_name,
    e.action, e.document_id, e.mode, e.outcome, e.reason, e.detail,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/**
 * The row of one entry at position `recordSeq` of `chain`, after the entry whose hash is
 * `prevHash`, with its own hash. Every writer of the log builds entries here (the bulk loader of the
 * benchmarks too), so every chain verifies the same way.
 */
export function auditEntry(chain: string, recordSeq: number, prevHash: string, input: Omit<AuditInput, 'recordId'>): Omit<AuditLogTable, 'seq'> {
  const row: Hashed = {
    record_id: chain,
    record_seq: recordSeq,
    at: input.at.toISOString(),
    actor_kind: input.actor.kind,
    actor_id: input.actor.id,
    actor_name: NAMED_KINDS.has(input.actor.kind) ? (input.actor.name ?? null) : null,
    action: input.action,
    document_id: input.documentId ?? null,
    mode: input.mode ?? 'normal',
    outcome: input.outcome,
    reason: input.reason ?? null,
    detail: input.detail ? JSON.stringify(input.detail) : null,
    prev_hash: prevHash,
  };
  return { ...row, hash: entryHash(row) };
}

/** Creates the chain head of a new record (in the record's creation transaction). */
export async function startChain(db: Kysely<DB>, recordId: string) {
  await db.insertInto('audit_heads').values({ record_id: recordId, last_seq: 0, last_hash: '' }).execute();
}

/**
 * Appends one entry. Must run inside the caller's transaction so the entry commits (or not) with
 * what it describes. The head row is taken by an UPDATE (its row lock serialises writers of the
 * same record on PostgreSQL, as `select … for update` did) that also advances the position; on
 * PostgreSQL the entry and the new head hash are then written in one statement, so an entry costs
 * two round trips instead of three.
 */
export async function appendAudit(db: Kysely<DB>, engine: Engine, input: AuditInput): Promise<number> {
  const chain = input.recordId ?? SYSTEM_CHAIN;
  const head = await db
    .updateTable('audit_heads')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('record_id', '=', chain)
    .returning(['last_seq', 'last_hash'])
    .executeTakeFirst();
  if (!head) throw new Error(`audit chain ${chain} has no head`);
  const { hash, ...row } = auditEntry(chain, Number(head.last_seq), head.last_hash, input);
  if (engine === 'postgres') {
    const r = await db
      .with('entry', (q) => q.insertInto('audit_log').values({ ...row, hash }).returning('seq'))
      .updateTable('audit_heads')
      .set({ last_hash: hash })
      .where('record_id', '=', chain)
      .returning((eb) => eb.selectFrom('entry').select('entry.seq').as('seq'))
      .executeTakeFirstOrThrow();
    return Number(r.seq);
  }
  const inserted = await db.insertInto('audit_log').values({ ...row, hash }).returning('seq').executeTakeFirstOrThrow();
  await db.updateTable('audit_heads').set({ last_hash: hash }).where('record_id', '=', chain).execute();
  return Number(inserted.seq);
}

export interface BrokenEntry {
  recordId: string;
  /** Position in the record's chain where the break is. */
  recordSeq: number;
  /** Global sequence number of the offending row, when it still exists. */
  seq?: number;
  problem: 'altered' | 'missing' | 'link_broken' | 'truncated';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  chains: number;
  entries: number;
  broken: BrokenEntry[];
}

/** Walks each chain (or one) and names the first broken entry of each. */
export async function verifyAudit(db: Kysely<DB>, opts: { recordId?: string } = {}): Promise<VerifyResult> {
  let headsQ = db.selectFrom('audit_heads').selectAll().orderBy('record_id');
  if (opts.recordId) headsQ = headsQ.where('record_id', '=', opts.recordId);
  const heads = await headsQ.execute();
  const result: VerifyResult = { ok: true, chains: heads.length, entries: 0, broken: [] };
  if (opts.recordId && heads.length === 0) {
    const any = await db.selectFrom('audit_log').select('seq').where('record_id', '=', opts.recordId).executeTakeFirst();
    if (any) {
      result.ok = false;
      result.broken.push({ recordId: opts.recordId, recordSeq: 0, problem: 'truncated', message: `chain head of ${opts.recordId} is missing` });
    }
    return result;
  }
  for (const head of heads) {
    const broken = await verifyChain(db, head.record_id, Number(head.last_seq), head.last_hash, (n) => (result.entries += n));
    if (broken) {
      result.ok = false;
      result.broken.push(broken);
    }
  }
  return result;
}

async function verifyChain(
  db: Kysely<DB>,
  recordId: string,
  lastSeq: number,
  lastHash: string,
  count: (n: number) => void,
): Promise<BrokenEntry | undefined> {
  let expectedSeq = 1;
  let prevHash = '';
  const PAGE = 2000;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('record_id', '=', recordId)
      .where('record_seq', '>=', expectedSeq)
      .orderBy('record_seq')
      .limit(PAGE)
      .execute();
    count(rows.length);
    for (const r of rows) {
      const recordSeq = Number(r.record_seq);
      if (recordSeq !== expectedSeq) {
        return {
          recordId, recordSeq: expectedSeq, seq: Number(r.seq), problem: 'missing',
          message: `entry #${expectedSeq} of chain ${recordId} is missing (next present entry is #${recordSeq}, seq ${r.seq})`,
        };
      }
      if (r.prev_hash !== prevHash) {
        return {
          recordId, recordSeq, seq: Number(r.seq), problem: 'link_broken',
          message: `entry #${recordSeq} (seq ${r.seq}) of chain ${recordId} does not follow the entry before it`,
        };
      }
      const { seq: _seq, hash, ...fields } = r;
      const recomputed = entryHash({ ...fields, record_seq: recordSeq });
      if (recomputed !== hash) {
        return {
          recordId, recordSeq, seq: Number(r.seq), problem: 'altered',
          message: `entry #${recordSeq} (seq ${r.seq}) of chain ${recordId} was altered: its content no longer matches its hash`,
        };
      }
      prevHash = hash;
      expectedSeq++;
    }
    if (rows.length < PAGE) break;
  }
  if (expectedSeq - 1 !== lastSeq || prevHash !== lastHash) {
    return {
      recordId, recordSeq: expectedSeq, problem: expectedSeq - 1 < lastSeq ? 'missing' : 'truncated',
      message: `chain ${recordId} ends at entry #${expectedSeq - 1} but its head records #${lastSeq}: the entries after #${expectedSeq - 1} were removed`,
    };
  }
  return undefined;
}
