/**
 * The holder's "Double authentification" in Chromium: from the profile, enrol an authenticator app
 * (password again, QR code drawn under the page's CSP, the key as text, a first code computed with
 * otplib), log out, and log in again with the app's code instead of an e-mailed one. The same in
 * English for the section's words. Screenshots under test-results/portal/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { activateAccount } from '../../src/services/accounts/activate.ts';
import { totpNow } from '../../src/services/accounts/totp.ts';
import { HOLDER, lastLoginCode, newPage, shot, startPortal, type Portal } from './harness.ts';

const PASSWORD = 'quatre-saisons-au-jardin';

describe('two-step login with an authenticator app, in Chromium', { concurrency: false }, () => {
  let p: Portal;
  let holder: { context: BrowserContext; page: Page };
  let secret = '';

  before(async () => {
    p = await startPortal();
    await activateAccount(p.carnet.ctx, { ins: HOLDER.ins, insOid: '1.2.250.1.213.1.4.10', code: p.activationCode, password: PASSWORD, email: 'jeanne.dupont@example.org' });
    holder = await newPage(p);
  });
  after(async () => {
    await p?.close();
  });

  async function logIn(page: Page, code: () => Promise<string>) {
    await page.goto('/connexion');
    await page.getByLabel('Identifiant national de santé (INS)').fill(HOLDER.ins);
    await page.getByLabel('Mot de passe', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Continuer' }).click();
    await page.getByLabel('Code de sécurité').waitFor();
    await page.getByLabel('Code de sécurité').fill(await code());
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL('**/espace');
  }

  test('the profile enrols an authenticator app: password, QR code and key, first code', async () => {
    const { page } = holder;
    await logIn(page, () => lastLoginCode(p));
    await page.goto('/espace/profil');
    const section = page.getByRole('region', { name: 'Double authentification' });
    await section.waitFor();
    await section.getByText('code envoyé par e-mail').waitFor();
    await section.getByRole('button', { name: 'Utiliser une application d’authentification' }).click();

    // a wrong password is refused, plainly
    const pw = section.getByLabel('Votre mot de passe');
    assert.equal(await pw.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement), true, 'focus goes to the password field');
    await pw.fill('pas le bon mot de passe');
    await section.getByRole('button', { name: 'Continuer' }).click();
    await section.getByText('Le mot de passe est incorrect.').waitFor();
    await pw.fill(PASSWORD);
    await section.getByRole('button', { name: 'Continuer' }).click();

    await section.getByRole('heading', { name: 'Ajoutez Carnet à votre application' }).waitFor();
    const qr = section.getByRole('img', { name: 'QR code à scanner avec votre application d’authentification' });
    await qr.waitFor();
    // drawn: the data: URL passed the CSP and decoded
    assert.ok((await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0, 'the QR code is drawn');
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
    secret = ((await section.locator('code.twofa-secret').textContent()) ?? '').replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'the key is shown as text (base32)');
    await section.getByText('Afficher le lien otpauth://').click();
    assert.match((await section.locator('.twofa-uri code').textContent()) ?? '', new RegExp(`^otpauth://totp/.*secret=${secret}`));
    await shot(page, '20-profile-totp-scan');

    // a wrong first code is refused; the right one switches the account
    const codeField = section.getByLabel('Code à 6 chiffres affiché par l’application');
    const now = await totpNow(secret, new Date());
    await codeField.fill(now === '000000' ? '111111' : '000000');
    await section.getByRole('button', { name: 'Confirmer' }).click();
    await section.getByText(/Ce code ne correspond pas/).waitFor();
    await codeField.fill(await totpNow(secret, new Date()));
    await section.getByRole('button', { name: 'Confirmer' }).click();
    await page.getByText('Votre application d’authentification est activée').first().waitFor();
    await section.getByText('application d’authentification', { exact: true }).waitFor();
    await section.getByRole('button', { name: 'Changer d’application d’authentification' }).waitFor();
    await shot(page, '21-profile-totp-on');
    const row = await p.carnet.ctx.db.selectFrom('accounts').select('second_factor').where('ins', '=', HOLDER.ins).executeTakeFirstOrThrow();
    assert.equal(row.second_factor, 'totp');
  });

  test('after logging out, the app’s code logs in (no e-mail)', async () => {
    const { page } = holder;
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/espace'));
    const mailed = await p.carnet.ctx.db.selectFrom('notifications').select('id').where('kind', '=', 'login_code').execute();
    // the code the confirmation used is spent: the app's next one (±1 step is accepted)
    await logIn(page, async () => {
      await page.getByText('Saisissez le code à 6 chiffres affiché par votre application d’authentification.').waitFor();
      return totpNow(secret, new Date(Date.now() + 30_000));
    });
    await page.getByRole('heading', { level: 1, name: `Bonjour ${HOLDER.firstName}` }).waitFor();
    const after = await p.carnet.ctx.db.selectFrom('notifications').select('id').where('kind', '=', 'login_code').execute();
    assert.equal(after.length, mailed.length, 'no code was e-mailed');
  });

  test('the section in English', async () => {
    const { page } = holder;
    await page.goto('/espace/profil');
    await page.getByRole('button', { name: /EN/ }).click();
    const section = page.getByRole('region', { name: 'Two-step login' });
    await section.getByText('authenticator app', { exact: true }).waitFor();
    await section.getByRole('button', { name: 'Change authenticator app' }).waitFor();
    await page.getByRole('button', { name: /FR/ }).click();
  });
});
