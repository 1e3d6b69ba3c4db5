/**
 * The notifications outbox delivered (DOMAIN §6), on both engines: due and undelivered rows are
 * taken once (also by two passes at once), not-yet-due ones wait, failures come back with
 * back-off and are given up after the last attempt, expired codes and rows without an address are
 * set aside; messages carry no health content; and a real SMTP exchange with a local server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { addPatient } from '../addPatient.ts';
import { activateAccount } from '../accounts/activate.ts';
import { login } from '../accounts/login.ts';
import { loadOrCreateSigningKey } from '../../auth/signing-keys.ts';
import { notify } from '../internal/notify.ts';
import { freshIns, TEST_OID } from '../testkit.ts';
import type { TokenIssuer } from '../accounts/sessions.ts';
import { backoffMs, deliverDue, OUTBOX, settleBacklog, type DeliveryEvent } from './deliver.ts';
import { renderNotification } from './render.ts';
import { consoleSender, senderFromEnv, smtpSender } from './senders.ts';
import { SendError, type OutboundMessage, type Sender } from './sender.ts';
import { startOutboxLoop } from './loop.ts';

let c: TestCarnet;
let issuer: TokenIssuer;
const PASSWORD = 'une phrase de passe assez longue';

before(async () => {
  c = await openTestCarnet();
  issuer = { signer: await loadOrCreateSigningKey(c.dataDir), issuer: 'https://carnet.test', audience: 'https://carnet.test/fhir' };
});
after(async () => {
  await c.database.db.destroy();
  await new Promise((r) => setTimeout(r, 200));
  await c.cleanup();
});

/** A sender that records what it is given, and fails while `failures` > 0. */
function recorder(o: { failures?: number; error?: () => Error } = {}): Sender & { sent: OutboundMessage[]; tries: number } {
  let failures = o.failures ?? 0;
  const s = {
    name: 'test', channel: 'email' as const, sent: [] as OutboundMessage[], tries: 0,
    async send(m: OutboundMessage) {
      s.tries++;
      if (failures > 0) {
        failures--;
        throw o.error?.() ?? Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25 jeanne@example.org'), { code: 'ECONNECTION' });
      }
      s.sent.push(m);
    },
  };
  return s;
}

/** A holder with an account (e-mail address) and a login code waiting in the outbox. */
async function holderWithAccount(email: string) {
  const ins = freshIns();
  const r = await addPatient(c.ctx, {
    ins, insOid: TEST_OID, identityStatus: 'qualifiee', activateNow: true,
    demographics: { birthName: 'OUTBOX', firstNames: ['Alix'], sex: 'F', birthDate: '1990-01-01' },
  });
  const a = await activateAccount(c.ctx, { ins, insOid: TEST_OID, code: r.activationCode, password: PASSWORD, email });
  return { ins, recordId: r.recordId, accountId: a.accountId };
}

/** One new-document notice for the holder, alone in the outbox. */
async function oneNotice(email: string) {
  await settleBacklog(c.ctx, 'TEST_BEFORE');
  const h = await holderWithAccount(email);
  await settleBacklog(c.ctx, 'TEST_BEFORE');
  await notify(c.ctx, { recordId: h.recordId, recipient: { kind: 'holder', id: h.recordId }, kind: 'new_document', payload: { documentId: 'd1' } });
  return h;
}
const noticeOf = async (recordId: string) => (await rowsOf(recordId)).find((r) => r.kind === 'new_document')!;

const rowsOf = (recordId: string) => c.ctx.db.selectFrom('notifications').selectAll().where('record_id', '=', recordId).orderBy('created_at').execute();

describe('picking due rows', () => {
  test('a due, undelivered row is handed over once; a second pass finds nothing', async () => {
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    const h = await holderWithAccount('alix@example.org');
    await settleBacklog(c.ctx, 'TEST_BEFORE'); // the activation notice: not this test's subject
    const ch = await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD });
    assert.equal(ch.status, 'second_factor_required');
    const s = recorder();
    const first = await deliverDue(c.ctx, { sender: s });
    assert.equal(first.sent, 1);
    assert.equal(s.sent.length, 1);
    const m = s.sent[0];
    assert.equal(m.kind, 'login_code');
    assert.equal(m.to.email, 'alix@example.org');
    assert.equal(m.lang, 'fr');
    assert.match(m.subject, /code de connexion/);
    const code = /Votre code de connexion : (\d{6})/.exec(m.text)?.[1];
    assert.ok(code, 'the code is in the message');

    const second = await deliverDue(c.ctx, { sender: s });
    assert.deepEqual(second, { sent: 0, retried: 0, gaveUp: 0, skipped: 0 });
    assert.equal(s.sent.length, 1);

    const row = (await rowsOf(h.recordId)).find((r) => r.kind === 'login_code')!;
    assert.ok(row.delivered_at);
    assert.equal(row.outcome, 'sent');
    assert.equal(row.channel, 'email');
    assert.equal(row.attempts, 1);
    // the code served its purpose: it no longer sits in the database
    assert.equal(JSON.parse(row.payload).code, undefined);
    assert.ok(JSON.parse(row.payload).expiresAt);
  });

  test('two passes at once never hand the same row over twice', async () => {
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    const h = await holderWithAccount('twice@example.org');
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    for (let i = 0; i < 6; i++) {
      await notify(c.ctx, { recordId: h.recordId, recipient: { kind: 'holder', id: h.recordId }, kind: 'new_document', payload: { documentId: `d${i}` } });
    }
    const s = recorder();
    const [a, b] = await Promise.all([deliverDue(c.ctx, { sender: s }), deliverDue(c.ctx, { sender: s })]);
    // six new-document notices for the holder, sent to the address of the account on the record's INS
    assert.equal(a.sent + b.sent, 6);
    assert.equal(s.sent.length, 6);
    assert.equal(new Set(s.sent.map((m) => m.notificationId)).size, 6);
    assert.ok(s.sent.every((m) => m.to.email === 'twice@example.org'));
  });

  test('a row not yet due waits until it is', async () => {
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    const h = await holderWithAccount('later@example.org');
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    const dueAt = new Date(c.ctx.clock().getTime() + 3_600_000);
    await notify(c.ctx, { recordId: h.recordId, recipient: { kind: 'holder', id: h.recordId }, kind: 'invisible_document_notice', payload: { documentId: 'x' }, dueAt });
    const s = recorder();
    assert.equal((await deliverDue(c.ctx, { sender: s })).sent, 0);
    c.advance(3_600_000);
    assert.equal((await deliverDue(c.ctx, { sender: s })).sent, 1);
    assert.equal(s.sent[0].kind, 'invisible_document_notice');
  });
});

describe('failures', () => {
  test('a failed attempt comes back after the back-off, not before; then it is sent', async () => {
    const h = await oneNotice('retry@example.org');
    const events: DeliveryEvent[] = [];
    const s = recorder({ failures: 2 });
    const o = { sender: s, log: (e: DeliveryEvent) => events.push(e) };

    assert.equal((await deliverDue(c.ctx, o)).retried, 1);
    let row = await noticeOf(h.recordId);
    assert.equal(row.delivered_at, null);
    assert.equal(row.claimed_at, null, 'released for the next attempt');
    assert.equal(row.attempts, 1);
    assert.equal(row.outcome, 'SEND_ECONNECTION');
    assert.equal(Date.parse(row.due_at) - c.ctx.clock().getTime(), backoffMs(1));

    // before the back-off has passed: not tried
    c.advance(backoffMs(1) - 1000);
    await deliverDue(c.ctx, o);
    assert.equal(s.tries, 1);
    c.advance(1000);
    assert.equal((await deliverDue(c.ctx, o)).retried, 1);
    assert.equal(s.tries, 2);
    row = await noticeOf(h.recordId);
    assert.equal(Date.parse(row.due_at) - c.ctx.clock().getTime(), backoffMs(2));
    assert.equal(backoffMs(2), 2 * backoffMs(1), 'the wait doubles');

    c.advance(backoffMs(2));
    assert.equal((await deliverDue(c.ctx, o)).sent, 1);
    assert.equal(s.sent.length, 1);
    row = await noticeOf(h.recordId);
    assert.ok(row.delivered_at);
    assert.equal(row.attempts, 3);
    // what was logged: ids, kinds, codes — never the address or the error's text
    assert.deepEqual(events.map((e) => e.outcome), ['retry', 'retry', 'sent']);
    for (const e of events) assert.doesNotMatch(JSON.stringify(e), /retry@example\.org|ECONNREFUSED|127\.0\.0\.1/);
  });

  test('after the last attempt the row is given up, and never taken again', async () => {
    const h = await oneNotice('down@example.org');
    const s = recorder({ failures: 100 });
    for (let i = 0; i < OUTBOX.maxAttempts; i++) {
      await deliverDue(c.ctx, { sender: s });
      c.advance(OUTBOX.backoffMaxMs);
    }
    assert.equal(s.tries, OUTBOX.maxAttempts);
    const row = await noticeOf(h.recordId);
    assert.equal(row.delivered_at, null);
    assert.ok(row.claimed_at);
    assert.equal(row.attempts, OUTBOX.maxAttempts);
    await deliverDue(c.ctx, { sender: s });
    assert.equal(s.tries, OUTBOX.maxAttempts);
    assert.ok(backoffMs(20) <= OUTBOX.backoffMaxMs, 'the wait is capped');
  });

  test('a permanent refusal (SMTP 5xx) is not retried', async () => {
    const h = await oneNotice('refused@example.org');
    const s = recorder({ failures: 1, error: () => Object.assign(new Error('550 mailbox unavailable'), { responseCode: 550 }) });
    assert.equal((await deliverDue(c.ctx, { sender: s })).gaveUp, 1);
    const row = await noticeOf(h.recordId);
    assert.equal(row.outcome, 'SMTP_550');
    c.advance(OUTBOX.backoffMaxMs);
    await deliverDue(c.ctx, { sender: s });
    assert.equal(s.tries, 1);
    // a SendError may say so too
    assert.equal(new SendError('X', 'x', true).permanent, true);
  });
});

describe('rows set aside', () => {
  test('an expired code, a holder without address, a professional, an in-app-only kind: taken, not sent', async () => {
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    const h = await holderWithAccount('aside@example.org');
    await settleBacklog(c.ctx, 'TEST_BEFORE');
    await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD });
    const noAddress = await addPatient(c.ctx, {
      ins: freshIns(), insOid: TEST_OID, identityStatus: 'qualifiee', activateNow: true,
      demographics: { birthName: 'SANSMAIL', firstNames: ['Noa'], sex: 'U', birthDate: '2000-01-01' },
    });
    await notify(c.ctx, { recordId: h.recordId, recipient: { kind: 'professional', id: '10000000009' }, kind: 'emergency_access', payload: { mode: 'bris_de_glace' } });
    await notify(c.ctx, { recordId: h.recordId, recipient: { kind: 'holder', id: h.recordId }, kind: 'consent_changed', payload: { on: true } });
    c.advance(11 * 60_000); // the login code (10 minutes) has expired
    const s = recorder();
    const events: DeliveryEvent[] = [];
    const r = await deliverDue(c.ctx, { sender: s, log: (e) => events.push(e) });
    assert.equal(s.sent.length, 0);
    const codes = Object.fromEntries(events.map((e) => [e.kind, e.code]));
    assert.equal(codes.login_code, 'EXPIRED');
    assert.equal(codes.record_opened, 'NO_ADDRESS', 'the holder without account nor e-mail');
    assert.equal(codes.emergency_access, 'NO_ADDRESS', 'professionals have no address in Carnet');
    assert.equal(codes.consent_changed, 'IN_APP_ONLY');
    assert.equal(r.skipped, 4);
    assert.ok((await rowsOf(noAddress.recordId)).every((x) => x.claimed_at && !x.delivered_at));
    assert.equal((await deliverDue(c.ctx, { sender: s })).skipped, 0, 'set aside once');
  });
});

describe('what a message says', () => {
  test('French by default, English when asked; no names, no document facts', () => {
    const payload = { practitioner: '10000000041', name: 'Nadia Leroy', professionCode: '10', mode: 'bris_de_glace', startedAt: '2026-03-01T09:00:00Z', expiresAt: '2026-03-02T09:00:00Z' };
    const fr = renderNotification({ kind: 'emergency_access', recipientKind: 'holder', payload }, 'fr', { portalUrl: 'http://localhost:8080/connexion' })!;
    assert.match(fr.subject, /urgence/);
    assert.match(fr.text, /le 1 mars 2026 à 10:00, heure de Paris/);
    assert.match(fr.text, /http:\/\/localhost:8080\/connexion/);
    assert.doesNotMatch(fr.text + fr.subject + fr.sms, /Leroy|Nadia|10000000041/);
    const en = renderNotification({ kind: 'emergency_access', recipientKind: 'holder', payload }, 'en')!;
    assert.match(en.subject, /Emergency access/);
    assert.match(en.text, /on 1 March 2026 at 10:00, Paris time/);

    const doc = renderNotification({ kind: 'new_document', recipientKind: 'legal_representative', payload: { documentId: 'abc-123', classCode: 'BIO_CR' } }, 'fr')!;
    assert.match(doc.text, /la personne que vous représentez/);
    assert.doesNotMatch(doc.text, /abc-123|BIO|biolog/i);
    assert.equal(renderNotification({ kind: 'block_changed', recipientKind: 'holder', payload: {} }, 'fr'), undefined);
  });

  test('the console sender prints the message (the only place its content is printed)', async () => {
    let out = '';
    await consoleSender({ write: (s) => (out += s) }).send({
      notificationId: 'n1', kind: 'login_code', lang: 'fr', to: { email: 'a@example.org' }, subject: 'Votre code de connexion Carnet',
      text: 'Votre code de connexion : 123456', sms: '',
    });
    assert.match(out, /À: a@example\.org/);
    assert.match(out, /Votre code de connexion : 123456/);
  });

  test('the sender from the environment: none by default, console on a demo, smtp when configured', () => {
    assert.equal(senderFromEnv({}, { demo: false }).name, 'none');
    assert.equal(senderFromEnv({}, { demo: false }).sender, undefined);
    assert.equal(senderFromEnv({}, { demo: true }).name, 'console');
    assert.equal(senderFromEnv({ CARNET_MAIL_SENDER: 'none' }, { demo: true }).name, 'none');
    const smtp = senderFromEnv({ CARNET_SMTP_URL: 'smtp://user:secret@127.0.0.1:2525' }, { demo: true });
    assert.equal(smtp.name, 'smtp');
    assert.doesNotMatch(smtp.why, /secret/);
    assert.throws(() => senderFromEnv({ CARNET_MAIL_SENDER: 'smtp' }, { demo: false }), /CARNET_SMTP_URL/);
    assert.throws(() => senderFromEnv({ CARNET_MAIL_SENDER: 'pigeon' }, { demo: false }), /console, smtp or none/);
  });
});

describe('SMTP', () => {
  test('a login code reaches a local SMTP server, through the delivery loop', async () => {
    const received: { from?: string; to: string[]; data: string }[] = [];
    const server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, cb) {
        let data = '';
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (data += d));
        stream.on('end', () => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined, to: session.envelope.rcptTo.map((r) => r.address), data });
          cb();
        });
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    const port = (server.server.address() as AddressInfo).port;
    try {
      await settleBacklog(c.ctx, 'TEST_BEFORE');
      const h = await holderWithAccount('jeanne.smtp@example.org');
      await settleBacklog(c.ctx, 'TEST_BEFORE');
      await login(c.ctx, issuer, { ins: h.ins, insOid: TEST_OID, password: PASSWORD });
      const sender = smtpSender({ url: `smtp://127.0.0.1:${port}`, from: 'Carnet <carnet@example.org>' });
      const events: DeliveryEvent[] = [];
      const loop = startOutboxLoop(c.ctx, { sender, intervalMs: 50, log: (e) => events.push(e), portalUrl: 'http://localhost:8080/connexion' });
      for (let i = 0; i < 100 && !received.length; i++) await new Promise((r) => setTimeout(r, 50));
      await loop.stop();
      assert.equal(received.length, 1);
      assert.deepEqual(received[0].to, ['jeanne.smtp@example.org']);
      assert.equal(received[0].from, 'carnet@example.org');
      const mail = received[0].data;
      assert.match(mail, /Subject: Votre code de connexion Carnet/);
      assert.match(mail, /Auto-Submitted: auto-generated/);
      // the body (quoted-printable: accents encoded, lines may wrap) holds a 6-digit code
      const body = mail.replace(/=\r?\n/g, '');
      assert.match(body, /Votre code de connexion : \d{6}/);
      assert.deepEqual(events.map((e) => e.outcome), ['sent']);
      const row = (await rowsOf(h.recordId)).find((r) => r.kind === 'login_code')!;
      assert.equal(row.channel, 'email');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('an SMTP server that is down: the row waits for its retry', async () => {
    // a port nobody listens on
    const probe = new SMTPServer({ logger: false });
    probe.listen(0, '127.0.0.1');
    await once(probe.server, 'listening');
    const port = (probe.server.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const h = await oneNotice('nobody@example.org');
    const sender = smtpSender({ url: `smtp://127.0.0.1:${port}` });
    const r = await deliverDue(c.ctx, { sender });
    await sender.close?.();
    assert.equal(r.retried, 1);
    const row = await noticeOf(h.recordId);
    assert.match(row.outcome ?? '', /^SEND_/);
    assert.equal(row.claimed_at, null);
  });
});
