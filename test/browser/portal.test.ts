/**
 * The portals in a real browser (Debian's Chromium through playwright-core), against a real Carnet
 * over HTTPS on 127.0.0.1: a holder activates their account and logs in (password + e-mailed code,
 * keyboard only), reads a CDA lab report, masks it and lets masked documents show in an emergency;
 * a professional logs in with their card (mutual TLS), finds the patient, records consent, cannot
 * see the masked report, opens break-glass and reads it; the holder then sees that access,
 * highlighted, in the history. Screenshots of every main screen go to test-results/portal/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { metadataFromCda } from '../../src/services/internal/cda-metadata.ts';
import { fixturesDir } from '../../src/demo/seed.ts';
import {
  documentIdByUniqueId, EMERGENCY_DOCTOR, HOLDER, lastLoginCode, newPage, PHONE, settle, shot, startPortal, type Portal,
} from './harness.ts';

const PASSWORD = 'sept-cerises-bleues-2026';

/** Polls a condition (the page's own CSP forbids string evaluation, so no waitForFunction). */
async function until(cond: () => Promise<boolean>, what: string, tries = 100) {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting: ${what}`);
}
const EMAIL = 'jeanne.dupont@example.org';

describe('the portals in Chromium', { concurrency: false }, () => {
  let p: Portal;
  let holder: { context: BrowserContext; page: Page };
  let pro: { context: BrowserContext; page: Page };
  let tshId: string;
  let level1Id: string;

  before(async () => {
    p = await startPortal();
    const dir = fixturesDir();
    assert.ok(dir, 'the CDA fixtures are needed');
    tshId = await documentIdByUniqueId(p, metadataFromCda(readFileSync(join(dir, 'BIO-CR-BIO_2024.01_TSH_1.xml'))).uniqueId);
    level1Id = await documentIdByUniqueId(p, metadataFromCda(readFileSync(join(dir, 'BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml'))).uniqueId);
    holder = await newPage(p);
  });

  after(async () => {
    await p?.close();
  });

  test('the front door, in French by default, switches to English and back', async () => {
    const { page } = holder;
    await page.goto('/');
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    await page.getByRole('heading', { level: 1, name: /Vos documents de santé/ }).waitFor();
    await shot(page, '01-landing');
    await page.getByRole('button', { name: /EN/ }).click();
    await page.getByRole('heading', { level: 1, name: /Your health documents in one place/ }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.ok(await page.getByRole('link', { name: /My health space/ }).isVisible());
    await shot(page, '01-landing-en');
    await page.getByRole('button', { name: /FR/ }).click();
    await page.getByRole('heading', { level: 1, name: /Vos documents de santé/ }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  });

  test('a holder activates their account with the code of the opening notice', async () => {
    const { page } = holder;
    await page.goto('/connexion');
    await page.getByRole('link', { name: /Activer mon compte/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Activer mon compte' }).waitFor();
    await page.getByLabel('Identifiant national de santé (INS)').fill(HOLDER.ins);
    await page.getByLabel('Code à usage unique').fill(p.activationCode);
    await page.getByLabel('Adresse électronique').fill(EMAIL);
    await page.getByLabel('Mot de passe', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirmez le mot de passe').fill(PASSWORD);
    await shot(page, '02-activation');
    await page.getByRole('button', { name: 'Activer mon compte' }).click();
    await page.getByText('Votre compte est activé').waitFor();
  });

  test('login with the keyboard only: Tab to the fields, Enter to send (password, then the e-mailed code)', async () => {
    const { page } = holder;
    await page.goto('/connexion');
    await page.getByRole('heading', { level: 1, name: 'Connexion à mon espace santé' }).waitFor();
    await shot(page, '03-login');
    const focused = () => page.evaluate<string>('document.activeElement?.name || document.activeElement?.tagName');
    let tabs = 0;
    // the first stop is the skip link, then the brand and the language switch, then the form
    await page.keyboard.press('Tab');
    assert.match((await page.evaluate<string>('document.activeElement?.textContent ?? ""')), /Aller au contenu/);
    while ((await focused()) !== 'ins' && tabs++ < 12) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'ins', 'the INS field is reachable with Tab');
    await page.keyboard.type(HOLDER.ins);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByLabel('Code de sécurité').waitFor();
    assert.equal(await focused(), 'otp', 'focus moves to the code field');
    await shot(page, '04-login-code');
    await page.keyboard.type(await lastLoginCode(p));
    await page.keyboard.press('Enter');
    await page.waitForURL('**/espace');
    await page.getByRole('heading', { level: 1, name: `Bonjour ${HOLDER.firstName}` }).waitFor();
    await shot(page, '05-home');
  });

  test('the holder opens a CDA lab report and reads its results, then masks it', async () => {
    const { page } = holder;
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Mes documents' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mes documents' }).waitFor();
    await shot(page, '06-documents');
    await page.getByRole('button', { name: /^Biologie/ }).click();
    assert.equal(await page.getByRole('button', { name: /^Biologie/ }).getAttribute('aria-pressed'), 'true');
    await page.locator(`a[href="/espace/documents/${tshId}"]`).click();
    await page.getByRole('heading', { level: 1, name: "Compte rendu d'examens biologiques" }).waitFor();
    // the CDA is laid out as a document: its sections and the results table, not XML
    await page.getByRole('heading', { name: 'BIOCHIMIE' }).waitFor();
    const tsh = page.getByRole('row', { name: /Thyréostimuline \(TSH\)/ });
    assert.match(await tsh.innerText(), /1\.950 mUI\/l/);
    assert.match(await tsh.innerText(), /0\.270 - 4\.200/);
    assert.equal(await page.locator('text=<ClinicalDocument').count(), 0);
    assert.match(await page.locator('.paper-meta').innerText(), /Marcel CAMPARINI/);
    await shot(page, '07-viewer-cda');

    await page.getByRole('button', { name: 'Masquer aux professionnels' }).click();
    const dialog = page.getByRole('dialog', { name: 'Masquer ce document ?' });
    await dialog.waitFor();
    await shot(page, '08-mask-confirm');
    await dialog.getByRole('button', { name: 'Masquer aux professionnels' }).click();
    await page.getByText('Ce document est masqué').waitFor();
    assert.ok(await page.getByRole('button', { name: 'Ne plus masquer' }).isVisible());
    await page.getByRole('status').filter({ hasText: 'Le document est masqué.' }).waitFor();
  });

  test('a level-1 CDA shows its embedded PDF inline, under the page’s CSP', async () => {
    const { page } = holder;
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`/espace/documents/${level1Id}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const frame = page.locator('.pdf-frame iframe');
    await frame.waitFor();
    assert.match((await frame.getAttribute('src')) ?? '', /^blob:/);
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/.test(e)), [], 'nothing refused by the CSP');
    await shot(page, '07b-viewer-level1-pdf');
  });

  test('"who can see my record": the holder lets masked documents show in an emergency (one click, then a confirmation)', async () => {
    const { page } = holder;
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Qui peut voir mon dossier' }).click();
    await page.getByRole('heading', { level: 1, name: 'Qui peut voir mon dossier' }).waitFor();
    // the demo's médecin traitant and the pharmacist the holder authorized
    await page.getByText('Claire Martin').first().waitFor();
    assert.ok(await page.getByText('Sophie Petit').first().isVisible());
    const sw = page.getByRole('switch', { name: 'Montrer mes documents masqués en cas d’urgence' });
    assert.equal(await sw.getAttribute('aria-checked'), 'false');
    assert.equal(await page.getByRole('switch', { name: 'Accès en cas d’urgence (bris de glace)' }).getAttribute('aria-checked'), 'true');
    await shot(page, '09-sharing');
    await sw.click();
    const dialog = page.getByRole('dialog', { name: 'Montrer vos documents masqués en cas d’urgence ?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Confirmer' }).click();
        await page.getByRole('switch', { name: 'Montrer mes documents masqués en cas d’urgence', checked: true }).waitFor();
  });

  test('a professional logs in with their card, finds the patient, records consent, and cannot see the masked report', async () => {
    pro = await newPage(p, { card: true });
    const { page } = pro;
    await page.goto('/pro');
    await page.waitForURL('**/pro/connexion**');
    await page.getByRole('heading', { level: 1, name: 'Connexion professionnelle' }).waitFor();
    await shot(page, '10-pro-login');
    await page.getByRole('button', { name: 'Carte CPS (certificat)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Rechercher un patient' }).waitFor();
    assert.match(await page.locator('.whoami-pro').innerText(), new RegExp(`${EMERGENCY_DOCTOR.given} ${EMERGENCY_DOCTOR.family}`));

    await page.getByLabel('INS du patient').fill(HOLDER.ins);
    await page.getByLabel('Type d’identifiant').selectOption('TEST');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByText('Pas d’autorisation').first().waitFor();
    await shot(page, '11-pro-search');
    await page.getByRole('link', { name: 'Ouvrir le dossier' }).click();
    await page.getByText('Vous n’avez pas accès à ce dossier').waitFor();
    await shot(page, '12-pro-refused');

    await page.getByRole('button', { name: 'Enregistrer le consentement' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enregistrer le consentement du patient' });
    await dialog.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Le consentement du patient est enregistré.').waitFor();
    await page.getByLabel('Afficher aussi les documents de plus de 2 ans').check();
    // the longer list replaces the 2-year one asynchronously: wait for it before counting
    await settle(page, async () => (await page.locator('.doc-row').count()) > 5);
    assert.ok((await page.locator('.doc-row').count()) > 5, 'the physician lists the documents the matrix allows');
    assert.equal(await page.locator(`a[href$="/documents/${tshId}"]`).count(), 0, 'the masked report is not listed');
    await shot(page, '13-pro-documents');
  });

  test('break-glass: a clear warning, a required justification, a visible countdown — then the masked report is readable', async () => {
    const { page } = pro;
    await page.getByRole('button', { name: 'Ouvrir un accès d’urgence' }).click();
    await page.getByText('Avant d’ouvrir un accès d’urgence').waitFor();
    // no justification: refused in the page, nothing sent
    await page.getByRole('button', { name: 'Ouvrir l’accès d’urgence' }).click();
    await page.getByText('Le motif est obligatoire (au moins 10 caractères).').waitFor();
    await shot(page, '14-pro-breakglass-form');
    await page.getByLabel('Motif de l’accès d’urgence').fill('Patiente inconsciente aux urgences, suspicion de trouble thyroïdien');
    await page.getByLabel('J’atteste que le patient est en danger immédiat et ne peut pas donner son accord.').check();
    await page.getByRole('button', { name: 'Ouvrir l’accès d’urgence' }).click();
    const timer = page.getByRole('timer');
    await timer.waitFor();
    const first = await timer.innerText();
    assert.match(first, /\d+ h \d{2} min \d{2} s|\d{2} min \d{2} s/);
    await page.getByText('Accès d’urgence en cours (bris de glace)').waitFor();
    await page.locator(`a[href$="/documents/${tshId}"]`).first().waitFor();
    await until(async () => (await timer.innerText()) !== first, 'the countdown ticks');
    await shot(page, '15-pro-emergency');
    await page.locator(`a[href$="/documents/${tshId}"]`).first().click();
    await page.getByRole('heading', { name: 'BIOCHIMIE' }).waitFor();
    assert.match(await page.getByRole('row', { name: /Thyréostimuline \(TSH\)/ }).innerText(), /1\.950 mUI\/l/);
    assert.ok(await page.getByText('Masqué par le patient').first().isVisible());
    await page.getByText('Pourquoi vous pouvez lire ce document').waitFor();
    await shot(page, '16-pro-document-emergency');
  });

  test('the holder sees the professional’s accesses in the history, the emergency one highlighted, and can filter it', async () => {
    const { page } = holder;
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Historique des accès' }).click();
    await page.getByRole('heading', { level: 1, name: 'Historique des accès' }).waitFor();
    const doctor = `${EMERGENCY_DOCTOR.given} ${EMERGENCY_DOCTOR.family}`;
    const normalList = page.locator('.tl-item:not(.tl-emergency)', { hasText: 'a consulté la liste de vos documents' }).filter({ hasText: doctor });
    await normalList.first().waitFor();
    assert.match(await normalList.first().innerText(), /avec votre autorisation/);
    const emergency = page.locator('.tl-item.tl-emergency').filter({ hasText: doctor });
    await emergency.first().waitFor();
    assert.ok((await emergency.filter({ hasText: 'a ouvert un document' }).count()) >= 1, 'the emergency reading of the report is listed');
    assert.match(await emergency.filter({ hasText: 'a ouvert un document' }).first().innerText(), /Compte rendu d'examens biologiques/);
    assert.match(await emergency.first().innerText(), /Accès d’urgence \(bris de glace\)/);
    await shot(page, '17-history');
    await page.getByLabel('Mode d’accès').selectOption('bris_de_glace');
    await page.waitForURL('**mode=bris_de_glace');
    // the filtered list replaces the old one asynchronously: wait for it
    await settle(page, async () => (await page.locator('.tl-item').count()) > 0 && (await page.locator('.tl-item:not(.tl-emergency)').count()) === 0);
    assert.equal(await page.locator('.tl-item:not(.tl-emergency)').count(), 0, 'only emergency accesses remain');
    assert.ok((await page.locator('.tl-item.tl-emergency').count()) >= 1, 'the emergency accesses are listed');
    await shot(page, '18-history-emergency');

    // the home shows the emergency alert
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Accueil' }).click();
    const alert = page.getByRole('region', { name: 'Accès en urgence à votre dossier' });
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(doctor));
    await shot(page, '19-home-emergency');
  });

  test('profile screen and the phone-sized layout', async () => {
    const { page } = holder;
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Mon profil' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mon profil' }).waitFor();
    await page.getByLabel('Nom et prénom').fill('Paul Dupont');
    await page.getByLabel('Lien avec vous').fill('Frère');
    await page.getByRole('radio', { name: /Je souhaite donner mes organes/ }).check();
    await page.getByRole('button', { name: 'Enregistrer mon profil' }).click();
    await page.getByRole('status').filter({ hasText: 'Votre profil est enregistré.' }).waitFor();
    await shot(page, '20-profile');

    const phone = await newPage(p, { viewport: PHONE });
    const token = await holder.page.evaluate<string>("sessionStorage.getItem('carnet.session')");
    await phone.page.goto('/');
    await phone.page.evaluate(`sessionStorage.setItem('carnet.session', ${JSON.stringify(token)})`);
    for (const [path, name, title] of [
      ['/espace', 'phone-home', `Bonjour ${HOLDER.firstName}`],
      ['/espace/documents', 'phone-documents', 'Mes documents'],
      [`/espace/documents/${tshId}`, 'phone-viewer', "Compte rendu d'examens biologiques"],
      ['/espace/partage', 'phone-sharing', 'Qui peut voir mon dossier'],
      ['/espace/historique', 'phone-history', 'Historique des accès'],
    ] as const) {
      await phone.page.goto(path);
      await phone.page.getByRole('heading', { level: 1, name: title }).waitFor();
      await phone.page.waitForLoadState('networkidle');
      // nothing overflows sideways on a phone
      const overflow = await phone.page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 1, `${path} fits a phone screen (overflow ${overflow}px)`);
      await shot(phone.page, name, { fullPage: false });
    }
    await phone.context.close();
  });
});
