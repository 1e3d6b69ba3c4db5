/**
 * The holder's profile (DOMAIN §4): the trusted person (personne de confiance, CSP L1111-6),
 * advance directives (directives anticipées, L1111-11) and the organ-donation wish. Stored sealed
 * under the record's data key (deleting the record's key deletes it); the audit says that it
 * changed, never what it says.
 */
import { invalid } from '../../domain/errors.ts';
import type { Actor } from '../../domain/access/types.ts';
import { sealJson, openJson } from '../../crypto/envelope.ts';
import { appendAudit } from '../../audit/audit.ts';
import { assertRecordState, auditActor, recordById } from '../internal/repo.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { requireHolderSide } from './common.ts';

export interface TrustedPerson {
  name: string;
  relationship?: string;
  phone?: string;
  email?: string;
}

export interface AdvanceDirectives {
  /** The holder wrote advance directives. */
  written: boolean;
  /** Where the paper original is kept, or who keeps it. */
  keptBy?: string;
  /** The directives themselves, when the holder types them here. */
  text?: string;
}

export const ORGAN_DONATION_CHOICES = ['not_stated', 'donor', 'refuses'] as const;
export type OrganDonationChoice = (typeof ORGAN_DONATION_CHOICES)[number];

export interface HolderProfile {
  trustedPerson?: TrustedPerson;
  advanceDirectives?: AdvanceDirectives;
  organDonation?: { choice: OrganDonationChoice; note?: string };
  updatedAt?: string;
}

const aad = (recordId: string) => `${recordId}:portal-profile`;

export async function readProfile(ctx: Ctx, actor: Actor, recordId: string): Promise<HolderProfile> {
  const rel = await requireHolderSide(ctx, actor, recordId);
  if (rel.personLink === 'caregiver' && rel.delegation?.read !== true) return {};
  const row = await ctx.db.selectFrom('portal_profiles').selectAll().where('record_id', '=', recordId).executeTakeFirst();
  if (!row) return {};
  const key = await ctx.keys.get(ctx.db, recordId);
  return { ...openJson<HolderProfile>(key, Buffer.from(row.data_enc), aad(recordId)), updatedAt: row.updated_at };
}

const text = (v: unknown, field: string, max: number): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw invalid('PROFILE_INVALID', `${field} must be a text of at most ${max} characters`, { expression: [field] });
  return v.trim() || undefined;
};

/** Checks and normalises what the portal sends; unknown fields are refused. */
export function validateProfile(input: unknown): HolderProfile {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('PROFILE_INVALID', 'The profile must be an object');
  const p = input as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!['trustedPerson', 'advanceDirectives', 'organDonation', 'updatedAt'].includes(k)) throw invalid('PROFILE_INVALID', `Unknown field ${k}`, { expression: [k] });
  }
  const out: HolderProfile = {};
  if (p.trustedPerson) {
    const t = p.trustedPerson as Record<string, unknown>;
    const name = text(t.name, 'trustedPerson.name', 200);
    if (!name) throw invalid('PROFILE_INVALID', 'The trusted person needs a name', { expression: ['trustedPerson.name'] });
    const email = text(t.email, 'trustedPerson.email', 200);
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid('PROFILE_INVALID', 'The e-mail address is not valid', { expression: ['trustedPerson.email'] });
    const phone = text(t.phone, 'trustedPerson.phone', 40);
    if (phone && !/^[+0-9 ().-]{6,40}$/.test(phone)) throw invalid('PROFILE_INVALID', 'The phone number is not valid', { expression: ['trustedPerson.phone'] });
    out.trustedPerson = {
      name,
      ...(text(t.relationship, 'trustedPerson.relationship', 100) ? { relationship: text(t.relationship, 'trustedPerson.relationship', 100) } : {}),
      ...(phone ? { phone } : {}),
      ...(email ? { email } : {}),
    };
  }
  if (p.advanceDirectives) {
    const a = p.advanceDirectives as Record<string, unknown>;
    if (typeof a.written !== 'boolean') throw invalid('PROFILE_INVALID', 'advanceDirectives.written must be true or false', { expression: ['advanceDirectives.written'] });
    const keptBy = text(a.keptBy, 'advanceDirectives.keptBy', 300);
    const body = text(a.text, 'advanceDirectives.text', 20_000);
    out.advanceDirectives = { written: a.written, ...(keptBy ? { keptBy } : {}), ...(body ? { text: body } : {}) };
  }
  if (p.organDonation) {
    const o = p.organDonation as Record<string, unknown>;
    if (!(ORGAN_DONATION_CHOICES as readonly unknown[]).includes(o.choice)) throw invalid('PROFILE_INVALID', 'Unknown organ-donation choice', { expression: ['organDonation.choice'] });
    const note = text(o.note, 'organDonation.note', 1000);
    out.organDonation = { choice: o.choice as OrganDonationChoice, ...(note ? { note } : {}) };
  }
  return out;
}

export async function saveProfile(ctx: Ctx, actor: Actor, recordId: string, input: unknown): Promise<HolderProfile> {
  await requireHolderSide(ctx, actor, recordId, { manage: true });
  const profile = validateProfile(input);
  return inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    assertRecordState(record, ['active', 'pending', 'suspended'], 'Changing the profile');
    const key = await tx.keys.get(tx.db, recordId);
    const now = tx.clock().toISOString();
    const data_enc = sealJson(key, profile, aad(recordId));
    await tx.db.insertInto('portal_profiles').values({ record_id: recordId, data_enc, updated_at: now })
      .onConflict((oc) => oc.column('record_id').doUpdateSet({ data_enc, updated_at: now })).execute();
    await appendAudit(tx.db, tx.engine, {
      recordId, actor: auditActor(actor), action: 'profile.update', outcome: 'success',
      detail: { parts: Object.keys(profile) }, at: tx.clock(),
    });
    return { ...profile, updatedAt: now };
  });
}
