/**
 * The access history as the holder's side reads it (R1111-43): who, when, what, under which
 * right, in which mode — with the document's title when the reader may see the document, and the
 * professional's profession. Filters: who (a person, or a kind of actor), what (an action family),
 * mode. The rules of who sees which entries are accessHistory's.
 */
import type { Actor } from '../../domain/access/types.ts';
import { professionLabel } from '../../domain/access/index.ts';
import { accessHistory, type HistoryEntry } from '../accessHistory.ts';
import { storedDocument } from '../internal/repo.ts';
import type { Ctx } from '../context.ts';
import { requireHolderSide, toPortalDocument } from './common.ts';

export type ActorFilter = 'all' | 'others' | 'professionals' | 'me' | 'apps';
export const WHAT_FILTERS = ['document.read', 'document.list', 'document.file', 'document', 'rights', 'emergency', 'record', 'history'] as const;

export interface PortalHistoryFilters {
  who?: ActorFilter;
  actorId?: string;
  what?: string;
  mode?: string;
  before?: number;
  limit?: number;
}

export interface PortalHistoryEntry extends HistoryEntry {
  profession?: { code: string; fr: string; en: string };
  /** The reader's own action. */
  own: boolean;
  emergency: boolean;
  document?: { id: string; title: string; category: string; categoryLabel: { fr: string; en: string } };
}

export async function holderHistory(ctx: Ctx, actor: Actor, recordId: string, f: PortalHistoryFilters = {}): Promise<{ entries: PortalHistoryEntry[]; next?: number }> {
  await requireHolderSide(ctx, actor, recordId);
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 500);
  const what = f.what && (WHAT_FILTERS as readonly string[]).includes(f.what) ? f.what : undefined;
  const raw = await accessHistory(ctx, actor, recordId, {
    ...(f.actorId ? { actorId: f.actorId } : {}),
    ...(what ? { action: what } : {}),
    ...(f.mode ? { mode: f.mode } : {}),
    ...(f.before ? { before: f.before } : {}),
    // kind filters apply after the query: fetch more to fill a page
    limit: f.who && f.who !== 'all' ? Math.min(limit * 5, 1000) : limit,
  });
  const who = f.who ?? 'all';
  const own = (e: HistoryEntry) => e.actor.kind === actor.kind && e.actor.id === actor.id;
  const kept = raw
    .filter((e) => e.action !== 'history.read' || what === 'history')
    .filter((e) => {
      switch (who) {
        case 'others':
          return !own(e);
        case 'me':
          return own(e);
        case 'professionals':
          return e.actor.kind === 'professional';
        case 'apps':
          return e.actor.kind === 'app' || e.actor.kind === 'client';
        default:
          return true;
      }
    })
    .slice(0, limit);

  const docIds = [...new Set(kept.map((e) => e.documentId).filter((x): x is string => !!x))];
  const docs = new Map<string, PortalHistoryEntry['document']>();
  if (docIds.length) {
    const rows = await ctx.db.selectFrom('documents').selectAll().where('record_id', '=', recordId).where('id', 'in', docIds).execute();
    const key = await ctx.keys.get(ctx.db, recordId);
    for (const r of rows) {
      const d = toPortalDocument(storedDocument(r, key));
      docs.set(r.id, { id: d.id, title: d.title, category: d.category, categoryLabel: d.categoryLabel });
    }
  }
  const rpps = [...new Set(kept.filter((e) => e.actor.kind === 'professional').map((e) => e.actor.id))];
  const pros = rpps.length ? await ctx.db.selectFrom('practitioners').select(['rpps', 'profession_code']).where('rpps', 'in', rpps).execute() : [];
  const professionOf = new Map(pros.map((p) => [p.rpps, p.profession_code]));
  const entries = kept.map((e) => {
    const code = professionOf.get(e.actor.id);
    const doc = e.documentId ? docs.get(e.documentId) : undefined;
    return {
      ...e,
      own: own(e),
      emergency: e.mode !== 'normal',
      ...(e.actor.kind === 'professional' && code ? { profession: { code, ...professionLabel(code) } } : {}),
      ...(doc ? { document: doc } : {}),
    };
  });
  const last = raw[raw.length - 1];
  return { entries, ...(raw.length >= (who !== 'all' ? Math.min(limit * 5, 1000) : limit) && last ? { next: last.seq } : {}) };
}
