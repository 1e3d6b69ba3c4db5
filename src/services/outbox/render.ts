/**
 * What a notification says, in French (English when the person chose it). Never health content:
 * no document title, type or category, no professional's name or speciality, nothing a
 * professional wrote — only that something happened, when, and where to look (the person's
 * space, behind their login). One-time codes are the only secrets a message carries.
 */
import type { Lang } from './sender.ts';

export interface RenderInput {
  kind: string;
  /** `account`, `holder`, `legal_representative` (professionals have no address in Carnet yet). */
  recipientKind: string;
  payload: Record<string, unknown>;
}

export interface RenderOptions {
  /** The holder's space, linked from every message (e.g. http://localhost:8080/connexion). */
  portalUrl?: string;
}

export interface Rendered {
  subject: string;
  text: string;
  sms: string;
}

/** The kinds the outbox sends; the others (consent or block changes the person made) stay in-app. */
export const SENT_KINDS = [
  'login_code', 'password_reset_code', 'account_activated', 'account_locked', 'password_changed',
  'opening_notice', 'record_opened', 'record_opposed', 'record_closed', 'record_reopened', 'record_suspended', 'record_deleted',
  'new_document', 'first_access', 'emergency_access', 'invisible_document_notice',
] as const;

type Text = { subject: string; body: string[]; sms: string };
type Pair = { fr: Text; en: Text };

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A date and time in Paris, as a person reads it. */
export function formatWhen(iso: string | undefined, lang: Lang, withTime = true): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const date = d.toLocaleDateString(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'Europe/Paris', day: 'numeric', month: 'long', year: 'numeric' });
  if (!withTime) return date;
  const time = d.toLocaleTimeString(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' });
  return lang === 'fr' ? `${date} à ${time}, heure de Paris` : `${date} at ${time}, Paris time`;
}

function texts(input: RenderInput): Pair | undefined {
  const p = input.payload;
  const w = (iso: unknown, withTime = true) => ({ fr: formatWhen(str(iso), 'fr', withTime), en: formatWhen(str(iso), 'en', withTime) });
  const forRep = input.recipientKind === 'legal_representative';
  const yourRecord = forRep
    ? { fr: 'le dossier de la personne que vous représentez', en: 'the record of the person you represent' }
    : { fr: 'votre dossier', en: 'your record' };
  const YourRecord = { fr: yourRecord.fr[0].toUpperCase() + yourRecord.fr.slice(1), en: yourRecord.en[0].toUpperCase() + yourRecord.en.slice(1) };
  const neverShare = {
    fr: 'Ne communiquez ce code à personne : Carnet ne vous le demandera jamais, ni par téléphone ni par message.',
    en: 'Never share this code: Carnet will never ask you for it, by phone or by message.',
  };
  switch (input.kind) {
    case 'login_code': {
      const code = str(p.code) ?? '';
      const until = w(p.expiresAt);
      return {
        fr: {
          subject: 'Votre code de connexion Carnet',
          body: [`Votre code de connexion : ${code}`, '', `Il est valable une seule fois, pendant 10 minutes : jusqu’au ${until.fr}.`, neverShare.fr,
            'Si vous n’êtes pas à l’origine de cette connexion, changez votre mot de passe.'],
          sms: `Carnet : votre code de connexion est ${code} (valable 10 min). Ne le communiquez à personne.`,
        },
        en: {
          subject: 'Your Carnet login code',
          body: [`Your login code: ${code}`, '', `It is valid once, for 10 minutes: until ${until.en}.`, neverShare.en,
            'If you did not try to log in, change your password.'],
          sms: `Carnet: your login code is ${code} (valid 10 min). Never share it.`,
        },
      };
    }
    case 'password_reset_code': {
      const code = str(p.code) ?? '';
      const until = w(p.expiresAt);
      return {
        fr: {
          subject: 'Réinitialisation de votre mot de passe Carnet',
          body: [`Votre code de réinitialisation : ${code}`, '', `Il est valable une seule fois, pendant 15 minutes : jusqu’au ${until.fr}.`, neverShare.fr,
            'Si vous n’avez rien demandé, ignorez ce message : votre mot de passe reste le même.'],
          sms: `Carnet : code de réinitialisation ${code} (valable 15 min). Ne le communiquez à personne.`,
        },
        en: {
          subject: 'Resetting your Carnet password',
          body: [`Your reset code: ${code}`, '', `It is valid once, for 15 minutes: until ${until.en}.`, neverShare.en,
            'If you did not ask for it, ignore this message: your password stays the same.'],
          sms: `Carnet: reset code ${code} (valid 15 min). Never share it.`,
        },
      };
    }
    case 'account_activated':
      return {
        fr: { subject: 'Votre compte Carnet est activé', body: ['Votre compte Carnet est activé. Vous pouvez vous connecter à votre espace santé.', 'Si vous n’êtes pas à l’origine de cette activation, contactez le support.'], sms: 'Carnet : votre compte est activé.' },
        en: { subject: 'Your Carnet account is active', body: ['Your Carnet account is active. You can now log in to your health space.', 'If you did not activate it, contact support.'], sms: 'Carnet: your account is active.' },
      };
    case 'account_locked': {
      const until = w(p.lockedUntil);
      return {
        fr: { subject: 'Votre compte Carnet est bloqué pour un moment', body: [`Après plusieurs essais infructueux, votre compte est bloqué jusqu’au ${until.fr}.`, 'Si ce n’était pas vous, réinitialisez votre mot de passe dès que possible.'], sms: `Carnet : compte bloqué jusqu’au ${until.fr} après plusieurs essais.` },
        en: { subject: 'Your Carnet account is locked for a while', body: [`After several failed attempts, your account is locked until ${until.en}.`, 'If this was not you, reset your password as soon as you can.'], sms: `Carnet: account locked until ${until.en} after several attempts.` },
      };
    }
    case 'password_changed':
      return {
        fr: { subject: 'Votre mot de passe Carnet a été changé', body: ['Votre mot de passe vient d’être changé, et toutes vos sessions ont été fermées.', 'Si ce n’était pas vous, contactez le support sans attendre.'], sms: 'Carnet : votre mot de passe a été changé.' },
        en: { subject: 'Your Carnet password was changed', body: ['Your password was just changed, and all your sessions were ended.', 'If this was not you, contact support at once.'], sms: 'Carnet: your password was changed.' },
      };
    case 'opening_notice': {
      const until = w(p.pendingUntil, false);
      return {
        fr: { subject: 'Votre dossier médical partagé va être ouvert', body: [`Un dossier médical partagé va être ouvert pour vous. Vous pouvez vous y opposer jusqu’au ${until.fr}, avec le code à usage unique de votre avis d’ouverture.`, 'Sans opposition de votre part, il s’ouvrira ensuite ; vous déciderez qui peut le consulter.'], sms: `Carnet : votre dossier médical partagé va être ouvert. Opposition possible jusqu’au ${until.fr}.` },
        en: { subject: 'Your shared health record is about to open', body: [`A shared health record is about to be opened for you. You may object until ${until.en}, with the one-time code of your opening notice.`, 'If you do not object, it will then open; you decide who may read it.'], sms: `Carnet: your shared health record is about to open. You may object until ${until.en}.` },
      };
    }
    case 'record_opened':
      return {
        fr: { subject: 'Votre dossier médical partagé est ouvert', body: [`${YourRecord.fr} est ouvert. Vos soignants peuvent y déposer vos documents ; vous décidez qui peut les consulter.`], sms: 'Carnet : le dossier médical partagé est ouvert.' },
        en: { subject: 'Your shared health record is open', body: [`${YourRecord.en} is open. Your carers can file your documents into it; you decide who may read them.`], sms: 'Carnet: the shared health record is open.' },
      };
    case 'record_opposed':
      return {
        fr: { subject: 'Votre opposition est enregistrée', body: ['Votre opposition à l’ouverture du dossier est enregistrée. Aucun dossier ne sera ouvert.'], sms: 'Carnet : opposition enregistrée.' },
        en: { subject: 'Your objection is recorded', body: ['Your objection to the opening of the record is recorded. No record will be opened.'], sms: 'Carnet: objection recorded.' },
      };
    case 'record_closed':
      return {
        fr: { subject: 'Votre dossier est clos', body: [`${YourRecord.fr} est clos. Il est archivé pendant 10 ans : vous pouvez le rouvrir pendant ce temps.`], sms: 'Carnet : le dossier est clos.' },
        en: { subject: 'Your record is closed', body: [`${YourRecord.en} is closed. It is archived for 10 years, during which you may reopen it.`], sms: 'Carnet: the record is closed.' },
      };
    case 'record_reopened':
      return {
        fr: { subject: 'Votre dossier est rouvert', body: [`${YourRecord.fr} est rouvert, avec les documents qu’il contenait.`], sms: 'Carnet : le dossier est rouvert.' },
        en: { subject: 'Your record is reopened', body: [`${YourRecord.en} is reopened, with the documents it held.`], sms: 'Carnet: the record is reopened.' },
      };
    case 'record_suspended':
      return {
        fr: { subject: 'Votre dossier est suspendu', body: [`${YourRecord.fr} est suspendu pour le moment : personne ne peut le consulter.`], sms: 'Carnet : le dossier est suspendu.' },
        en: { subject: 'Your record is suspended', body: [`${YourRecord.en} is suspended for now: nobody can read it.`], sms: 'Carnet: the record is suspended.' },
      };
    case 'record_deleted':
      return {
        fr: { subject: 'Votre dossier a été supprimé', body: [`${YourRecord.fr} a été supprimé, avec tous ses documents. Cette suppression est définitive.`], sms: 'Carnet : le dossier a été supprimé.' },
        en: { subject: 'Your record was deleted', body: [`${YourRecord.en} was deleted, with all its documents. This cannot be undone.`], sms: 'Carnet: the record was deleted.' },
      };
    case 'new_document':
      return {
        fr: { subject: 'Un nouveau document dans votre dossier', body: [`Un nouveau document a été ajouté à ${yourRecord.fr}. Connectez-vous pour le consulter.`], sms: 'Carnet : un nouveau document a été ajouté au dossier.' },
        en: { subject: 'A new document in your record', body: [`A new document was added to ${yourRecord.en}. Log in to read it.`], sms: 'Carnet: a new document was added to the record.' },
      };
    case 'first_access':
      return {
        fr: { subject: 'Un nouveau professionnel a consulté votre dossier', body: [`Un professionnel de santé a consulté ${yourRecord.fr} pour la première fois.`, 'Connectez-vous pour voir qui, et pour bloquer son accès si vous le souhaitez.'], sms: 'Carnet : un nouveau professionnel a consulté le dossier.' },
        en: { subject: 'A new professional read your record', body: [`A health professional read ${yourRecord.en} for the first time.`, 'Log in to see who, and to block their access if you wish.'], sms: 'Carnet: a new professional read the record.' },
      };
    case 'emergency_access': {
      const at = w(p.startedAt);
      const mode = p.mode === 'centre_15' ? { fr: 'par le SAMU (centre 15)', en: 'by the SAMU (centre 15)' } : { fr: 'en urgence (bris de glace)', en: 'in an emergency (break-glass)' };
      return {
        fr: { subject: 'Accès en urgence à votre dossier', body: [`${YourRecord.fr} a été consulté ${mode.fr} le ${at.fr}.`, 'Connectez-vous pour voir qui et pourquoi ; votre médecin traitant est prévenu.'], sms: `Carnet : accès en urgence au dossier le ${at.fr}.` },
        en: { subject: 'Emergency access to your record', body: [`${YourRecord.en} was read ${mode.en} on ${at.en}.`, 'Log in to see who and why; your regular doctor is told too.'], sms: `Carnet: emergency access to the record on ${at.en}.` },
      };
    }
    case 'invisible_document_notice':
      return {
        fr: { subject: 'Un document vous attend', body: [`Un professionnel a ajouté à ${yourRecord.fr} un document qu’il souhaite vous expliquer lors d’une consultation.`, 'Il deviendra visible dans votre espace au plus tard un mois après son dépôt. Vous pouvez en parler à votre médecin.'], sms: 'Carnet : un document vous attend ; parlez-en à votre médecin.' },
        en: { subject: 'A document is waiting for you', body: [`A professional added a document to ${yourRecord.en} that they wish to explain to you at a consultation.`, 'It will show in your space at the latest one month after it was filed. You may ask your doctor about it.'], sms: 'Carnet: a document is waiting for you; ask your doctor.' },
      };
    default:
      return undefined;
  }
}

/** The message for one notification, or undefined when this kind is not sent (in-app only). */
export function renderNotification(input: RenderInput, lang: Lang, o: RenderOptions = {}): Rendered | undefined {
  const pair = texts(input);
  if (!pair) return undefined;
  const t = pair[lang];
  const footer = lang === 'fr'
    ? ['', '—', o.portalUrl ? `Votre espace santé : ${o.portalUrl}` : 'Connectez-vous à votre espace santé Carnet.',
      'Ce message ne contient aucune information médicale. Merci de ne pas y répondre.']
    : ['', '—', o.portalUrl ? `Your health space: ${o.portalUrl}` : 'Log in to your Carnet health space.',
      'This message holds no medical information. Please do not reply.'];
  return { subject: t.subject, text: [...t.body, ...footer].join('\n'), sms: t.sms };
}
