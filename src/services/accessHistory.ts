/**
 * The access history (R1111-43): date, time, actor, action, document. The holder, the médecin
 * traitant and administrateurs see it all; every other actor sees its own actions only. Entries
 * about documents the reader may not know of are left out (an INVISIBLE_PATIENT document does not
 * surface through the history before it is announced). Reading the history is itself audited.
 */
import { forbidden } from '../domain/errors.ts';
import type { Actor } from '../domain/access/types.ts';
import { canReadHistory, decide } from '../domain/access/index.ts';
import { appendAudit } from '../audit/audit.ts';
import { auditActor, documentView, recordById, recordView, relationshipOf, settingsOf } from './internal/repo.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface HistoryEntry {
  seq: number;
  at: string;
  actor: { kind: string; id: string; name?: string };
  action: string;
  documentId?: string;
  mode: string;
  outcome: string;
  reason?: string;
}

export interface HistoryFilters {
  actorId?: string;
  action?: string;
  mode?: string;
  limit?: number;
  before?: number;
}

export async function accessHistory(ctx: Ctx, actor: Actor, recordId: string, filters: HistoryFilters = {}): Promise<HistoryEntry[]> {
  const result = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const record = await recordById(tx, recordId);
    const rel = await relationshipOf(tx, record.id, actor);
    const whole = canReadHistory(actor, rel);
    const own = canReadHistory(actor, rel, actor.id);
    if (!whole.allow && !own.allow) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: 'history.read', outcome: 'deny', reason: whole.reason, at: now });
      return { denied: whole };
    }
    let q = tx.db.selectFrom('audit_log').selectAll().where('record_id', '=', record.id);
    if (!whole.allow) q = q.where('actor_id', '=', actor.id).where('actor_kind', '=', actor.kind);
    if (filters.actorId) q = q.where('actor_id', '=', filters.actorId);
    if (filters.action) q = q.where('action', 'like', `${filters.action.replace(/[%_]/g, '')}%`);
    if (filters.mode) q = q.where('mode', '=', filters.mode);
    if (filters.before) q = q.where('seq', '<', filters.before);
    const rows = await q.orderBy('seq', 'desc').limit(Math.min(filters.limit ?? 200, 1000)).execute();

    // documents the reader may not know of stay out of the history
    const docIds = [...new Set(rows.map((r) => r.document_id).filter((x): x is string => !!x))];
    const hidden = new Set<string>();
    if (docIds.length && actor.kind !== 'professional') {
      const docs = await tx.db.selectFrom('documents').selectAll().where('record_id', '=', record.id).where('id', 'in', docIds).execute();
      const settings = await settingsOf(tx, record.id);
      for (const d of docs) {
        const dec = decide(actor, recordView(record), rel, documentView(d), settings, 'normal', now);
        if (!dec.allow && d.status !== 'entered-in-error') hidden.add(d.id);
      }
    }
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: 'history.read', outcome: 'allow', reason: (whole.allow ? whole : own).reason, at: now,
    });
    return {
      entries: rows
        .filter((r) => !(r.document_id && hidden.has(r.document_id)))
        .map((r) => ({
          seq: Number(r.seq), at: r.at, actor: { kind: r.actor_kind, id: r.actor_id, name: r.actor_name ?? undefined },
          action: r.action, documentId: r.document_id ?? undefined, mode: r.mode, outcome: r.outcome, reason: r.reason ?? undefined,
        })),
    };
  });
  if ('denied' in result && result.denied) throw forbidden(result.denied.reason, result.denied.explanation.en);
  return (result as { entries: HistoryEntry[] }).entries;
}
