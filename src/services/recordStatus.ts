/**
 * TD0.2: does a record exist for this INS, in which state, what is the caller's authorization
 * status (VALIDE, EXPIRE, INTERDIT, NON_EXISTE) and is the caller the médecin traitant. Audited.
 */
import type { Actor, AuthorizationStatus, RecordState } from '../domain/access/types.ts';
import { authorizationStatus } from '../domain/access/index.ts';
import { notFound } from '../domain/errors.ts';
import { parseIns } from '../domain/ins.ts';
import { appendAudit } from '../audit/audit.ts';
import { auditActor, holderDemographics, recordView, relationshipOf, type HolderDemographics } from './internal/repo.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface RecordStatus {
  recordId: string;
  ins: string;
  insOid: string;
  state: RecordState;
  authorization: AuthorizationStatus;
  medecinTraitant: boolean;
  /** Only for callers authorized on the record: the identity traits to check against theirs. */
  demographics?: HolderDemographics;
}

export async function recordStatus(ctx: Ctx, actor: Actor, ins: string, oid?: string): Promise<RecordStatus | undefined> {
  const parsed = parseIns(ins, oid);
  return inTransaction(ctx, async (tx) => {
    const row = await tx.db.selectFrom('records').selectAll().where('ins', '=', parsed.value).executeTakeFirst();
    if (!row || row.state === 'deleted') {
      await appendAudit(tx.db, tx.engine, { actor: auditActor(actor), action: 'record.exists', outcome: 'success', reason: 'NO_RECORD', at: tx.clock() });
      return undefined;
    }
    const rel = await relationshipOf(tx, row.id, actor);
    const status = authorizationStatus(actor, recordView(row), rel, tx.clock());
    await appendAudit(tx.db, tx.engine, {
      recordId: row.id, actor: auditActor(actor), action: 'record.exists', outcome: 'success', reason: status, at: tx.clock(),
    });
    return {
      recordId: row.id, ins: row.ins, insOid: row.ins_oid, state: row.state as RecordState, authorization: status,
      medecinTraitant: !!rel.medecinTraitant,
      demographics: status === 'VALIDE' || (actor.kind === 'holder' && actor.id === row.id) ? await holderDemographics(tx, row) : undefined,
    };
  });
}

/** The record id for a Patient reference or INS (for search parameters); 404 when unknown. */
export async function recordIdFor(ctx: Ctx, ref: { id?: string; ins?: string; oid?: string }): Promise<string> {
  if (ref.id) {
    const row = await ctx.db.selectFrom('records').select('id').where('id', '=', ref.id).executeTakeFirst();
    if (!row) throw notFound('PATIENT_UNKNOWN', 'No such patient');
    return row.id;
  }
  const parsed = parseIns(ref.ins ?? '', ref.oid);
  const row = await ctx.db.selectFrom('records').select('id').where('ins', '=', parsed.value).executeTakeFirst();
  if (!row) throw notFound('PATIENT_UNKNOWN', 'No record exists for this INS');
  return row.id;
}
