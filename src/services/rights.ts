/**
 * The holder's rights over who reads (DOMAIN §5): consent (TD0.3), blocks, médecin traitant,
 * administrateurs, care team, emergency switches, "mask new documents by default". Each change is
 * audited and, for consent and block changes, notified to the holder.
 */
import { randomUUID } from 'node:crypto';
import { forbidden, invalid } from '../domain/errors.ts';
import type { Actor, Decision, HolderSettings } from '../domain/access/types.ts';
import { canManageSharing } from '../domain/access/index.ts';
import { parseRpps } from '../domain/identity.ts';
import { appendAudit } from '../audit/audit.ts';
import { auditActor, assertRecordState, recordById, relationshipOf, settingsOf } from './internal/repo.ts';
import { notifyHolder } from './internal/notify.ts';
import { inTransaction, type Ctx } from './context.ts';

export type AccessKind = 'consent' | 'block' | 'care_team' | 'care_team_objection' | 'medecin_traitant' | 'administrateur';

async function requireSharingManager(tx: Ctx, actor: Actor, recordId: string) {
  const rel = await relationshipOf(tx, recordId, actor);
  const d = canManageSharing(actor, rel);
  if (!d.allow) {
    await appendAudit(tx.db, tx.engine, {
      recordId, actor: auditActor(actor), action: 'rights.change', outcome: 'deny', reason: d.reason, at: tx.clock(),
    });
    return d;
  }
  return undefined;
}

/** Adds (or revokes) one access row, after checking who may do it. */
async function setAccess(
  ctx: Ctx,
  actor: Actor,
  recordId: string,
  practitionerRpps: string,
  kind: AccessKind,
  on: boolean,
  opts: { expiresAt?: string; allowSelfDeclared?: boolean } = {},
) {
  const { rpps } = parseRpps(practitionerRpps);
  const result: { id?: string } | Decision = await inTransaction(ctx, async (tx): Promise<{ id?: string } | Decision> => {
    const record = await recordById(tx, recordId);
    assertRecordState(record, ['active', 'pending', 'suspended'], 'Changing access rights');
    const selfDeclared = opts.allowSelfDeclared && actor.kind === 'professional' && actor.id === rpps;
    if (!selfDeclared) {
      const denied = await requireSharingManager(tx, actor, record.id);
      if (denied) return denied;
    }
    const now = tx.clock().toISOString();
    if (kind === 'medecin_traitant') {
      // one médecin traitant at a time
      await tx.db.updateTable('record_access').set({ revoked_at: now })
        .where('record_id', '=', record.id).where('kind', '=', 'medecin_traitant').where('revoked_at', 'is', null).execute();
    } else {
      await tx.db.updateTable('record_access').set({ revoked_at: now })
        .where('record_id', '=', record.id).where('practitioner_id', '=', rpps).where('kind', '=', kind).where('revoked_at', 'is', null).execute();
    }
    let id: string | undefined;
    if (on) {
      id = randomUUID();
      await tx.db.insertInto('record_access').values({
        id, record_id: record.id, practitioner_id: rpps, kind, granted_at: now,
        expires_at: opts.expiresAt ? new Date(opts.expiresAt).toISOString() : null, revoked_at: null, granted_by: `${actor.kind}:${actor.id}`,
      }).execute();
    }
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: `rights.${kind}.${on ? 'grant' : 'revoke'}`, outcome: 'success',
      detail: { practitioner: rpps, ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}) }, at: tx.clock(),
    });
    if (kind === 'consent' || kind === 'block') {
      await notifyHolder(tx, record.id, {
        kind: kind === 'consent' ? 'consent_changed' : 'block_changed',
        payload: { practitioner: rpps, on, by: actor.kind },
      });
    }
    return { id };
  });
  if ('reason' in result) throw forbidden(result.reason, result.explanation.en);
  return result;
}

/**
 * TD0.3: records the holder's consent for a professional (optionally until `expiresAt`). The holder
 * (or a legal representative) may grant it; a professional may record the consent the holder gave
 * them in person (the PDSm flow).
 */
export const grantConsent = (ctx: Ctx, actor: Actor, recordId: string, rpps: string, expiresAt?: string) =>
  setAccess(ctx, actor, recordId, rpps, 'consent', true, { expiresAt, allowSelfDeclared: true });
export const revokeConsent = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'consent', false);
export const blockPractitioner = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'block', true);
export const unblockPractitioner = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'block', false);
export const setMedecinTraitant = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'medecin_traitant', true);
export const removeMedecinTraitant = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'medecin_traitant', false);
export const promoteAdministrateur = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'administrateur', true);
export const demoteAdministrateur = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'administrateur', false);
/** A professional caring for the person declares themself in the care team (deemed authorization). */
export const joinCareTeam = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'care_team', true, { allowSelfDeclared: true });
export const leaveCareTeam = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'care_team', false, { allowSelfDeclared: true });
/** The holder objects to a care-team member's deemed authorization (R1111-46). */
export const objectToCareTeam = (ctx: Ctx, actor: Actor, recordId: string, rpps: string) =>
  setAccess(ctx, actor, recordId, rpps, 'care_team_objection', true);

/** The holder's switches: SAMU, break-glass, masked-in-emergency, mask new documents by default. */
export async function updateSettings(ctx: Ctx, actor: Actor, recordId: string, patch: Partial<HolderSettings>): Promise<HolderSettings> {
  const result = await inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    assertRecordState(record, ['active', 'pending', 'suspended'], 'Changing settings');
    const denied = await requireSharingManager(tx, actor, record.id);
    if (denied) return { denied };
    for (const [k, v] of Object.entries(patch)) {
      if (typeof v !== 'boolean') throw invalid('SETTINGS_INVALID', `Setting ${k} must be true or false`);
    }
    const next = { ...(await settingsOf(tx, record.id)), ...patch };
    const values = {
      samu_allowed: next.samuAllowed ? 1 : 0,
      break_glass_allowed: next.breakGlassAllowed ? 1 : 0,
      masked_in_emergency: next.maskedInEmergency ? 1 : 0,
      mask_new_by_default: next.maskNewByDefault ? 1 : 0,
      updated_at: tx.clock().toISOString(),
    };
    await tx.db.insertInto('record_settings').values({ record_id: record.id, ...values })
      .onConflict((oc) => oc.column('record_id').doUpdateSet(values)).execute();
    await appendAudit(tx.db, tx.engine, {
      recordId: record.id, actor: auditActor(actor), action: 'rights.settings', outcome: 'success', detail: { ...patch }, at: tx.clock(),
    });
    return { settings: next };
  });
  if ('denied' in result && result.denied) throw forbidden(result.denied.reason, result.denied.explanation.en);
  return (result as { settings: HolderSettings }).settings;
}

/** Who can see the record: the holder's view of every right, for the portal and `Consent` search. */
export async function sharingOverview(ctx: Ctx, actor: Actor, recordId: string) {
  const record = await recordById(ctx, recordId);
  const rel = await relationshipOf(ctx, record.id, actor);
  const d = canManageSharing(actor, rel);
  // professionals may read the rights that concern themselves only (TD0.2 covers their status)
  const rows = await ctx.db.selectFrom('record_access').selectAll().where('record_id', '=', record.id).orderBy('granted_at').execute();
  const visible = d.allow ? rows : rows.filter((r) => actor.kind === 'professional' && r.practitioner_id === actor.id);
  const practitioners = await ctx.db.selectFrom('practitioners').selectAll()
    .where('rpps', 'in', visible.length ? [...new Set(visible.map((r) => r.practitioner_id))] : ['-']).execute();
  const byRpps = new Map(practitioners.map((p) => [p.rpps, p]));
  return {
    settings: d.allow ? await settingsOf(ctx, record.id) : undefined,
    access: visible.map((r) => ({
      id: r.id, kind: r.kind as AccessKind, practitioner: r.practitioner_id,
      practitionerName: byRpps.get(r.practitioner_id) ? `${byRpps.get(r.practitioner_id)!.given} ${byRpps.get(r.practitioner_id)!.family}` : undefined,
      professionCode: byRpps.get(r.practitioner_id)?.profession_code,
      grantedAt: r.granted_at, expiresAt: r.expires_at ?? undefined, revokedAt: r.revoked_at ?? undefined,
    })),
  };
}

/** The record an access right belongs to (a FHIR Consent read carries only its id); undefined if none. */
export async function accessRecordOf(ctx: Ctx, accessId: string): Promise<string | undefined> {
  const row = await ctx.db.selectFrom('record_access').select('record_id').where('id', '=', accessId).executeTakeFirst();
  return row?.record_id;
}
