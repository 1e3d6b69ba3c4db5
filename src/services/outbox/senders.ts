/**
 * The senders Carnet ships: `console` (prints each message on the server's standard output — for
 * demos only: it is the one place a message's content is printed), `smtp` (e-mail through
 * nodemailer, `CARNET_SMTP_URL`), and `none` (nothing is sent: rows stay in the outbox for the
 * in-app notification centre — the default of a real installation). SMS plugs in as any object
 * implementing `Sender` with channel `sms`.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { CarnetError } from '../../domain/errors.ts';
import { SendError, type OutboundMessage, type Sender } from './sender.ts';

export type SenderName = 'console' | 'smtp' | 'none';

/** Prints each message, framed, on `write` (default: the process's standard output). */
export function consoleSender(o: { write?: (s: string) => void } = {}): Sender {
  const write = o.write ?? ((s: string) => process.stdout.write(s));
  return {
    name: 'console',
    channel: 'console',
    async send(m: OutboundMessage) {
      const head = m.lang === 'fr' ? 'message de Carnet (envoi console, démonstration)' : 'Carnet message (console sender, demo)';
      const rule = '─'.repeat(72);
      write([
        `┌${rule}`,
        `│ ${head}`,
        `│ ${m.lang === 'fr' ? 'À' : 'To'}: ${m.to.email ?? m.to.phone ?? '—'}`,
        `│ ${m.lang === 'fr' ? 'Objet' : 'Subject'}: ${m.subject}`,
        '│',
        ...m.text.split('\n').map((l) => `│ ${l}`),
        `└${rule}`,
        '',
      ].join('\n'));
    },
  };
}

/**
 * E-mail by SMTP. `url` as nodemailer reads it: `smtp://user:pass@host:587` (STARTTLS when the
 * server offers it), `smtps://…:465` (TLS from the start); query options such as
 * `?tls.rejectUnauthorized=false` are nodemailer's. `from` defaults to `CARNET_MAIL_FROM`.
 */
export function smtpSender(o: { url: string; from?: string }): Sender {
  let transport: Transporter;
  try {
    transport = nodemailer.createTransport(o.url);
  } catch {
    throw new CarnetError('SMTP_URL_INVALID', 'invalid', 'CARNET_SMTP_URL is not a valid SMTP URL (smtp://user:pass@host:port)');
  }
  const from = o.from ?? 'Carnet <ne-pas-repondre@carnet.invalid>';
  return {
    name: 'smtp',
    channel: 'email',
    async send(m: OutboundMessage) {
      if (!m.to.email) throw new SendError('NO_ADDRESS', 'No e-mail address', true);
      await transport.sendMail({
        from,
        to: m.to.email,
        subject: m.subject,
        text: m.text,
        headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': m.lang },
      });
    },
    async close() {
      transport.close();
    },
  };
}

export interface SenderChoice {
  name: SenderName;
  sender?: Sender;
  /** Why this one, in a line for the start banner (no secret: the SMTP URL's password is not shown). */
  why: string;
}

/**
 * The sender from the environment: `CARNET_MAIL_SENDER` = console | smtp | none; unset, `smtp`
 * when `CARNET_SMTP_URL` is set, `console` on a demo installation, else `none`.
 */
export function senderFromEnv(env: NodeJS.ProcessEnv, o: { demo: boolean }): SenderChoice {
  const asked = env.CARNET_MAIL_SENDER?.trim().toLowerCase();
  if (asked && !['console', 'smtp', 'none'].includes(asked)) {
    throw new CarnetError('MAIL_SENDER_UNKNOWN', 'invalid', 'CARNET_MAIL_SENDER is console, smtp or none');
  }
  const name: SenderName = (asked as SenderName | undefined) ?? (env.CARNET_SMTP_URL ? 'smtp' : o.demo ? 'console' : 'none');
  const why = asked ? 'CARNET_MAIL_SENDER' : env.CARNET_SMTP_URL ? 'CARNET_SMTP_URL' : o.demo ? 'demo installation, nothing configured' : 'default';
  if (name === 'smtp') {
    if (!env.CARNET_SMTP_URL) throw new CarnetError('SMTP_URL_MISSING', 'invalid', 'CARNET_MAIL_SENDER=smtp needs CARNET_SMTP_URL');
    const sender = smtpSender({ url: env.CARNET_SMTP_URL, from: env.CARNET_MAIL_FROM || undefined });
    return { name, sender, why: `${why}; SMTP server ${smtpHost(env.CARNET_SMTP_URL)}` };
  }
  if (name === 'console') return { name, sender: consoleSender(), why };
  return { name, why };
}

/** host:port of an SMTP URL, without its credentials. */
function smtpHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}
