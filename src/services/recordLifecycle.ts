/**
 * Record lifecycle use cases (DOMAIN §3): activate, oppose (with a downloadable proof), close,
 * reopen, request early deletion, suspend, lift a suspension, and the effective deletion that
 * crypto-shreds the record's key. The state machine itself is domain/lifecycle.ts.
 */
import { randomUUID } from 'node:crypto';
import { applyEvent, type Lifecycle, type LifecycleEvent } from '../domain/lifecycle.ts';
import { CarnetError, forbidden } from '../domain/errors.ts';
import type { Actor } from '../domain/access/types.ts';
import { appendAudit } from '../audit/audit.ts';
import { loadOrCreateSigningKey } from '../auth/signing-keys.ts';
import { auditActor, lifecycleOf, recordById, recordByIns, relationshipOf, type RecordRow } from './internal/repo.ts';
import { canChangeLifecycle } from '../domain/access/index.ts';
import { notifyHolder, type NotificationKind } from './internal/notify.ts';
import { verifySecret } from './internal/secrets.ts';
import { dueAtOf } from './internal/lifecycle.ts';
import { inTransaction, type Ctx } from './context.ts';

const NOTICE: Partial<Record<LifecycleEvent['type'], NotificationKind>> = {
  activate: 'record_opened',
  oppose: 'record_opposed',
  close: 'record_closed',
  reopen: 'record_reopened',
  suspend: 'record_suspended',
  delete: 'record_deleted',
};

/** Tables that hold a person's data beside the record row, purged when the record is deleted. */
const PERSONAL_TABLES = [
  'documents', 'blobs', 'submission_sets', 'record_access', 'record_persons',
  'emergency_sessions', 'practitioner_seen', 'record_settings',
  // connected apps, pending invitations and the portal's profile go with the record
  'app_grants', 'app_auth_requests', 'app_codes', 'app_refresh_tokens', 'account_codes', 'portal_profiles', 'portal_seen',
] as const;

export interface TransitionResult {
  recordId: string;
  state: string;
  lifecycle: Lifecycle;
}

/** Applies one lifecycle event to a record, in one transaction, with its audit entry and notice. */
export async function transitionRecord(ctx: Ctx, actor: Actor, recordId: string, event: LifecycleEvent): Promise<TransitionResult> {
  const out = await inTransaction(ctx, async (tx) => {
    const row = await recordById(tx, recordId);
    const d = canChangeLifecycle(actor, await relationshipOf(tx, row.id, actor), event.type);
    if (!d.allow) {
      await appendAudit(tx.db, tx.engine, {
        recordId: row.id, actor: auditActor(actor), action: `record.${event.type}`, outcome: 'deny', reason: d.reason, at: tx.clock(),
      });
      return { refused: d };
    }
    return applyToRow(tx, actor, row, event);
  });
  // raised after the commit, so the refusal stays in the audit log
  if ('refused' in out) throw forbidden(out.refused.reason, out.refused.explanation.en, { details: { explanation: out.refused.explanation } });
  return out;
}

async function applyToRow(tx: Ctx, actor: Actor, row: RecordRow, event: LifecycleEvent): Promise<TransitionResult> {
  const now = tx.clock();
  const before = lifecycleOf(row);
  const after = applyEvent(before, event, now);
  if (event.type === 'delete') await shred(tx, row.id);
  await tx.db
    .updateTable('records')
    .set({
      state: after.state,
      lifecycle: JSON.stringify(after),
      due_at: dueAtOf(after),
      updated_at: now.toISOString(),
      ...(event.type === 'delete' ? { holder_enc: null, activation_code_hash: null } : {}),
    })
    .where('id', '=', row.id)
    .execute();
  await appendAudit(tx.db, tx.engine, {
    recordId: row.id, actor: auditActor(actor), action: `record.${event.type}`, outcome: 'success',
    detail: { from: before.state, to: after.state }, at: now,
  });
  const notice = NOTICE[event.type];
  if (notice) await notifyHolder(tx, row.id, { kind: notice, payload: { from: before.state, to: after.state } });
  return { recordId: row.id, state: after.state, lifecycle: after };
}

/** Crypto-shredding: the data key goes, then everything sealed under it. */
async function shred(tx: Ctx, recordId: string) {
  await tx.keys.destroy(tx.db, recordId);
  for (const table of PERSONAL_TABLES) {
    await tx.db.deleteFrom(table).where('record_id', '=', recordId).execute();
  }
  await tx.db.deleteFrom('notifications').where('record_id', '=', recordId).where('delivered_at', 'is', null).execute();
}

export const activateRecord = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'activate' });
export const closeRecord = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'close' });
export const reopenRecord = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'reopen' });
export const requestDeletion = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'request_deletion' });
export const suspendRecord = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'suspend' });
export const liftSuspension = (ctx: Ctx, actor: Actor, recordId: string) => transitionRecord(ctx, actor, recordId, { type: 'lift_suspension' });
/**
 * Effective deletion now (an opposed record, or a closed one whose deletion is due). Like the daily
 * job, it then reclaims the storage of the destroyed key — unless called inside a caller's
 * transaction, whose owner must do it after the commit (VACUUM cannot run in a transaction).
 */
export async function deleteRecordNow(ctx: Ctx, actor: Actor, recordId: string): Promise<TransitionResult> {
  const result = await transitionRecord(ctx, actor, recordId, { type: 'delete' });
  if (!(ctx.db as { isTransaction?: boolean }).isTransaction) await reclaimDeletedKeys(ctx);
  return result;
}

export interface OppositionProof {
  proofId: string;
  opposedAt: string;
  /** Human-readable attestation (French) and its English version. */
  statement: { fr: string; en: string };
  /** The same facts signed by Carnet (compact JWS, ES256): verifiable against Carnet's JWKS. */
  signature: string;
}

/**
 * A person objects to the opening of their record during the 6-week window, with the one-time
 * code of the opening notice and their INS (DOMAIN §3), and receives a proof of opposition.
 */
export async function opposeRecord(ctx: Ctx, input: { ins: string; insOid?: string; activationCode: string }): Promise<OppositionProof & TransitionResult> {
  const signer = await loadOrCreateSigningKey(ctx.config.dataDir);
  const out = await inTransaction(ctx, async (tx) => {
    const row = await recordByIns(tx, input.ins, input.insOid);
    if (!verifySecret(input.activationCode, row.activation_code_hash)) {
      // the refusal is returned, not thrown, so that its audit entry commits
      await appendAudit(tx.db, tx.engine, {
        recordId: row.id, actor: { kind: 'holder', id: row.id }, action: 'record.oppose', outcome: 'failure',
        reason: 'ACTIVATION_CODE_WRONG', at: tx.clock(),
      });
      return { wrongCode: true as const };
    }
    const result = await applyToRow(tx, { kind: 'holder', id: row.id, name: '' }, row, { type: 'oppose' });
    const opposedAt = result.lifecycle.opposedAt ?? tx.clock().toISOString();
    const proofId = randomUUID();
    const masked = `${row.ins.slice(0, 1)}…${row.ins.slice(-4)}`;
    const statement = {
      fr: `Carnet atteste que la personne titulaire de l'INS ${masked} s'est opposée à l'ouverture de son dossier médical partagé le ${new Date(opposedAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })}. Aucun document ne peut y être déposé. Référence de la preuve : ${proofId}.`,
      en: `Carnet certifies that the holder of INS ${masked} objected to the opening of their shared medical record on ${opposedAt}. No document can be filed in it. Proof reference: ${proofId}.`,
    };
    const signature = await signer.sign(
      { iss: 'carnet', sub: row.id, jti: proofId, opposed_at: opposedAt, ins_hint: masked, iat: Math.floor(Date.now() / 1000) },
      'carnet-opposition-proof+jwt',
    );
    return { ...result, proofId, opposedAt, statement, signature };
  });
  if ('wrongCode' in out) throw forbidden('ACTIVATION_CODE_WRONG', 'The activation code does not match this INS');
  return out;
}

/**
 * The daily job: applies every time-based transition that is due (DOMAIN §3). Each record is
 * processed in its own transaction, and a record that fails (e.g. a damaged row) does not stop
 * the others: they are all processed, then the run throws DAILY_JOB_PARTIAL naming the failed
 * records (ids and error codes only) beside what was applied, so the operator's command fails loudly.
 */
export async function runDailyJobs(ctx: Ctx): Promise<{ applied: { recordId: string; event: string }[]; notices: number }> {
  const { dueEvent } = await import('../domain/lifecycle.ts');
  const now = ctx.clock();
  const applied: { recordId: string; event: string }[] = [];
  const failed: { recordId: string; code: string }[] = [];
  const due = await ctx.db
    .selectFrom('records')
    .select('id')
    .where('due_at', '<=', now.toISOString())
    .where('state', '!=', 'deleted')
    .execute();
  const system: Actor = { kind: 'system', id: 'carnet-jobs', name: 'Carnet (tâche quotidienne)' };
  for (const { id } of due) {
    try {
      const steps = await inTransaction(ctx, async (tx) => {
        // a record may need several steps (e.g. suspended → closed → deleted): apply until settled
        const done: { recordId: string; event: string }[] = [];
        let current = await recordById(tx, id);
        for (let i = 0; i < 4; i++) {
          const ev = dueEvent(lifecycleOf(current), now);
          if (!ev) break;
          await applyToRow(tx, system, current, ev);
          done.push({ recordId: id, event: ev.type });
          current = await recordById(tx, id);
        }
        return done;
      });
      applied.push(...steps); // only once committed
    } catch (e) {
      failed.push({ recordId: id, code: e instanceof CarnetError ? e.code : e instanceof Error ? e.name : 'ERROR' });
    }
  }
  const { invisibleNotices } = await import('./manageDocuments.ts');
  const notices = await invisibleNotices(ctx);
  if (applied.some((a) => a.event === 'delete')) await reclaimDeletedKeys(ctx);
  if (failed.length) {
    throw new CarnetError('DAILY_JOB_PARTIAL', 'conflict', `The daily job could not process ${failed.length} record(s)`, {
      details: { failed, applied, notices },
    });
  }
  return { applied, notices };
}

/**
 * After deletions, make sure no copy of a destroyed wrapped key survives in free pages:
 * SQLite runs with secure_delete and a WAL checkpoint; PostgreSQL vacuums the key table.
 */
async function reclaimDeletedKeys(ctx: Ctx) {
  const { sql } = await import('kysely');
  if (ctx.engine === 'postgres') await sql`vacuum record_keys`.execute(ctx.db);
  else await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.db);
}
