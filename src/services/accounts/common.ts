/**
 * What the account use cases share: the account's own data key, the roles a person holds (holder
 * of their record, legal representative or caregiver on linked records), the actor a token is
 * minted for, the audit entries on the chains of those records, and the codes written to the
 * notifications outbox.
 */
import { randomUUID } from 'node:crypto';
import { forbidden, invalid } from '../../domain/errors.ts';
import { parseIns } from '../../domain/ins.ts';
import { openJson, open, seal } from '../../crypto/envelope.ts';
import { appendAudit, type AuditOutcome } from '../../audit/audit.ts';
import type { TokenActor } from '../../auth/access-token.ts';
import type { AccountTable } from '../../store/schema-accounts.ts';
import { aad as recordAad, holderDemographics, holderDisplayName } from '../internal/repo.ts';
import type { Ctx } from '../context.ts';

export type AccountRow = AccountTable;
export type PersonRole = 'holder' | 'legal_representative' | 'caregiver';
export const PERSON_ROLES: readonly PersonRole[] = ['holder', 'legal_representative', 'caregiver'];

/** Records whose holder may log in (an opposed or deleted record has no holder access). */
const HOLDER_STATES = new Set(['pending', 'active', 'closed', 'suspended']);

/** SMART scopes of a person's token: the access decision then says what each role may do. */
export const PERSON_SCOPES = ['patient/*.cruds'];
export const PORTAL_CLIENT_ID = 'carnet-portal';

// ── the account's own data key (wrapped by the master key, re-wrapped by `carnet keys rotate`) ──
export const accountKeyId = (accountId: string) => `account:${accountId}`;
const accountAad = (accountId: string, what: 'totp' | 'totp-pending' | 'email') => `${accountKeyId(accountId)}:${what}`;

export async function createAccountKey(tx: Ctx, accountId: string) {
  return tx.keys.create(tx.db, accountKeyId(accountId), tx.clock());
}

export async function sealForAccount(ctx: Ctx, accountId: string, what: 'totp' | 'totp-pending' | 'email', value: string): Promise<Buffer> {
  const key = await ctx.keys.get(ctx.db, accountKeyId(accountId));
  return seal(key, value, accountAad(accountId, what));
}

export async function openForAccount(ctx: Ctx, accountId: string, what: 'totp' | 'totp-pending' | 'email', sealed: Buffer): Promise<string> {
  const key = await ctx.keys.get(ctx.db, accountKeyId(accountId));
  return open(key, Buffer.from(sealed), accountAad(accountId, what)).toString('utf8');
}

export async function accountByIns(ctx: Ctx, ins: string, oid?: string): Promise<AccountRow | undefined> {
  const parsed = parseIns(ins, oid);
  return ctx.db.selectFrom('accounts').selectAll().where('ins', '=', parsed.value).executeTakeFirst();
}

export async function accountById(ctx: Ctx, id: string): Promise<AccountRow | undefined> {
  return ctx.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

// ── roles ──
export interface Roles {
  /** The person's own record, when they may act as its holder. */
  holder?: { recordId: string; state: string };
  /** Records the person is linked to, by kind. */
  links: { recordId: string; kind: 'legal_representative' | 'caregiver'; personId: string }[];
}

export async function rolesOf(ctx: Ctx, ins: string): Promise<Roles> {
  const own = await ctx.db.selectFrom('records').select(['id', 'state']).where('ins', '=', ins).executeTakeFirst();
  const links = await ctx.db.selectFrom('record_persons').select(['id', 'record_id', 'kind']).where('person_ins', '=', ins)
    .where('removed_at', 'is', null).orderBy('added_at').execute();
  return {
    ...(own && HOLDER_STATES.has(own.state) ? { holder: { recordId: own.id, state: own.state } } : {}),
    links: links.map((l) => ({ recordId: l.record_id, kind: l.kind as 'legal_representative' | 'caregiver', personId: l.id })),
  };
}

export function availableRoles(r: Roles): PersonRole[] {
  const out: PersonRole[] = [];
  if (r.holder) out.push('holder');
  for (const k of ['legal_representative', 'caregiver'] as const) if (r.links.some((l) => l.kind === k)) out.push(k);
  return out;
}

/** The roles as the login response shows them. */
export const rolesView = (r: Roles) => [
  ...(r.holder ? [{ kind: 'holder' as const, record_ids: [r.holder.recordId] }] : []),
  ...(['legal_representative', 'caregiver'] as const)
    .map((kind) => ({ kind, record_ids: r.links.filter((l) => l.kind === kind).map((l) => l.recordId) }))
    .filter((x) => x.record_ids.length),
];

/**
 * The actor a person's token is minted for. A holder acts as their record (id = record id); a
 * representative or caregiver acts as themselves (id = their INS, as `record_persons` links them)
 * on every record they are linked to. Without `actAs`: holder first, then representative, then
 * caregiver.
 */
export async function personActor(ctx: Ctx, account: AccountRow, roles: Roles, actAs?: string): Promise<TokenActor> {
  const available = availableRoles(roles);
  if (!available.length) throw forbidden('ACCOUNT_NO_ROLE', 'This account gives access to no record (record closed to its holder, or link removed)');
  if (actAs !== undefined && !(PERSON_ROLES as readonly string[]).includes(actAs)) {
    throw invalid('ROLE_INVALID', 'act_as is holder, legal_representative or caregiver');
  }
  const role = (actAs as PersonRole | undefined) ?? available[0];
  if (!available.includes(role)) throw forbidden('ROLE_UNAVAILABLE', `This account cannot act as ${role}`, { details: { available } });
  if (role === 'holder') {
    const row = await ctx.db.selectFrom('records').selectAll().where('id', '=', roles.holder!.recordId).executeTakeFirstOrThrow();
    const name = holderDisplayName(await holderDemographics(ctx, row).catch(() => undefined)) || 'Titulaire';
    return { kind: 'holder', id: row.id, name: name.slice(0, 200) };
  }
  const link = roles.links.find((l) => l.kind === role)!;
  let name = role === 'legal_representative' ? 'Représentant légal' : 'Aidant';
  const row = await ctx.db.selectFrom('record_persons').select(['name_enc']).where('record_id', '=', link.recordId).where('id', '=', link.personId).executeTakeFirst();
  if (row) {
    try {
      const key = await ctx.keys.get(ctx.db, link.recordId);
      name = openJson<{ name: string }>(key, Buffer.from(row.name_enc), recordAad.person(link.recordId, link.personId)).name || name;
    } catch {
      // the linked record's key is gone (deleted record): keep the generic name
    }
  }
  return { kind: role, id: account.ins, name: name.slice(0, 200) };
}

// ── audit on the chains of the person's records ──
/**
 * Appends one entry per record the person acts on (their own record as holder, each linked record
 * as representative or caregiver), so each holder sees the logins that can reach their record. A
 * person with no record gets one entry on the system chain, under their account id only.
 */
export async function auditAccount(
  tx: Ctx,
  account: Pick<AccountRow, 'id' | 'ins'>,
  e: { action: string; outcome: AuditOutcome; reason?: string; detail?: Record<string, unknown> },
) {
  const roles = await rolesOfForAudit(tx, account.ins);
  const at = tx.clock();
  if (!roles.length) {
    await appendAudit(tx.db, tx.engine, { actor: { kind: 'account', id: account.id }, ...e, at });
    return;
  }
  for (const r of roles) {
    await appendAudit(tx.db, tx.engine, { recordId: r.recordId, actor: r.actor, ...e, detail: { ...e.detail, accountId: account.id }, at });
  }
}

async function rolesOfForAudit(tx: Ctx, ins: string) {
  const own = await tx.db.selectFrom('records').select(['id', 'state']).where('ins', '=', ins).executeTakeFirst();
  const links = await tx.db.selectFrom('record_persons').select(['record_id', 'kind']).where('person_ins', '=', ins).where('removed_at', 'is', null).execute();
  const out: { recordId: string; actor: { kind: string; id: string } }[] = [];
  if (own && own.state !== 'deleted') out.push({ recordId: own.id, actor: { kind: 'holder', id: own.id } });
  for (const l of links) out.push({ recordId: l.record_id, actor: { kind: l.kind, id: ins } });
  return out;
}

// ── the outbox (codes by e-mail) ──
export type AccountNotice = 'login_code' | 'password_reset_code' | 'account_activated' | 'account_locked' | 'password_changed';

/**
 * A message to the account's e-mail address, through the notifications outbox. The row names the
 * account, not the address (the sender opens `email_enc`); a code travels in the payload because
 * the sender must put it in the e-mail: it is single-use, expires within minutes, and only its hash
 * is kept on the account side.
 */
export async function notifyAccount(tx: Ctx, account: Pick<AccountRow, 'id' | 'ins'>, kind: AccountNotice, payload: Record<string, unknown>) {
  const own = await tx.db.selectFrom('records').select(['id']).where('ins', '=', account.ins).where('state', '!=', 'deleted').executeTakeFirst();
  const now = tx.clock().toISOString();
  await tx.db.insertInto('notifications').values({
    id: randomUUID(),
    record_id: own?.id ?? accountKeyId(account.id),
    recipient_kind: 'account',
    recipient_id: account.id,
    kind,
    payload: JSON.stringify(payload),
    created_at: now,
    due_at: now,
    delivered_at: null,
    dedupe_key: null,
  }).execute();
}

export const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
export function checkEmail(email: unknown): string {
  if (typeof email !== 'string' || email.length > 254 || !EMAIL_RE.test(email.trim())) {
    throw invalid('EMAIL_INVALID', 'A valid e-mail address is required (codes are sent there)');
  }
  return email.trim();
}

