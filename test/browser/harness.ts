/**
 * Browser-test support: a real Carnet (demo population and the ANS example documents, real clock)
 * served over HTTPS on 127.0.0.1 with mutual TLS for card login, the built portal, and Debian's
 * Chromium driven by playwright-core. Screenshots go to test-results/portal/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import { openCarnet, type Carnet } from '../../src/services/carnet.ts';
import { seedDemo, DEMO } from '../../src/demo/seed.ts';
import { createInMemorySigningKey } from '../../src/auth/signing-keys.ts';
import { createTestCa, issueCard, issueServerCert, type KeyAndCert } from '../../src/auth/pki.ts';
import { freePort } from '../net.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const SHOTS = join(ROOT, 'test-results', 'portal');
export const CHROMIUM = process.env.CARNET_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export const HOLDER = { ins: DEMO.holders[0].ins, firstName: 'Jeanne' };
/** A physician of the demo with no right on the holder's record (Dr Nadia Leroy, CHU Demo Paris). */
export const EMERGENCY_DOCTOR = DEMO.practitioners[4];


export interface Portal {
  baseUrl: string;
  carnet: Carnet;
  app: FastifyInstance;
  browser: Browser;
  activationCode: string;
  recordId: string;
  card: KeyAndCert;
  close(): Promise<void>;
}

/** Builds web/dist if its sources changed (the same check `npm start` runs). */
export function buildPortal() {
  const r = spawnSync(process.execPath, [join(ROOT, 'web', 'build-if-needed.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the portal build failed');
}

export async function startPortal(): Promise<Portal> {
  if (!existsSync(CHROMIUM)) {
    // a failure, not a skip: the portal is not proven without its browser tests (checked before
    // anything is opened, so that the failing test file still ends)
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CARNET_CHROMIUM`);
  }
  buildPortal();
  mkdirSync(SHOTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-browser-'));
  const carnet = await openCarnet({ dataDir, migrate: true });
  const seeded = await seedDemo(carnet, { holderAccount: false }); // the test activates her account itself
  const activationCode = /activation code (\S+)/.exec(seeded.howTo)?.[1];
  if (!activationCode) throw new Error('the demo seed gave no activation code');
  const record = await carnet.ctx.db.selectFrom('records').select('id').where('ins', '=', HOLDER.ins).executeTakeFirstOrThrow();

  // the card authority (carnet pki's model), the server's certificate, and one professional's card
  const ca = createTestCa();
  const server = issueServerCert(ca, { hosts: ['127.0.0.1', 'localhost'] });
  const d = EMERGENCY_DOCTOR;
  const card = issueCard(ca, { rpps: d.rpps, professionCode: d.professionCode, given: d.given, family: d.family, organisationName: 'CHU Demo Paris' });

  const signingKey = await createInMemorySigningKey();
  const port = await freePort();
  const baseUrl = `https://127.0.0.1:${port}`;
  const app = await buildApp({
    carnet, signingKey, baseUrl, logger: false,
    https: { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false },
  });
  await app.listen({ port, host: '127.0.0.1' });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (e) {
    await app.close();
    await carnet.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    baseUrl, carnet, app, browser, activationCode, recordId: record.id, card,
    async close() {
      await browser.close().catch(() => {});
      await app.close();
      await carnet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function newPage(p: Portal, opts: { card?: boolean; viewport?: { width: number; height: number }; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await p.browser.newContext({
    baseURL: p.baseUrl,
    ignoreHTTPSErrors: true,
    viewport: opts.viewport ?? DESKTOP,
    deviceScaleFactor: 1,
    locale: opts.locale ?? 'fr-FR',
    timezoneId: 'Europe/Paris',
    ...(opts.card ? { clientCertificates: [{ origin: p.baseUrl, cert: Buffer.from(p.card.certPem), key: Buffer.from(p.card.keyPem) }] } : {}),
    ...(opts.viewport && opts.viewport.width < 600 ? { isMobile: true, hasTouch: true } : {}),
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

/** A full-page screenshot, after fonts are ready. */
export async function shot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  await page.evaluate('document.fonts.ready.then(() => true)');
  // sticky and fixed bars would be drawn mid-page on a scrolled full-page capture
  if (opts.fullPage !== false) await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: opts.fullPage !== false });
}

/** The one-time login code the e-mail channel would deliver (read from the notifications outbox). */
export async function lastLoginCode(p: Portal): Promise<string> {
  const row = await p.carnet.ctx.db.selectFrom('notifications').select('payload').where('kind', '=', 'login_code').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  return String(JSON.parse(row.payload).code);
}

/** Carnet's id of a document of the holder's record, by the uniqueId its CDA carries. */
export async function documentIdByUniqueId(p: Portal, uniqueId: string): Promise<string> {
  const row = await p.carnet.ctx.db.selectFrom('documents').select('id').where('record_id', '=', p.recordId).where('unique_id', '=', uniqueId).executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Polls `check` until it holds or `ms` pass, for screens that replace a list asynchronously; the
 * assertions after it decide (a check that never holds leaves at the deadline and they fail).
 */
export async function settle(page: Page, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; await page.waitForTimeout(100)) {
    if (await check()) return;
  }
}
