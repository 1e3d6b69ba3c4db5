/**
 * Profile: the trusted person, advance directives, the organ-donation wish; how the person logs in
 * (double authentification: e-mailed code or authenticator app); and the record itself —
 * download it whole, close it (or reopen it), ask for its deletion.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, raw, saveBlob } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import type { HolderHome, HolderProfile as Profile } from '../lib/types.ts';
import { Button, ConfirmDialog, ErrorNotice, Field, Input, Notice, PageHeader, Spinner, Textarea, useAnnounce, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import type { MessageKey } from '../lib/messages.ts';
import { TwoFactor } from './TwoFactor.tsx';

export function HolderProfile() {
  const { t, date } = useI18n();
  const profile = useLoad(() => api<Profile>('/api/holder/profile'), []);
  const home = useLoad(() => api<HolderHome>('/api/holder/home'), []);
  const [announce, say] = useAnnounce();
  return (
    <>
      <PageHeader title={t('profile.title')} intro={t('profile.intro')} />
      {announce}
      {profile.error ? <ErrorNotice error={profile.error} /> : null}
      {profile.loading && !profile.data ? <Spinner /> : null}
      {profile.data ? <ProfileForm initial={profile.data} onSaved={(p) => { profile.setData(p); say(t('profile.saved')); }} /> : null}
      {profile.data?.updatedAt ? <p className="muted small">{t('profile.updatedAt', { date: date(profile.data.updatedAt, { time: true }) })}</p> : null}
      <TwoFactor say={say} />
      {home.data ? <MyRecord state={home.data.record.state} onChanged={() => home.reload()} say={say} /> : null}
    </>
  );
}

function ProfileForm({ initial, onSaved }: { initial: Profile; onSaved: (p: Profile) => void }) {
  const { t } = useI18n();
  const [p, setP] = useState<Profile>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => setP(initial), [initial]);
  const tp = p.trustedPerson ?? { name: '' };
  const ad = p.advanceDirectives ?? { written: false };
  const od = p.organDonation ?? { choice: 'not_stated' as const };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: Profile = {
        ...(tp.name.trim() ? { trustedPerson: tp } : {}),
        advanceDirectives: ad,
        organDonation: od,
      };
      onSaved(await api<Profile>('/api/holder/profile', { method: 'PUT', body }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack-lg" noValidate>
      {error ? <ErrorNotice error={error} /> : null}
      <section className="card" aria-labelledby="h-trusted">
        <h2 id="h-trusted" className="card-title"><Icon name="users" size={22} /> {t('profile.trusted')}</h2>
        <p className="explain">{t('profile.trustedExplain')}</p>
        <div className="form-grid">
          <Field label={t('profile.trustedName')}>{(f) => <Input {...f} value={tp.name} autoComplete="off" onChange={(e) => setP({ ...p, trustedPerson: { ...tp, name: e.target.value } })} />}</Field>
          <Field label={t('profile.trustedRelationship')}>{(f) => <Input {...f} value={tp.relationship ?? ''} onChange={(e) => setP({ ...p, trustedPerson: { ...tp, relationship: e.target.value } })} />}</Field>
          <Field label={t('profile.trustedPhone')}>{(f) => <Input {...f} type="tel" value={tp.phone ?? ''} onChange={(e) => setP({ ...p, trustedPerson: { ...tp, phone: e.target.value } })} />}</Field>
          <Field label={t('profile.trustedEmail')}>{(f) => <Input {...f} type="email" value={tp.email ?? ''} onChange={(e) => setP({ ...p, trustedPerson: { ...tp, email: e.target.value } })} />}</Field>
        </div>
      </section>

      <section className="card" aria-labelledby="h-directives">
        <h2 id="h-directives" className="card-title"><Icon name="clipboard" size={22} /> {t('profile.directives')}</h2>
        <p className="explain">{t('profile.directivesExplain')}</p>
        <fieldset className="radios">
          <legend>{t('profile.directivesWritten')}</legend>
          <label className="radio"><input type="radio" name="ad" checked={ad.written} onChange={() => setP({ ...p, advanceDirectives: { ...ad, written: true } })} /> {t('common.yes')}</label>
          <label className="radio"><input type="radio" name="ad" checked={!ad.written} onChange={() => setP({ ...p, advanceDirectives: { ...ad, written: false } })} /> {t('common.no')}</label>
        </fieldset>
        {ad.written ? (
          <div className="form-grid">
            <Field label={t('profile.directivesKeptBy')} hint={t('profile.directivesKeptByHint')}>{(f) => <Input {...f} value={ad.keptBy ?? ''} onChange={(e) => setP({ ...p, advanceDirectives: { ...ad, keptBy: e.target.value } })} />}</Field>
            <Field label={t('profile.directivesText')} hint={t('profile.directivesTextHint')}>{(f) => <Textarea {...f} rows={5} value={ad.text ?? ''} onChange={(e) => setP({ ...p, advanceDirectives: { ...ad, text: e.target.value } })} />}</Field>
          </div>
        ) : null}
      </section>

      <section className="card" aria-labelledby="h-organ">
        <h2 id="h-organ" className="card-title"><Icon name="heart" size={22} /> {t('profile.organ')}</h2>
        <p className="explain">{t('profile.organExplain')}</p>
        <fieldset className="radios radios-stack">
          <legend className="sr-only">{t('profile.organ')}</legend>
          {(['donor', 'refuses', 'not_stated'] as const).map((c) => (
            <label key={c} className="radio radio-card">
              <input type="radio" name="organ" checked={od.choice === c} onChange={() => setP({ ...p, organDonation: { ...od, choice: c } })} />
              <span><strong>{t(`profile.organ.${c}` as MessageKey)}</strong><small>{t(`profile.organ.${c}.desc` as MessageKey)}</small></span>
            </label>
          ))}
        </fieldset>
        {od.choice === 'refuses' ? <Notice tone="info"><p>{t('profile.organRegister')}</p></Notice> : null}
      </section>
      <div className="form-actions sticky-actions">
        <Button type="submit" icon="check" busy={busy}>{t('profile.save')}</Button>
      </div>
    </form>
  );
}

function MyRecord({ state, onChanged, say }: { state: string; onChanged: () => void; say: (m: string) => void }) {
  const { t } = useI18n();
  const [dialog, setDialog] = useState<'close' | 'reopen' | 'request_deletion'>();
  const [busy, setBusy] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <section className="card card-record" aria-labelledby="h-record">
      <h2 id="h-record" className="card-title"><Icon name="folder" size={22} /> {t('record.title')}</h2>
      <p className="explain">{t(`record.state.${state}` as MessageKey)}</p>
      {error ? <ErrorNotice error={error} /> : null}
      <div className="record-actions">
        <div className="record-action">
          <div><strong>{t('record.download')}</strong><p className="muted">{t('record.downloadExplain')}</p></div>
          <Button variant="secondary" icon="download" busy={downloading} onClick={async () => {
            setDownloading(true);
            setError(undefined);
            try {
              const res = await raw('/api/holder/export', { accept: 'application/zip' });
              const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'carnet.zip';
              saveBlob(await res.blob(), name);
              say(t('record.downloaded'));
            } catch (e) {
              setError(e);
            } finally {
              setDownloading(false);
            }
          }}>{t('record.downloadCta')}</Button>
        </div>
        {state === 'active' || state === 'pending' ? (
          <div className="record-action">
            <div><strong>{t('record.close')}</strong><p className="muted">{t('record.closeExplain')}</p></div>
            <Button variant="danger-soft" onClick={() => setDialog('close')}>{t('record.closeCta')}</Button>
          </div>
        ) : null}
        {state === 'closed' ? (
          <>
            <div className="record-action">
              <div><strong>{t('record.reopen')}</strong><p className="muted">{t('record.reopenExplain')}</p></div>
              <Button variant="secondary" onClick={() => setDialog('reopen')}>{t('record.reopenCta')}</Button>
            </div>
            <div className="record-action">
              <div><strong>{t('record.delete')}</strong><p className="muted">{t('record.deleteExplain')}</p></div>
              <Button variant="danger-soft" onClick={() => setDialog('request_deletion')}>{t('record.deleteCta')}</Button>
            </div>
          </>
        ) : null}
      </div>
      <ConfirmDialog
        open={!!dialog}
        title={dialog ? t(`record.confirm.${dialog}` as MessageKey) : ''}
        confirmLabel={dialog ? t(`record.confirm.${dialog}.cta` as MessageKey) : ''}
        tone={dialog === 'reopen' ? 'primary' : 'danger'}
        busy={busy}
        onCancel={() => setDialog(undefined)}
        onConfirm={async () => {
          if (!dialog) return;
          setBusy(true);
          setError(undefined);
          try {
            await api('/api/holder/record', { body: { decision: dialog } });
            say(t(`record.done.${dialog}` as MessageKey));
            onChanged();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
            setDialog(undefined);
          }
        }}
      >
        <p>{dialog ? t(`record.confirm.${dialog}.body` as MessageKey) : ''}</p>
      </ConfirmDialog>
    </section>
  );
}
