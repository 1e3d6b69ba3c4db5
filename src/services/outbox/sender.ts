/**
 * The outbox's port to the outside world (DOMAIN §6: e-mail by SMTP, SMS as a pluggable sender).
 * A sender receives one rendered message — already in the person's language, without health
 * content — and either delivers it or throws. It never sees the notification row itself.
 */

/** How a message reaches a person: `email` and `sms` are real channels, `console` is for demos. */
export type Channel = 'email' | 'sms' | 'console';

export type Lang = 'fr' | 'en';

export interface OutboundMessage {
  /** The outbox row (for the sender's own bookkeeping, e.g. a Message-ID); not shown to anyone. */
  notificationId: string;
  /** The notification kind (`login_code`, `emergency_access`, …). */
  kind: string;
  lang: Lang;
  /** Where it goes; a sender uses the address of its channel. */
  to: { email?: string; phone?: string };
  subject: string;
  /** Plain text, short lines; for SMS the sender may send `sms` instead. */
  text: string;
  /** A one-line version for SMS-like channels. */
  sms: string;
}

export interface Sender {
  /** `console`, `smtp`, … (shown at start, never with an address). */
  readonly name: string;
  readonly channel: Channel;
  send(message: OutboundMessage): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A sender's failure. `code` goes to the row's `outcome` (never the message or the address);
 * `permanent` stops the retries (e.g. an address the mail server refuses).
 */
export class SendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

/** A stable, log-safe code for any error a sender threw. */
export function sendErrorCode(e: unknown): { code: string; permanent: boolean } {
  if (e instanceof SendError) return { code: safeCode(e.code), permanent: e.permanent };
  const err = e as { code?: unknown; responseCode?: unknown } | undefined;
  const responseCode = typeof err?.responseCode === 'number' ? err.responseCode : undefined;
  // an SMTP 5xx answer to the message or its recipient will not change by retrying
  if (responseCode !== undefined) return { code: `SMTP_${responseCode}`, permanent: responseCode >= 500 && responseCode < 600 };
  if (typeof err?.code === 'string') return { code: safeCode(`SEND_${err.code}`), permanent: false };
  return { code: 'SEND_FAILED', permanent: false };
}

const safeCode = (s: string) => s.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 40) || 'SEND_FAILED';
