import { randomUUID } from 'node:crypto';
import { parseFiness, parseProfessionCode, parseRpps } from '../domain/identity.ts';
import { conflict, invalid } from '../domain/errors.ts';
import { appendAudit } from '../audit/audit.ts';
import { inTransaction, type Ctx } from './context.ts';

export interface AddPractitionerInput {
  /** RPPS (11 digits) or idNat_PS ('8' + RPPS). */
  rpps: string;
  family: string;
  given: string;
  /** TRE_G15 profession code. */
  professionCode: string;
  specialty?: string;
  organisationFiness?: string;
}

/** Registers a health professional (RPPS, profession, specialty, structure). */
export async function addPractitioner(ctx: Ctx, input: AddPractitionerInput) {
  const { rpps } = parseRpps(input.rpps);
  const profession = parseProfessionCode(input.professionCode);
  const finess = input.organisationFiness ? parseFiness(input.organisationFiness) : null;
  if (!input.family.trim()) throw invalid('PRACTITIONER_NAME_MISSING', 'A family name is required');
  return inTransaction(ctx, async (tx) => {
    const exists = await tx.db.selectFrom('practitioners').select('id').where('rpps', '=', rpps).executeTakeFirst();
    if (exists) throw conflict('PRACTITIONER_EXISTS', 'A practitioner with this RPPS is already registered');
    const row = {
      id: randomUUID(), rpps, family: input.family.trim(), given: input.given.trim(), profession_code: profession,
      specialty: input.specialty ?? null, organisation_finess: finess, created_at: tx.clock().toISOString(),
    };
    await tx.db.insertInto('practitioners').values(row).execute();
    await appendAudit(tx.db, tx.engine, {
      actor: { kind: 'system', id: 'carnet', name: 'Carnet' }, action: 'practitioner.add', outcome: 'success',
      detail: { rpps }, at: tx.clock(),
    });
    return row;
  });
}

export async function practitionerByRpps(ctx: Ctx, rpps: string) {
  return ctx.db.selectFrom('practitioners').selectAll().where('rpps', '=', rpps).executeTakeFirst();
}
