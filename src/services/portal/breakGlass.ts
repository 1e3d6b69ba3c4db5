/**
 * Break-glass from the professional workstation (L1111-17): the professional states why; Carnet
 * opens the time-boxed session (holder and médecin traitant notified at once) — or reuses the
 * professional's session still open on this record, so that reloading the page does not notify
 * twice. The HTTP layer then issues a token in that mode; the decision stays `decide`'s.
 */
import { forbidden, invalid } from '../../domain/errors.ts';
import type { Actor } from '../../domain/access/types.ts';
import { startEmergency, type EmergencySessionResult } from '../emergency.ts';
import type { Ctx } from '../context.ts';

export const MIN_JUSTIFICATION = 10;

export async function openBreakGlass(ctx: Ctx, actor: Actor, recordId: string, justification: string): Promise<EmergencySessionResult & { reused: boolean }> {
  if (actor.kind !== 'professional') throw forbidden('EMERGENCY_PROFESSIONALS_ONLY', 'Only a health professional may open an emergency access');
  const text = (justification ?? '').trim();
  if (text.length < MIN_JUSTIFICATION) {
    throw invalid('EMERGENCY_JUSTIFICATION_REQUIRED', `Break-glass access needs a justification of at least ${MIN_JUSTIFICATION} characters`, { expression: ['justification'] });
  }
  const now = ctx.clock().toISOString();
  const open = await ctx.db.selectFrom('emergency_sessions').selectAll()
    .where('record_id', '=', recordId).where('practitioner_id', '=', actor.id).where('mode', '=', 'bris_de_glace')
    .where('expires_at', '>', now).orderBy('started_at', 'desc').executeTakeFirst();
  if (open) return { sessionId: open.id, mode: 'bris_de_glace', startedAt: open.started_at, expiresAt: open.expires_at, reused: true };
  return { ...(await startEmergency(ctx, actor, recordId, 'bris_de_glace', text)), reused: false };
}

/** The professional's emergency session still open on a record, if any (for the countdown). */
export async function openEmergencyOf(ctx: Ctx, actor: Actor, recordId: string) {
  if (actor.kind !== 'professional') return undefined;
  const now = ctx.clock().toISOString();
  const s = await ctx.db.selectFrom('emergency_sessions').select(['id', 'mode', 'started_at', 'expires_at'])
    .where('record_id', '=', recordId).where('practitioner_id', '=', actor.id).where('expires_at', '>', now)
    .orderBy('started_at', 'desc').executeTakeFirst();
  return s ? { sessionId: s.id, mode: s.mode, startedAt: s.started_at, expiresAt: s.expires_at } : undefined;
}
