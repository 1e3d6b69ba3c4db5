/**
 * The holder-facing pages of the authorize step (server-rendered HTML, no script): log in (INS +
 * password, then the TOTP or e-mailed code), consent per purpose, errors. French first, English on
 * `lang=en`. Accessible without script: every field has its label, hints and errors are tied to
 * their fields (`aria-describedby`, `aria-invalid`), errors are announced (`role=alert`) and named
 * in the page title, the first field takes the focus. Pure functions returning strings; the HTTP
 * route sends them. Everything interpolated is escaped.
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
.error{background:#ffebe9;border:1px solid #ff8182;border-radius:8px;padding:.6rem .8rem;margin:0 0 1rem}
.error p{margin:0}
label{font-weight:600}
input[aria-invalid=true]{border:2px solid #cf222e}
a{color:#0b57d0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.actions{display:flex;gap:.75rem;margin-top:1.2rem}
button{font-size:1rem;padding:.55rem 1.2rem;border-radius:8px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f6feb}
input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;margin-bottom:.6rem}
.lang{float:right;font-size:.9rem}
`;

function layout(lang: Lang, title: string, body: string, switchHref?: string): string {
  const sw = switchHref ? `<a class="lang" href="${esc(switchHref)}" hreflang="${lang === 'fr' ? 'en' : 'fr'}" lang="${lang === 'fr' ? 'en' : 'fr'}">${lang === 'fr' ? 'English' : 'Français'}</a>` : '';
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
  codeTitle: { fr: 'Connexion à Carnet : code de vérification', en: 'Log in to Carnet: verification code' },
  errorPrefix: { fr: 'Erreur : ', en: 'Error: ' },
  loginIntro: {
    fr: (app: string) => `L’application « ${esc(app)} » demande l’accès à votre dossier. Connectez-vous à Carnet pour choisir ce que vous acceptez de partager.`,
    en: (app: string) => `The app “${esc(app)}” asks to access your record. Log in to Carnet to choose what you agree to share.`,
  },
  ins: { fr: 'Votre INS (numéro de sécurité sociale)', en: 'Your INS (French social security number)' },
  insHint: { fr: '15 chiffres, tels qu’ils figurent sur votre carte Vitale. Les espaces sont acceptés.', en: '15 digits, as on your Carte Vitale. Spaces are fine.' },
  password: { fr: 'Mot de passe', en: 'Password' },
  forgot: {
    fr: 'Mot de passe oublié ? Vous pouvez le réinitialiser depuis le <a href="/">portail Carnet</a>.',
    en: 'Forgot your password? You can reset it from the <a href="/">Carnet portal</a>.',
  },
  continue: { fr: 'Continuer', en: 'Continue' },
  codeIntro: {
    totp: {
      fr: 'Saisissez le code à 6 chiffres affiché par votre application d’authentification.',
      en: 'Enter the 6-digit code shown by your authenticator app.',
    },
    email: {
      fr: 'Nous venons de vous envoyer un code à 6 chiffres par e-mail. Il est valable 10 minutes.',
      en: 'We have just e-mailed you a 6-digit code. It is valid for 10 minutes.',
    },
  },
  code: { fr: 'Code de vérification (6 chiffres)', en: 'Verification code (6 digits)' },
  verify: { fr: 'Valider', en: 'Verify' },
  restart: { fr: 'Recommencer avec un autre compte', en: 'Start again with another account' },
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

/** A representative's or caregiver's login landed on the authorize page (their session is ended). */
export const NOT_HOLDER_MESSAGE: Message = {
  fr: 'Vous vous êtes connecté(e) en tant que représentant légal ou aidant. Pour l’instant, seul le titulaire du dossier peut y connecter une application : cette connexion n’a pas été conservée. Le titulaire peut lancer la connexion depuis l’application.',
  en: 'You logged in as a legal representative or caregiver. For now, only the holder of the record can connect an app to it: this login was not kept. The holder can start the connection from the app.',
};

/** The account reaches no record it could connect an app to. */
export const NO_RECORD_MESSAGE: Message = {
  fr: 'Ce compte ne donne accès à aucun dossier ouvert : aucune application ne peut y être connectée.',
  en: 'This account gives access to no open record: no app can be connected to it.',
};

/** What went wrong on a login page (plain text; escaped where it is written). */
export type LoginProblem =
  | { kind: 'LOGIN_FAILED' }
  | { kind: 'ACCOUNT_LOCKED'; lockedUntil?: string }
  | { kind: 'SECOND_FACTOR_WRONG' }
  | { kind: 'CHALLENGE_EXPIRED' }
  | { kind: 'CREDENTIAL_INVALID' }
  | { kind: 'SESSION_ENDED' }
  | { kind: 'CSRF' };

/** A time in Paris, as a person reads it (“14 h 32” / “2:32 PM”), with the date when it is not today. */
function parisTime(iso: string, lang: Lang, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const day = (x: Date) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short' }).format(x);
  const sameDay = day(d) === day(now);
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const fmt = new Intl.DateTimeFormat(locale, { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', ...(sameDay ? {} : { day: 'numeric', month: 'long' }) });
  return fmt.format(d);
}

export function loginProblemText(p: LoginProblem, lang: Lang, now: Date = new Date()): string {
  switch (p.kind) {
    case 'LOGIN_FAILED':
      return lang === 'fr'
        ? 'Connexion impossible : l’INS ou le mot de passe est incorrect. Vérifiez les deux et réessayez. Après cinq échecs, le compte est bloqué pour un temps.'
        : 'We could not log you in: the INS or the password is wrong. Check both and try again. After five failures the account is locked for a while.';
    case 'ACCOUNT_LOCKED': {
      const until = p.lockedUntil ? parisTime(p.lockedUntil, lang, now) : '';
      return lang === 'fr'
        ? `Trop de tentatives ont échoué : ce compte est bloqué${until ? ` jusqu’à ${until} (heure de Paris)` : ' pour un temps'}. Réessayez plus tard, ou réinitialisez votre mot de passe depuis le portail Carnet.`
        : `Too many attempts failed: this account is locked${until ? ` until ${until} (Paris time)` : ' for a while'}. Try again later, or reset your password from the Carnet portal.`;
    }
    case 'SECOND_FACTOR_WRONG':
      return lang === 'fr' ? 'Ce code est incorrect ou a expiré. Vérifiez-le et réessayez.' : 'This code is wrong or has expired. Check it and try again.';
    case 'CHALLENGE_EXPIRED':
      return lang === 'fr'
        ? 'Cette étape de connexion a expiré ou a déjà servi. Recommencez avec votre INS et votre mot de passe.'
        : 'This login step has expired or was already used. Start again with your INS and password.';
    case 'CREDENTIAL_INVALID':
      return lang === 'fr'
        ? 'Votre session Carnet n’est pas valide ou a pris fin. Connectez-vous avec votre INS et votre mot de passe.'
        : 'Your Carnet session is not valid or has ended. Log in with your INS and password.';
    case 'SESSION_ENDED':
      return lang === 'fr' ? 'Votre connexion a pris fin. Connectez-vous à nouveau.' : 'Your login has ended. Please log in again.';
    case 'CSRF':
      return lang === 'fr'
        ? 'Le formulaire n’est pas valide ou a expiré : réessayez. Votre navigateur doit accepter les cookies de Carnet.'
        : 'The form is not valid or has expired: try again. Your browser must accept Carnet’s cookies.';
  }
}

/** The error block: announced (role=alert), and described by the fields it concerns. */
const problemBlock = (text: string) => `<div class="error" id="form-error" role="alert"><p>${esc(text)}</p></div>`;
const switchHref = (requestId: string, lang: Lang) => `/oauth2/authorize/consent?request=${encodeURIComponent(requestId)}&lang=${lang === 'fr' ? 'en' : 'fr'}`;

export interface LoginPageOptions {
  lang: Lang;
  app: CatalogueApp;
  requestId: string;
  /** The form's anti-forgery token (services/apps/holder-session.ts `loginFormToken`). */
  csrf: string;
  problem?: LoginProblem;
  /** The INS typed before (kept after a failure; the password never is). */
  ins?: string;
  now?: Date;
}

/** Step 1: INS and password. */
export function loginPage(opts: LoginPageOptions): string {
  const { lang, app } = opts;
  const text = opts.problem ? loginProblemText(opts.problem, lang, opts.now) : undefined;
  const invalid = text ? ' aria-invalid="true"' : '';
  const errRef = text ? ' form-error' : '';
  const body = `
<h1>${T.loginTitle[lang]}</h1>
<p>${T.loginIntro[lang](app.name)}</p>
${text ? problemBlock(text) : ''}
<form method="post" action="/oauth2/authorize/login">
  <input type="hidden" name="request" value="${esc(opts.requestId)}">
  <input type="hidden" name="csrf" value="${esc(opts.csrf)}">
  <input type="hidden" name="lang" value="${lang}">
  <label for="ins">${T.ins[lang]}</label>
  <p class="note" id="ins-hint">${T.insHint[lang]}</p>
  <input type="text" id="ins" name="ins" value="${esc(opts.ins ?? '')}" autocomplete="username" spellcheck="false" autocapitalize="off" maxlength="32" required aria-describedby="ins-hint${errRef}"${invalid} autofocus>
  <label for="password">${T.password[lang]}</label>
  <input type="password" id="password" name="password" autocomplete="current-password" maxlength="256" required${text ? ' aria-describedby="form-error"' : ''}${invalid}>
  <div class="actions"><button type="submit">${T.continue[lang]}</button></div>
</form>
<p class="note">${T.forgot[lang]}</p>`;
  return layout(lang, `${text ? T.errorPrefix[lang] : ''}${T.loginTitle[lang]}`, body, switchHref(opts.requestId, lang));
}

/** Step 2: the TOTP or e-mailed code (the challenge itself stays in an HttpOnly cookie). */
export function secondFactorPage(opts: { lang: Lang; app: CatalogueApp; requestId: string; csrf: string; method: 'totp' | 'email'; problem?: LoginProblem; now?: Date }): string {
  const { lang } = opts;
  const text = opts.problem ? loginProblemText(opts.problem, lang, opts.now) : undefined;
  const body = `
<h1>${T.codeTitle[lang]}</h1>
<p id="code-intro">${T.codeIntro[opts.method][lang]}</p>
${text ? problemBlock(text) : ''}
<form method="post" action="/oauth2/authorize/login/code">
  <input type="hidden" name="request" value="${esc(opts.requestId)}">
  <input type="hidden" name="csrf" value="${esc(opts.csrf)}">
  <input type="hidden" name="lang" value="${lang}">
  <label for="code">${T.code[lang]}</label>
  <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" maxlength="12" required aria-describedby="code-intro${text ? ' form-error' : ''}"${text ? ' aria-invalid="true"' : ''} autofocus>
  <div class="actions"><button type="submit">${T.verify[lang]}</button></div>
</form>
<p class="note"><a href="/oauth2/authorize/consent?request=${encodeURIComponent(opts.requestId)}&amp;restart=1${lang === 'en' ? '&amp;lang=en' : ''}">${T.restart[lang]}</a></p>`;
  return layout(lang, `${text ? T.errorPrefix[lang] : ''}${T.codeTitle[lang]}`, body, switchHref(opts.requestId, lang));
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
