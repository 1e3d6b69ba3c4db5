/**
 * "Qui peut voir mon dossier" — who can see my record, as the holder's side reads it: the médecin
 * traitant, administrateurs, professionals authorized (explicitly or as care team) with since
 * when, blocked professionals, the emergency switches, linked persons, and recent emergency
 * accesses. Changes go through the rights services (rights.ts), which decide who may change what.
 */
import type { Actor, HolderSettings } from '../../domain/access/types.ts';
import { professionLabel } from '../../domain/access/index.ts';
import {
  blockPractitioner, demoteAdministrateur, grantConsent, objectToCareTeam, promoteAdministrateur, removeMedecinTraitant,
  revokeConsent, setMedecinTraitant, sharingOverview, unblockPractitioner, updateSettings,
} from '../rights.ts';
import { listPersons } from '../persons.ts';
import { invalid } from '../../domain/errors.ts';
import type { Ctx } from '../context.ts';
import { requireHolderSide } from './common.ts';

export interface SharedWith {
  rpps: string;
  name?: string;
  profession?: { code: string; fr: string; en: string };
  organisation?: string;
  since: string;
  until?: string;
  /** consent (you authorized them) or care_team (deemed authorized, R1111-46). */
  basis?: 'consent' | 'care_team';
}

export interface SharingView {
  settings?: HolderSettings;
  medecinTraitant?: SharedWith;
  administrateurs: SharedWith[];
  authorized: SharedWith[];
  blocked: SharedWith[];
  careTeamObjections: SharedWith[];
  persons: Array<{ id: string; kind: string; name: string; addedAt: string; delegation: unknown }>;
  emergencies: Array<{ rpps: string; name?: string; profession?: { code: string; fr: string; en: string }; mode: string; startedAt: string; expiresAt: string; open: boolean }>;
  /** The reader may change the sharing (holder, legal representative; never a caregiver). */
  canManage: boolean;
}

export async function sharingView(ctx: Ctx, actor: Actor, recordId: string): Promise<SharingView> {
  await requireHolderSide(ctx, actor, recordId);
  const overview = await sharingOverview(ctx, actor, recordId);
  const now = ctx.clock().toISOString();
  const sessions = await ctx.db.selectFrom('emergency_sessions').select(['practitioner_id', 'mode', 'started_at', 'expires_at'])
    .where('record_id', '=', recordId).orderBy('started_at', 'desc').limit(20).execute();
  const wanted = [...new Set([...overview.access.map((a) => a.practitioner), ...sessions.map((s) => s.practitioner_id)])];
  const practitioners = wanted.length
    ? await ctx.db.selectFrom('practitioners').leftJoin('organisations', 'organisations.finess', 'practitioners.organisation_finess')
      .select(['practitioners.rpps', 'practitioners.given', 'practitioners.family', 'practitioners.profession_code', 'organisations.name as org'])
      .where('practitioners.rpps', 'in', wanted).execute()
    : [];
  const byRpps = new Map(practitioners.map((p) => [p.rpps, p]));
  const who = (rpps: string) => {
    const p = byRpps.get(rpps);
    return {
      rpps,
      ...(p ? { name: `${p.given} ${p.family}`, profession: { code: p.profession_code, ...professionLabel(p.profession_code) } } : {}),
      ...(p?.org ? { organisation: p.org } : {}),
    };
  };
  const active = overview.access.filter((a) => !a.revokedAt && !(a.expiresAt && a.expiresAt <= now));
  const of = (kind: string) => active.filter((a) => a.kind === kind).map((a) => ({ ...who(a.practitioner), since: a.grantedAt, ...(a.expiresAt ? { until: a.expiresAt } : {}) }));
  const objections = of('care_team_objection');
  const objected = new Set(objections.map((o) => o.rpps));
  const blocked = of('block');
  const blockedSet = new Set(blocked.map((b) => b.rpps));
  const authorized = [
    ...of('consent').map((s) => ({ ...s, basis: 'consent' as const })),
    ...of('care_team').filter((s) => !objected.has(s.rpps)).map((s) => ({ ...s, basis: 'care_team' as const })),
  ].filter((s) => !blockedSet.has(s.rpps));
  const persons = await listPersons(ctx, recordId);
  return {
    ...(overview.settings ? { settings: overview.settings } : {}),
    ...(of('medecin_traitant')[0] ? { medecinTraitant: of('medecin_traitant')[0] } : {}),
    administrateurs: of('administrateur'),
    authorized,
    blocked,
    careTeamObjections: objections,
    persons: persons.map((p) => ({ id: p.id, kind: p.kind, name: p.name, addedAt: p.addedAt, delegation: p.delegation })),
    emergencies: sessions.map((s) => ({
      ...who(s.practitioner_id), mode: s.mode, startedAt: s.started_at, expiresAt: s.expires_at, open: s.expires_at > now,
    })),
    canManage: actor.kind !== 'caregiver' && !!overview.settings,
  };
}

export const SHARING_CHANGES = ['consent', 'block', 'medecin_traitant', 'administrateur', 'care_team_objection'] as const;
export type SharingChange = (typeof SHARING_CHANGES)[number];

/** One change of "who can see my record": on = grant/block/designate, off = the reverse. */
export async function changeSharing(ctx: Ctx, actor: Actor, recordId: string, change: SharingChange, rpps: string, on: boolean, opts: { until?: string } = {}) {
  await requireHolderSide(ctx, actor, recordId, { manage: true });
  switch (change) {
    case 'consent':
      return on ? grantConsent(ctx, actor, recordId, rpps, opts.until) : revokeConsent(ctx, actor, recordId, rpps);
    case 'block':
      return on ? blockPractitioner(ctx, actor, recordId, rpps) : unblockPractitioner(ctx, actor, recordId, rpps);
    case 'medecin_traitant':
      return on ? setMedecinTraitant(ctx, actor, recordId, rpps) : removeMedecinTraitant(ctx, actor, recordId, rpps);
    case 'administrateur':
      return on ? promoteAdministrateur(ctx, actor, recordId, rpps) : demoteAdministrateur(ctx, actor, recordId, rpps);
    case 'care_team_objection':
      if (!on) throw invalid('SHARING_CHANGE_UNSUPPORTED', 'An objection is withdrawn by authorizing the professional');
      return objectToCareTeam(ctx, actor, recordId, rpps);
    default:
      throw invalid('SHARING_CHANGE_UNKNOWN', 'Unknown kind of change');
  }
}

export async function changeSettings(ctx: Ctx, actor: Actor, recordId: string, patch: Partial<HolderSettings>) {
  await requireHolderSide(ctx, actor, recordId, { manage: true });
  const allowed: Array<keyof HolderSettings> = ['samuAllowed', 'breakGlassAllowed', 'maskedInEmergency', 'maskNewByDefault'];
  const clean: Partial<HolderSettings> = {};
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (!allowed.includes(k as keyof HolderSettings)) throw invalid('SETTINGS_UNKNOWN', `Unknown setting ${k}`);
    clean[k as keyof HolderSettings] = v as boolean;
  }
  if (!Object.keys(clean).length) throw invalid('SETTINGS_EMPTY', 'Nothing to change');
  return updateSettings(ctx, actor, recordId, clean);
}
