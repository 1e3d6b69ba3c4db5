/**
 * Grants: one holder consent connecting an app to a record for some purposes. Every code, refresh
 * token and access token of the app belongs to one grant; revoking the grant (the holder in the
 * portal, the app through RFC 7009, or Carnet on a replayed code or refresh token) kills them all
 * at once: the HTTP layer asks `grantIsActive` on every request an app makes.
 */
import { randomUUID } from 'node:crypto';
import { forbidden, notFound } from '../../domain/errors.ts';
import type { Actor } from '../../domain/access/types.ts';
import { canManageSharing } from '../../domain/access/index.ts';
import { appendAudit, type AuditActor } from '../../audit/audit.ts';
import type { AppGrantTable } from '../../store/schema-apps.ts';
import { auditActor, recordById, relationshipOf } from '../internal/repo.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { consentedReads, describeReads, getApp, type CatalogueApp, type ReadableItem } from './catalogue.ts';

export interface AppGrant {
  id: string;
  recordId: string;
  clientId: string;
  purposes: string[];
  scope: string;
  allowedTypes: string[];
  allowedCategories: string[];
  createdAt: string;
  revokedAt?: string;
  revokedReason?: string;
}

export type RevokeReason = 'holder' | 'app' | 'CODE_REUSED' | 'REFRESH_REUSED' | 'APP_DISABLED';

export function toGrant(row: AppGrantTable): AppGrant {
  return {
    id: row.id,
    recordId: row.record_id,
    clientId: row.client_id,
    purposes: JSON.parse(row.purposes),
    scope: row.scope,
    allowedTypes: JSON.parse(row.allowed_types),
    allowedCategories: JSON.parse(row.allowed_categories),
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
    ...(row.revoked_reason ? { revokedReason: row.revoked_reason } : {}),
  };
}

/** The app as it appears in audit entries: its client id and its name (shown in the history). */
export const appAuditActor = (app: Pick<CatalogueApp, 'clientId' | 'name'>): AuditActor => ({ kind: 'app', id: app.clientId, name: app.name });

/** Records the holder's consent (inside the caller's transaction). */
export async function createGrant(
  tx: Ctx,
  input: { recordId: string; app: CatalogueApp; purposeIds: string[]; scope: string; grantedBy: Actor },
): Promise<AppGrant> {
  const { allowedTypes, allowedCategories } = consentedReads(input.app, input.purposeIds);
  const row: AppGrantTable = {
    id: randomUUID(),
    record_id: input.recordId,
    client_id: input.app.clientId,
    purposes: JSON.stringify([...input.purposeIds].sort()),
    scope: input.scope,
    allowed_types: JSON.stringify(allowedTypes),
    allowed_categories: JSON.stringify(allowedCategories),
    granted_by_kind: input.grantedBy.kind,
    granted_by_id: input.grantedBy.id,
    created_at: tx.clock().toISOString(),
    revoked_at: null,
    revoked_reason: null,
  };
  await tx.db.insertInto('app_grants').values(row).execute();
  await appendAudit(tx.db, tx.engine, {
    recordId: input.recordId, actor: auditActor(input.grantedBy), action: 'app.connect', outcome: 'success',
    detail: { clientId: input.app.clientId, app: input.app.name, grantId: row.id, purposes: JSON.parse(row.purposes), scope: input.scope },
    at: tx.clock(),
  });
  return toGrant(row);
}

// --- is this grant still good? ---------------------------------------------------------------------

/**
 * A positive answer may be reused for at most a second (`ACTIVE_CACHE_MS`): revocations made in
 * this process drop the entry at once, other processes see them within that second.
 */
export const ACTIVE_CACHE_MS = 1000;
const activeUntil = new Map<string, number>();
/** Grants revoked by this process: a request that read "active" just before cannot re-cache them. */
const revokedHere = new Set<string>();

export async function grantIsActive(ctx: Ctx, grantId: string): Promise<boolean> {
  if (revokedHere.has(grantId)) return false;
  const until = activeUntil.get(grantId);
  if (until !== undefined && until > performance.now()) return true;
  const row = await ctx.db.selectFrom('app_grants').select(['revoked_at']).where('id', '=', grantId).executeTakeFirst();
  const active = !!row && row.revoked_at === null;
  if (active && !revokedHere.has(grantId)) {
    if (activeUntil.size > 50_000) activeUntil.clear();
    activeUntil.set(grantId, performance.now() + ACTIVE_CACHE_MS);
  } else {
    activeUntil.delete(grantId);
  }
  return active;
}

/**
 * Revokes a grant and everything issued under it (codes, refresh tokens; access tokens die through
 * `grantIsActive`). Idempotent: returns false when it was already revoked. Audited on the record.
 */
export async function revokeGrant(ctx: Ctx, grantId: string, reason: RevokeReason, by: AuditActor): Promise<boolean> {
  if (revokedHere.size > 100_000) revokedHere.clear();
  revokedHere.add(grantId); // revoked for this process from now on, even if the transaction below is slow
  activeUntil.delete(grantId);
  const done = await inTransaction(ctx, async (tx) => {
    const now = tx.clock().toISOString();
    const grant = await tx.db.selectFrom('app_grants').selectAll().where('id', '=', grantId).executeTakeFirst();
    if (!grant) return false;
    const res = await tx.db
      .updateTable('app_grants')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('id', '=', grantId)
      .where('record_id', '=', grant.record_id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await tx.db.updateTable('app_refresh_tokens').set({ used_at: now }).where('grant_id', '=', grantId).where('used_at', 'is', null).execute();
    await tx.db.updateTable('app_codes').set({ used_at: now }).where('grant_id', '=', grantId).where('used_at', 'is', null).execute();
    const changed = Number(res.numUpdatedRows ?? 0) > 0;
    if (changed) {
      await appendAudit(tx.db, tx.engine, {
        recordId: grant.record_id, actor: by, action: 'app.revoke', outcome: 'success', reason,
        detail: { clientId: grant.client_id, grantId }, at: tx.clock(),
      });
    }
    return changed;
  });
  activeUntil.delete(grantId);
  return done;
}

// --- the holder's view (portal) ----------------------------------------------------------------------

export interface ConnectedApp {
  clientId: string;
  name: string;
  connections: Array<{
    grantId: string;
    connectedAt: string;
    purposes: Array<{ id: string; label: { fr: string; en: string } }>;
    scope: string;
    /** What the app may read under this consent. */
    reads: ReadableItem[];
    lastAccessAt?: string;
  }>;
}

async function assertManages(tx: Ctx, actor: Actor, recordId: string) {
  const record = await recordById(tx, recordId);
  const rel = await relationshipOf(tx, record.id, actor);
  const d = canManageSharing(actor, rel);
  if (!d.allow) throw forbidden(d.reason, d.explanation.en, { details: { explanation: d.explanation } });
  return record;
}

/** The apps connected to a record and what each may read (holder, legal representatives). */
export async function connectedApps(ctx: Ctx, actor: Actor, recordId: string): Promise<ConnectedApp[]> {
  await assertManages(ctx, actor, recordId);
  const rows = await ctx.db
    .selectFrom('app_grants')
    .selectAll()
    .where('record_id', '=', recordId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .execute();
  const byClient = new Map<string, ConnectedApp>();
  for (const row of rows) {
    const g = toGrant(row);
    const app = await getApp(ctx, g.clientId);
    if (!app) continue;
    let entry = byClient.get(app.clientId);
    if (!entry) {
      entry = { clientId: app.clientId, name: app.name, connections: [] };
      byClient.set(app.clientId, entry);
    }
    const last = await ctx.db
      .selectFrom('audit_log')
      .select('at')
      .where('record_id', '=', recordId)
      .where('actor_kind', '=', 'app')
      .where('actor_id', '=', app.clientId)
      .where('action', 'like', 'document.%')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    entry.connections.push({
      grantId: g.id,
      connectedAt: g.createdAt,
      purposes: app.purposes.filter((p) => g.purposes.includes(p.id)).map((p) => ({ id: p.id, label: { fr: p.label, en: p.labelEn ?? p.label } })),
      scope: g.scope,
      reads: describeReads(g.allowedTypes, g.allowedCategories),
      ...(last ? { lastAccessAt: last.at } : {}),
    });
  }
  return [...byClient.values()];
}

/**
 * The holder takes an app back: every active grant of that app on the record is revoked, its
 * tokens stop working on the very next request. Returns how many grants were revoked.
 */
export async function disconnectApp(ctx: Ctx, actor: Actor, recordId: string, clientId: string): Promise<number> {
  await assertManages(ctx, actor, recordId);
  const grants = await ctx.db
    .selectFrom('app_grants')
    .select('id')
    .where('record_id', '=', recordId)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .execute();
  if (!grants.length) throw notFound('APP_NOT_CONNECTED', 'This app is not connected to this record');
  let n = 0;
  for (const g of grants) if (await revokeGrant(ctx, g.id, 'holder', auditActor(actor))) n++;
  return n;
}
