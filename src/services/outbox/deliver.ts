/**
 * Delivering the notifications outbox (DOMAIN §6). One pass (`deliverDue`) takes the due,
 * undelivered rows, finds where each goes (the account's e-mail address, opened with the
 * account's own key), renders it without health content and hands it to the sender.
 *
 * Each row is taken by one atomic update (`claimed_at` from null to now): two passes — two
 * servers on one PostgreSQL — never take the same row, and a taken row is released again only
 * after a failed attempt, with back-off. So a row is handed to a sender at most once successfully;
 * a process that dies between the hand-over and the bookkeeping leaves the row taken, and it is
 * not sent again (at most once, by choice: codes expire within minutes, and a duplicate emergency
 * e-mail would be worse than the in-app notice the holder sees anyway).
 *
 * Nothing of a message goes to the logs: the `log` callback gets row id, kind and outcome code.
 */
import type { Ctx } from '../context.ts';
import type { NotificationTable } from '../../store/schema.ts';
import { openForAccount } from '../accounts/common.ts';
import { holderDemographics } from '../internal/repo.ts';
import { renderNotification, type RenderOptions } from './render.ts';
import { sendErrorCode, type Lang, type OutboundMessage, type Sender } from './sender.ts';

export const OUTBOX = {
  /** Rows looked at per pass. */
  batch: 50,
  /** Attempts before giving up on a row (the in-app centre still shows what concerns the holder). */
  maxAttempts: 8,
  /** First retry after 30 s, then doubling, at most 1 h apart. */
  backoffBaseMs: 30_000,
  backoffMaxMs: 3_600_000,
  /** A message due longer ago than this is not sent any more (e.g. after a long outage). */
  staleAfterMs: 72 * 3_600_000,
} as const;

/** Wait before attempt n + 1, after n failed attempts (n ≥ 1). */
export function backoffMs(failedAttempts: number, o: { baseMs?: number; maxMs?: number } = {}): number {
  const base = o.baseMs ?? OUTBOX.backoffBaseMs;
  const max = o.maxMs ?? OUTBOX.backoffMaxMs;
  return Math.min(max, base * 2 ** Math.max(0, failedAttempts - 1));
}

export type Outcome = 'sent' | 'retry' | 'gave_up' | 'skipped';

export interface DeliveryEvent {
  id: string;
  kind: string;
  outcome: Outcome;
  /** `sent`, or the code kept on the row (`NO_ADDRESS`, `EXPIRED`, `SMTP_550`, …). */
  code: string;
  attempts: number;
  nextAttemptAt?: string;
}

export interface DeliveryOptions extends RenderOptions {
  sender: Sender;
  batch?: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  staleAfterMs?: number;
  /** Told what happened to each row taken: ids, kinds and codes only. */
  log?: (e: DeliveryEvent) => void;
}

export interface DeliveryReport {
  sent: number;
  retried: number;
  gaveUp: number;
  skipped: number;
}

type Row = NotificationTable & { attempts: number };

/** Payload fields that are secrets for the recipient only: dropped from the row once sent. */
const SECRET_FIELDS = ['code'];

/** One pass over the outbox. Returns what it did; safe to run concurrently with another pass. */
export async function deliverDue(ctx: Ctx, o: DeliveryOptions): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, retried: 0, gaveUp: 0, skipped: 0 };
  const now = ctx.clock();
  const candidates = await ctx.db.selectFrom('notifications').select('id')
    .where('delivered_at', 'is', null).where('claimed_at', 'is', null).where('due_at', '<=', now.toISOString())
    .orderBy('due_at').limit(o.batch ?? OUTBOX.batch).execute();
  for (const { id } of candidates) {
    const row = await claim(ctx, id);
    if (!row) continue; // another pass took it
    const e = await deliverOne(ctx, row, o);
    if (e.outcome === 'sent') report.sent++;
    else if (e.outcome === 'retry') report.retried++;
    else if (e.outcome === 'gave_up') report.gaveUp++;
    else report.skipped++;
    o.log?.(e);
  }
  return report;
}

async function claim(ctx: Ctx, id: string): Promise<Row | undefined> {
  const at = ctx.clock().toISOString();
  const r = await ctx.db.updateTable('notifications')
    .set((eb) => ({ claimed_at: at, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id).where('claimed_at', 'is', null).where('delivered_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return undefined;
  return (await ctx.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst()) as Row | undefined;
}

async function deliverOne(ctx: Ctx, row: Row, o: DeliveryOptions): Promise<DeliveryEvent> {
  const now = ctx.clock();
  const base = { id: row.id, kind: row.kind, attempts: row.attempts };
  // a taken row that will not be sent stays taken, with the reason
  const skip = async (code: string): Promise<DeliveryEvent> => {
    await ctx.db.updateTable('notifications').set({ outcome: code }).where('id', '=', row.id).execute();
    return { ...base, outcome: 'skipped', code };
  };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(row.payload) as Record<string, unknown>;
  } catch {
    return skip('PAYLOAD_INVALID');
  }
  const expiresAt = typeof payload.expiresAt === 'string' ? payload.expiresAt : undefined;
  if (expiresAt && expiresAt <= now.toISOString()) return skip('EXPIRED');
  if (now.getTime() - Date.parse(row.due_at) > (o.staleAfterMs ?? OUTBOX.staleAfterMs)) return skip('STALE');

  const lang: Lang = payload.lang === 'en' ? 'en' : 'fr';
  const rendered = renderNotification({ kind: row.kind, recipientKind: row.recipient_kind, payload }, lang, o);
  if (!rendered) return skip('IN_APP_ONLY');
  let to: { email?: string; phone?: string } | undefined;
  try {
    to = await addressOf(ctx, row);
  } catch {
    to = undefined; // a destroyed key (deleted record or account): nowhere to send
  }
  const usable = o.sender.channel === 'sms' ? to?.phone : to?.email;
  if (!usable) return skip('NO_ADDRESS');

  const message: OutboundMessage = { notificationId: row.id, kind: row.kind, lang, to: to!, ...rendered };
  try {
    await o.sender.send(message);
  } catch (e) {
    const { code, permanent } = sendErrorCode(e);
    if (permanent || row.attempts >= (o.maxAttempts ?? OUTBOX.maxAttempts)) {
      await ctx.db.updateTable('notifications').set({ outcome: code }).where('id', '=', row.id).execute();
      return { ...base, outcome: 'gave_up', code };
    }
    const next = new Date(ctx.clock().getTime() + backoffMs(row.attempts, { baseMs: o.backoffBaseMs, maxMs: o.backoffMaxMs })).toISOString();
    await ctx.db.updateTable('notifications').set({ outcome: code, claimed_at: null, due_at: next }).where('id', '=', row.id).execute();
    return { ...base, outcome: 'retry', code, nextAttemptAt: next };
  }
  const kept = Object.fromEntries(Object.entries(payload).filter(([k]) => !SECRET_FIELDS.includes(k)));
  await ctx.db.updateTable('notifications').set({
    delivered_at: ctx.clock().toISOString(), outcome: 'sent', channel: o.sender.channel,
    ...(Object.keys(kept).length !== Object.keys(payload).length ? { payload: JSON.stringify(kept) } : {}),
  }).where('id', '=', row.id).execute();
  return { ...base, outcome: 'sent', code: 'sent' };
}

/**
 * Where a notification goes. Accounts keep their e-mail address sealed under their own key; a
 * holder's notices go to the account opened on the record's INS, else to the contact the record
 * was loaded with; a legal representative's to their own account. Professionals have no address
 * in Carnet yet.
 */
export async function addressOf(ctx: Ctx, row: Pick<NotificationTable, 'recipient_kind' | 'recipient_id'>): Promise<{ email?: string; phone?: string } | undefined> {
  const accountAddress = async (account: { id: string; email_enc: Buffer | null } | undefined) =>
    account?.email_enc ? openForAccount(ctx, account.id, 'email', Buffer.from(account.email_enc)) : undefined;
  switch (row.recipient_kind) {
    case 'account': {
      const account = await ctx.db.selectFrom('accounts').select(['id', 'email_enc']).where('id', '=', row.recipient_id).executeTakeFirst();
      const email = await accountAddress(account);
      return email ? { email } : undefined;
    }
    case 'holder': {
      const record = await ctx.db.selectFrom('records').selectAll().where('id', '=', row.recipient_id).executeTakeFirst();
      if (!record) return undefined;
      const account = await ctx.db.selectFrom('accounts').select(['id', 'email_enc']).where('ins', '=', record.ins).executeTakeFirst();
      const email = await accountAddress(account);
      const contact = record.holder_enc ? await holderDemographics(ctx, record).catch(() => undefined) : undefined;
      const out = { email: email ?? contact?.email, phone: contact?.phone };
      return out.email || out.phone ? out : undefined;
    }
    case 'legal_representative': {
      const account = await ctx.db.selectFrom('accounts').select(['id', 'email_enc']).where('ins', '=', row.recipient_id).executeTakeFirst();
      const email = await accountAddress(account);
      return email ? { email } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Marks every row not yet taken as settled without sending (`outcome` = `reason`): the demo seed
 * does it so that the notices of its own making (documents filed, records opened) are not mailed
 * out at the first start. They stay in the in-app centre.
 */
export async function settleBacklog(ctx: Ctx, reason = 'SEEDED'): Promise<number> {
  const r = await ctx.db.updateTable('notifications').set({ claimed_at: ctx.clock().toISOString(), outcome: reason })
    .where('delivered_at', 'is', null).where('claimed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}
