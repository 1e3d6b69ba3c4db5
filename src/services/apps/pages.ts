/**
 * The holder-facing pages of the authorize step (server-rendered HTML, no script): log in, consent
 * per purpose, errors. French first, English on `lang=en`. Pure functions returning strings; the
 * HTTP route sends them. Everything interpolated is escaped.
 */
import type { CatalogueApp } from './catalogue.ts';
import { describeReads } from './catalogue.ts';
import type { Message } from './authorize.ts';

export type Lang = 'fr' | 'en';
export const langOf = (v: unknown): Lang => (v === 'en' ? 'en' : 'fr');

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6f8;color:#1b1f23;margin:0}
main{max-width:36rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin-top:0}
fieldset{border:1px solid #d0d7de;border-radius:8px;margin:0 0 1rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .3rem}
label{display:block;margin:.4rem 0}
ul{margin:.3rem 0 .3rem 1.6rem;padding:0}
.note{color:#57606a;font-size:.92rem}
.error{background:#ffebe9;border:1px solid #ff8182;border-radius:8px;padding:.6rem .8rem}
.actions{display:flex;gap:.75rem;margin-top:1.2rem}
button{font-size:1rem;padding:.55rem 1.2rem;border-radius:8px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f6feb}
input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
.lang{float:right;font-size:.9rem}
`;

function layout(lang: Lang, title: string, body: string, switchHref?: string): string {
  const sw = switchHref ? `<a class="lang" href="${esc(switchHref)}" hreflang="${lang === 'fr' ? 'en' : 'fr'}">${lang === 'fr' ? 'English' : 'Français'}</a>` : '';
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>${sw}
${body}
</main></body>
</html>`;
}

const T = {
  loginTitle: { fr: 'Connexion à Carnet', en: 'Log in to Carnet' },
  loginIntro: {
    fr: (app: string) => `L’application « ${esc(app)} » demande l’accès à votre dossier. Connectez-vous à Carnet pour choisir ce que vous acceptez de partager.`,
    en: (app: string) => `The app “${esc(app)}” asks to access your record. Log in to Carnet to choose what you agree to share.`,
  },
  credential: { fr: 'Votre jeton de connexion Carnet (obtenu en vous connectant au portail)', en: 'Your Carnet login token (obtained by logging in to the portal)' },
  continue: { fr: 'Continuer', en: 'Continue' },
  loginFailed: { fr: 'Connexion impossible : identifiant invalide ou expiré.', en: 'Could not log you in: the credential is invalid or expired.' },
  /** Raw text: escaped where it is written. */
  consentTitle: { fr: (app: string) => `Autoriser « ${app} » ?`, en: (app: string) => `Allow “${app}”?` },
  consentIntro: {
    fr: (app: string) => `« ${esc(app)} » demande à lire des documents de votre dossier. Cochez les usages que vous acceptez : l’application ne lira que les documents nécessaires à ces usages.`,
    en: (app: string) => `“${esc(app)}” asks to read documents from your record. Tick the purposes you agree to: the app will read only the documents these purposes need.`,
  },
  reads: { fr: 'Documents lus :', en: 'Documents read:' },
  readOnly: { fr: 'L’application pourra lire ces documents, jamais les modifier ni les supprimer.', en: 'The app may read these documents, never change or delete them.' },
  offline: {
    fr: 'Elle restera connectée, même quand vous n’utilisez pas Carnet, jusqu’à ce que vous la déconnectiez.',
    en: 'It stays connected, even when you are not using Carnet, until you disconnect it.',
  },
  history: {
    fr: 'Chaque accès de l’application figurera dans l’historique des accès de votre dossier. Vous pourrez retirer cette autorisation à tout moment (Applications connectées).',
    en: 'Every access by the app will appear in your record’s access history. You can take this permission back at any time (Connected apps).',
  },
  approve: { fr: 'Autoriser', en: 'Allow' },
  deny: { fr: 'Refuser', en: 'Refuse' },
  errorTitle: { fr: 'Demande impossible', en: 'Request refused' },
};

export function loginPage(opts: { lang: Lang; app: CatalogueApp; requestId: string; error?: boolean }): string {
  const { lang, app } = opts;
  const body = `
<h1>${T.loginTitle[lang]}</h1>
<p>${T.loginIntro[lang](app.name)}</p>
${opts.error ? `<p class="error" role="alert">${T.loginFailed[lang]}</p>` : ''}
<form method="post" action="/oauth2/authorize/login">
  <input type="hidden" name="request" value="${esc(opts.requestId)}">
  <input type="hidden" name="lang" value="${lang}">
  <label for="holder_token">${T.credential[lang]}</label>
  <input type="password" id="holder_token" name="holder_token" autocomplete="off" required>
  <div class="actions"><button type="submit">${T.continue[lang]}</button></div>
</form>`;
  return layout(lang, T.loginTitle[lang], body, `/oauth2/authorize/consent?request=${encodeURIComponent(opts.requestId)}&lang=${lang === 'fr' ? 'en' : 'fr'}`);
}

export function consentPage(opts: { lang: Lang; app: CatalogueApp; requestId: string; csrf: string; scope: string; message?: Message }): string {
  const { lang, app } = opts;
  const purposes = app.purposes
    .map((p) => {
      const reads = describeReads(p.types, p.categories).map((r) => `<li>${esc(r.label[lang])}</li>`).join('');
      const label = lang === 'en' ? (p.labelEn ?? p.label) : p.label;
      return `<fieldset>
  <legend><label><input type="checkbox" name="purpose_${esc(p.id)}" value="on"> ${esc(label)}</label></legend>
  <span class="note">${T.reads[lang]}</span><ul>${reads}</ul>
</fieldset>`;
    })
    .join('\n');
  const scopes = opts.scope.split(' ');
  const body = `
<h1>${esc(T.consentTitle[lang](app.name))}</h1>
${app.description ? `<p class="note">${esc(app.description)}</p>` : ''}
<p>${T.consentIntro[lang](app.name)}</p>
${opts.message ? `<p class="error" role="alert">${esc(opts.message[lang])}</p>` : ''}
<form method="post" action="/oauth2/authorize/consent">
  <input type="hidden" name="request" value="${esc(opts.requestId)}">
  <input type="hidden" name="csrf" value="${esc(opts.csrf)}">
  <input type="hidden" name="lang" value="${lang}">
${purposes}
  <p class="note">${T.readOnly[lang]}${scopes.includes('offline_access') ? ` ${T.offline[lang]}` : ''}</p>
  <p class="note">${T.history[lang]}</p>
  <div class="actions">
    <button type="submit" name="decision" value="approve">${T.approve[lang]}</button>
    <button type="submit" name="decision" value="deny" class="secondary">${T.deny[lang]}</button>
  </div>
</form>`;
  return layout(lang, T.consentTitle[lang](app.name), body, `/oauth2/authorize/consent?request=${encodeURIComponent(opts.requestId)}&lang=${lang === 'fr' ? 'en' : 'fr'}`);
}

export function errorPage(opts: { lang: Lang; code: string; message: Message }): string {
  const body = `
<h1>${T.errorTitle[opts.lang]}</h1>
<p class="error" role="alert">${esc(opts.message[opts.lang])}</p>
<p class="note">Code : ${esc(opts.code)}</p>`;
  return layout(opts.lang, T.errorTitle[opts.lang], body);
}
