/**
 * Legal representatives (at most 2, for a minor) and caregivers (at most 3, read per delegation):
 * they log in as themselves (their own INS) and act on the records they are linked to.
 */
import { randomUUID } from 'node:crypto';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.ts';
import type { Actor } from '../domain/access/types.ts';
import { canManageSharing } from '../domain/access/index.ts';
import { parseIns } from '../domain/ins.ts';
import { sealJson, openJson } from '../crypto/envelope.ts';
import { appendAudit } from '../audit/audit.ts';
import { aad, auditActor, recordById, relationshipOf } from './internal/repo.ts';
import { inTransaction, type Ctx } from './context.ts';

export type PersonKind = 'legal_representative' | 'caregiver';
const LIMITS: Record<PersonKind, number> = { legal_representative: 2, caregiver: 3 };

export interface AddPersonInput {
  kind: PersonKind;
  ins: string;
  insOid?: string;
  name: string;
  /** Caregivers: what the holder delegates (read only by default). */
  delegation?: { read: boolean; addDocuments?: boolean };
}

export async function addPerson(ctx: Ctx, actor: Actor, recordId: string, input: AddPersonInput) {
  const ins = parseIns(input.ins, input.insOid);
  if (!input.name?.trim()) throw invalid('PERSON_NAME_MISSING', 'A name is required');
  const out = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    if (record.ins === ins.value) throw invalid('PERSON_IS_HOLDER', 'The holder cannot be linked to their own record');
    if (input.kind === 'legal_representative' && record.minor !== 1) {
      throw conflict('REPRESENTATIVE_FOR_MINORS', 'Legal representatives are linked to a minor’s record');
    }
    // the operator registers the first representative of a newborn; afterwards the holder's side decides
    const rel = await relationshipOf(tx, record.id, actor);
    const d = canManageSharing(actor, rel);
    // the operator only registers the representatives of a minor (at birth); everything else is the holder's side
    const operatorMay = actor.kind === 'operator' && input.kind === 'legal_representative';
    if (!d.allow && !operatorMay) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: `person.${input.kind}.add`, outcome: 'deny', reason: d.reason, at: tx.clock() });
      return { denied: d };
    }
    const current = await tx.db.selectFrom('record_persons').select(['id', 'person_ins']).where('record_id', '=', record.id)
      .where('kind', '=', input.kind).where('removed_at', 'is', null).execute();
    if (current.some((p) => p.person_ins === ins.value)) throw conflict('PERSON_ALREADY_LINKED', 'This person is already linked to the record');
    if (current.length >= LIMITS[input.kind]) {
      throw conflict('PERSON_LIMIT', `At most ${LIMITS[input.kind]} ${input.kind === 'caregiver' ? 'caregivers' : 'legal representatives'} per record`);
    }
    const id = randomUUID();
    const key = await tx.keys.get(tx.db, record.id);
    await tx.db.insertInto('record_persons').values({
      id, record_id: record.id, person_ins: ins.value, kind: input.kind,
      name_enc: sealJson(key, { name: input.name.trim() }, aad.person(record.id, id)),
      delegation: JSON.stringify(input.kind === 'caregiver' ? (input.delegation ?? { read: true }) : { read: true, addDocuments: true }),
      added_at: tx.clock().toISOString(), removed_at: null,
    }).execute();
    await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: `person.${input.kind}.add`, outcome: 'success', detail: { personId: id }, at: tx.clock() });
    return { id };
  });
  if ('denied' in out && out.denied) throw forbidden(out.denied.reason, out.denied.explanation.en);
  return out as { id: string };
}

export async function removePerson(ctx: Ctx, actor: Actor, recordId: string, personId: string) {
  const out = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    const rel = await relationshipOf(tx, record.id, actor);
    const d = canManageSharing(actor, rel);
    if (!d.allow) {
      await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: 'person.remove', outcome: 'deny', reason: d.reason, at: tx.clock() });
      return { denied: d };
    }
    const res = await tx.db.updateTable('record_persons').set({ removed_at: tx.clock().toISOString() })
      .where('record_id', '=', record.id).where('id', '=', personId).where('removed_at', 'is', null).executeTakeFirst();
    if (!Number(res.numUpdatedRows)) throw notFound('PERSON_UNKNOWN', 'No such linked person');
    await appendAudit(tx.db, tx.engine, { recordId: record.id, actor: auditActor(actor), action: 'person.remove', outcome: 'success', detail: { personId }, at: tx.clock() });
    return {};
  });
  if ('denied' in out && out.denied) throw forbidden(out.denied.reason, out.denied.explanation.en);
}

/** The records a person is linked to (for their login), with their link. */
export async function recordsOfPerson(ctx: Ctx, ins: string) {
  const parsed = parseIns(ins);
  return ctx.db.selectFrom('record_persons').select(['record_id', 'kind', 'id']).where('person_ins', '=', parsed.value)
    .where('removed_at', 'is', null).execute();
}

export async function listPersons(ctx: Ctx, recordId: string) {
  const rows = await ctx.db.selectFrom('record_persons').selectAll().where('record_id', '=', recordId).where('removed_at', 'is', null).execute();
  if (!rows.length) return [];
  const key = await ctx.keys.get(ctx.db, recordId);
  return rows.map((r) => ({
    id: r.id, kind: r.kind as PersonKind, delegation: JSON.parse(r.delegation),
    name: openJson<{ name: string }>(key, Buffer.from(r.name_enc), aad.person(recordId, r.id)).name, addedAt: r.added_at,
  }));
}
