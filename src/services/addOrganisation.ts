import { randomUUID } from 'node:crypto';
import { parseFiness } from '../domain/identity.ts';
import { conflict } from '../domain/errors.ts';
import { appendAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface AddOrganisationInput {
  finess: string;
  name: string;
  /** e.g. hospital, lab, practice, pharmacy. */
  kind?: string;
}

/** Registers an organisation (FINESS). */
export async function addOrganisation(ctx: Ctx, input: AddOrganisationInput) {
  const finess = parseFiness(input.finess);
  return inTransaction(ctx, async (tx) => {
    const exists = await tx.db.selectFrom('organisations').select('id').where('finess', '=', finess).executeTakeFirst();
    if (exists) throw conflict('ORGANISATION_EXISTS', 'An organisation with this FINESS is already registered');
    const row = { id: randomUUID(), finess, name: input.name, kind: input.kind ?? 'etablissement', created_at: tx.clock().toISOString() };
    await tx.db.insertInto('organisations').values(row).execute();
    await appendAudit(tx.db, tx.engine, {
      actor: { kind: 'system', id: 'carnet', name: 'Carnet' }, action: 'organisation.add', outcome: 'success',
      detail: { finess }, at: tx.clock(),
    });
    return row;
  });
}
