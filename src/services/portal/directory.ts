/**
 * The professionals' directory, for the holder choosing whom to authorize, block or designate:
 * the public facts of the RPPS directory only (name, profession, structure), never a record.
 */
import type { Actor } from '../../domain/access/types.ts';
import { professionLabel } from '../../domain/access/index.ts';
import { forbidden } from '../../domain/errors.ts';
import type { Ctx } from '../context.ts';

export interface DirectoryEntry {
  rpps: string;
  name: string;
  profession: { code: string; fr: string; en: string };
  specialty?: string;
  organisation?: string;
}

export async function searchDirectory(ctx: Ctx, actor: Actor, query: string): Promise<DirectoryEntry[]> {
  if (actor.kind === 'forbidden' || actor.kind === 'app') throw forbidden('DIRECTORY_FORBIDDEN', 'The directory is for people using the portal');
  const q = (query ?? '').trim().slice(0, 60);
  if (q.length < 2) return [];
  const like = `%${q.replace(/[%_\\]/g, '')}%`;
  const byRpps = /^\d{11}$/.test(q);
  const rows = await ctx.db.selectFrom('practitioners')
    .leftJoin('organisations', 'organisations.finess', 'practitioners.organisation_finess')
    .select(['practitioners.rpps', 'practitioners.given', 'practitioners.family', 'practitioners.profession_code', 'practitioners.specialty', 'organisations.name as org'])
    .where((eb) => byRpps
      ? eb('practitioners.rpps', '=', q)
      : eb.or([
        eb(eb.fn('lower', ['practitioners.family']), 'like', like.toLowerCase()),
        eb(eb.fn('lower', ['practitioners.given']), 'like', like.toLowerCase()),
      ]))
    .orderBy('practitioners.family')
    .limit(20)
    .execute();
  return rows.map((r) => ({
    rpps: r.rpps,
    name: `${r.given} ${r.family}`,
    profession: { code: r.profession_code, ...professionLabel(r.profession_code) },
    ...(r.specialty ? { specialty: r.specialty } : {}),
    ...(r.org ? { organisation: r.org } : {}),
  }));
}
