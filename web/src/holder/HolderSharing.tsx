/**
 * "Qui peut voir mon dossier": every right in plain words, each change one click then a
 * confirmation that says what will happen.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import type { DirectoryEntry, HolderSettings, SharedWith, SharingView } from '../lib/types.ts';
import { Badge, Button, ConfirmDialog, ErrorNotice, Field, Input, Notice, PageHeader, Spinner, Switch, useAnnounce, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import { ConnectedApps } from './ConnectedApps.tsx';
import type { MessageKey } from '../lib/messages.ts';

type Change = 'consent' | 'block' | 'medecin_traitant' | 'administrateur' | 'care_team_objection';

interface Pending {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  tone?: 'primary' | 'danger';
  run: () => Promise<SharingView | void>;
  done: string;
}

export function HolderSharing() {
  const { t, date, pick } = useI18n();
  const { data, error, loading, setData, reload } = useLoad(() => api<SharingView>('/api/holder/sharing'), []);
  const [pending, setPending] = useState<Pending>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const [announce, say] = useAnnounce();

  const change = (kind: Change, who: { rpps: string; name?: string }, on: boolean) => {
    const name = who.name ?? who.rpps;
    const k = `${kind}.${on ? 'on' : 'off'}`;
    setPending({
      title: t(`sharing.confirm.${k}.title` as MessageKey, { name }),
      body: <p>{t(`sharing.confirm.${k}.body` as MessageKey, { name })}</p>,
      confirmLabel: t(`sharing.confirm.${k}.cta` as MessageKey),
      tone: (kind === 'block' && on) || (kind === 'consent' && !on) || kind === 'care_team_objection' ? 'danger' : 'primary',
      run: () => api<SharingView>('/api/holder/sharing', { body: { change: kind, rpps: who.rpps, on } }),
      done: t(`sharing.done.${k}` as MessageKey, { name }),
    });
  };

  const toggle = (key: keyof HolderSettings, next: boolean) => {
    setPending({
      title: t(`settings.${key}.${next ? 'on' : 'off'}.title` as MessageKey),
      body: <p>{t(`settings.${key}.${next ? 'on' : 'off'}.body` as MessageKey)}</p>,
      confirmLabel: t('common.confirm'),
      tone: next ? 'primary' : 'danger',
      run: async () => {
        await api('/api/holder/settings', { method: 'PATCH', body: { [key]: next } });
        reload();
      },
      done: t('settings.saved'),
    });
  };

  const person = (s: SharedWith) => (
    <span className="person">
      <span className="avatar" aria-hidden="true">{(s.name ?? '?').split(' ').map((x) => x[0]).slice(0, 2).join('')}</span>
      <span>
        <span className="person-name">{s.name ?? s.rpps}</span>
        <span className="person-meta">{[s.profession ? pick(s.profession) : undefined, s.organisation].filter(Boolean).join(' · ')}</span>
      </span>
    </span>
  );

  const manage = !!data?.canManage;

  return (
    <>
      <PageHeader title={t('sharing.title')} intro={t('sharing.intro')} />
      {announce}
      {loading && !data ? <Spinner /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {data ? (
        <div className="stack-lg">
          {!manage ? <Notice tone="info"><p>{t('sharing.readOnly')}</p></Notice> : null}

          <section className="card" aria-labelledby="h-mt">
            <h2 id="h-mt" className="card-title"><Icon name="stethoscope" size={22} /> {t('sharing.mt')}</h2>
            <p className="explain">{t('sharing.mtExplain')}</p>
            {data.medecinTraitant ? (
              <ul className="people">
                <li className="people-row">
                  {person(data.medecinTraitant)}
                  <span className="people-since">{t('sharing.since', { date: date(data.medecinTraitant.since) })}</span>
                  {manage ? <Button variant="ghost" className="btn-small" onClick={() => change('medecin_traitant', data.medecinTraitant!, false)}>{t('sharing.remove')}</Button> : null}
                </li>
              </ul>
            ) : <p className="empty">{t('sharing.mtNone')}</p>}
          </section>

          <section className="card" aria-labelledby="h-authorized">
            <h2 id="h-authorized" className="card-title"><Icon name="users" size={22} /> {t('sharing.authorized')}</h2>
            <p className="explain">{t('sharing.authorizedExplain')}</p>
            {data.authorized.length ? (
              <ul className="people">
                {data.authorized.map((s) => (
                  <li key={`${s.rpps}-${s.basis}`} className="people-row">
                    {person(s)}
                    <span className="people-since">
                      <Badge tone={s.basis === 'consent' ? 'teal' : 'neutral'}>{t(s.basis === 'consent' ? 'sharing.byConsent' : 'sharing.byCareTeam')}</Badge>
                      {t('sharing.since', { date: date(s.since) })}{s.until ? ` — ${t('sharing.until', { date: date(s.until) })}` : ''}
                    </span>
                    {manage ? (
                      <span className="people-actions">
                        {s.basis === 'consent'
                          ? <Button variant="ghost" className="btn-small" onClick={() => change('consent', s, false)}>{t('sharing.revoke')}</Button>
                          : <Button variant="ghost" className="btn-small" onClick={() => change('care_team_objection', s, true)}>{t('sharing.object')}</Button>}
                        <Button variant="ghost" className="btn-small btn-danger-text" onClick={() => change('block', s, true)}>{t('sharing.block')}</Button>
                      </span>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : <p className="empty">{t('sharing.authorizedNone')}</p>}
          </section>

          <section className="card" aria-labelledby="h-admins">
            <h2 id="h-admins" className="card-title"><Icon name="key" size={22} /> {t('sharing.admins')}</h2>
            <p className="explain">{t('sharing.adminsExplain')}</p>
            {data.administrateurs.length ? (
              <ul className="people">
                {data.administrateurs.map((s) => (
                  <li key={s.rpps} className="people-row">
                    {person(s)}
                    <span className="people-since">{t('sharing.since', { date: date(s.since) })}</span>
                    {manage ? <Button variant="ghost" className="btn-small" onClick={() => change('administrateur', s, false)}>{t('sharing.remove')}</Button> : null}
                  </li>
                ))}
              </ul>
            ) : <p className="empty">{t('sharing.adminsNone')}</p>}
          </section>

          <section className="card" aria-labelledby="h-blocked">
            <h2 id="h-blocked" className="card-title"><Icon name="ban" size={22} /> {t('sharing.blocked')}</h2>
            <p className="explain">{t('sharing.blockedExplain')}</p>
            {data.blocked.length ? (
              <ul className="people">
                {data.blocked.map((s) => (
                  <li key={s.rpps} className="people-row">
                    {person(s)}
                    <span className="people-since">{t('sharing.blockedSince', { date: date(s.since) })}</span>
                    {manage ? <Button variant="ghost" className="btn-small" onClick={() => change('block', s, false)}>{t('sharing.unblock')}</Button> : null}
                  </li>
                ))}
              </ul>
            ) : <p className="empty">{t('sharing.blockedNone')}</p>}
          </section>

          {manage ? <AddSomeone onPick={(who, kind) => change(kind, who, true)} /> : null}

          <section className="card" aria-labelledby="h-emergency">
            <h2 id="h-emergency" className="card-title"><Icon name="siren" size={22} /> {t('sharing.emergency')}</h2>
            <p className="explain">{t('sharing.emergencyExplain')}</p>
            {data.settings ? (
              <div className="switches">
                <Switch checked={data.settings.breakGlassAllowed} disabled={!manage} onChange={(v) => toggle('breakGlassAllowed', v)} label={t('settings.breakGlassAllowed')} description={t('settings.breakGlassAllowedDesc')} />
                <Switch checked={data.settings.samuAllowed} disabled={!manage} onChange={(v) => toggle('samuAllowed', v)} label={t('settings.samuAllowed')} description={t('settings.samuAllowedDesc')} />
                <Switch checked={data.settings.maskedInEmergency} disabled={!manage} onChange={(v) => toggle('maskedInEmergency', v)} label={t('settings.maskedInEmergency')} description={t('settings.maskedInEmergencyDesc')} />
              </div>
            ) : null}
            {data.emergencies.length ? (
              <>
                <h3 className="subhead">{t('sharing.recentEmergencies')}</h3>
                <ul className="people">
                  {data.emergencies.map((e, i) => (
                    <li key={i} className={`people-row ${e.open ? 'row-emergency' : ''}`}>
                      {person({ rpps: e.rpps, name: e.name, profession: e.profession, since: e.startedAt })}
                      <span className="people-since">
                        <Badge tone="red" icon="siren">{t(e.mode === 'centre_15' ? 'mode.centre_15' : 'mode.bris_de_glace')}</Badge>
                        {t(e.open ? 'sharing.emergencyOpen' : 'sharing.emergencyClosed', { start: date(e.startedAt, { time: true }), end: date(e.expiresAt, { time: true }) })}
                      </span>
                    </li>
                  ))}
                </ul>
                <p className="card-foot"><Link to="/espace/historique?mode=bris_de_glace" className="link">{t('home.seeEmergencies')}</Link></p>
              </>
            ) : null}
          </section>

          <ConnectedApps canManage={manage} onDone={say} />

          {data.persons.length ? (
            <section className="card" aria-labelledby="h-persons">
              <h2 id="h-persons" className="card-title"><Icon name="heart" size={22} /> {t('sharing.persons')}</h2>
              <ul className="people">
                {data.persons.map((p) => (
                  <li key={p.id} className="people-row">
                    <span className="person"><span className="avatar" aria-hidden="true">{p.name.slice(0, 1)}</span><span><span className="person-name">{p.name}</span><span className="person-meta">{t(p.kind === 'caregiver' ? 'sharing.caregiver' : 'sharing.representative')}</span></span></span>
                    <span className="people-since">{t('sharing.since', { date: date(p.addedAt) })}</span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
      ) : null}

      <ConfirmDialog
        open={!!pending}
        title={pending?.title}
        confirmLabel={pending?.confirmLabel}
        tone={pending?.tone}
        busy={busy}
        onCancel={() => setPending(undefined)}
        onConfirm={async () => {
          if (!pending) return;
          setBusy(true);
          setActionError(undefined);
          try {
            const r = await pending.run();
            if (r) setData(r);
            say(pending.done);
          } catch (e) {
            setActionError(e);
          } finally {
            setBusy(false);
            setPending(undefined);
          }
        }}
      >
        {pending?.body}
      </ConfirmDialog>
    </>
  );
}

function AddSomeone({ onPick }: { onPick: (who: DirectoryEntry, kind: Change) => void }) {
  const { t, pick } = useI18n();
  const [q, setQ] = useState('');
  const [results, setResults] = useState<DirectoryEntry[]>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const search = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResults((await api<{ entries: DirectoryEntry[] }>(`/api/directory?q=${encodeURIComponent(q.trim())}`)).entries);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="h-add-pro">
      <h2 id="h-add-pro" className="card-title"><Icon name="search" size={22} /> {t('sharing.addTitle')}</h2>
      <p className="explain">{t('sharing.addExplain')}</p>
      <form className="search-row" onSubmit={search} role="search">
        <Field label={t('sharing.searchLabel')} hint={t('sharing.searchHint')}>
          {(p) => <Input {...p} value={q} onChange={(e) => setQ(e.target.value)} minLength={2} />}
        </Field>
        <Button type="submit" icon="search" busy={busy}>{t('common.search')}</Button>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {results ? (
        results.length ? (
          <ul className="people" aria-label={t('sharing.results')}>
            {results.map((r) => (
              <li key={r.rpps} className="people-row people-row-wrap">
                <span className="person">
                  <span className="avatar" aria-hidden="true">{r.name.split(' ').map((x) => x[0]).slice(0, 2).join('')}</span>
                  <span><span className="person-name">{r.name}</span><span className="person-meta">{[pick(r.profession), r.organisation].filter(Boolean).join(' · ')}</span></span>
                </span>
                <span className="people-actions">
                  <Button variant="secondary" className="btn-small" onClick={() => onPick(r, 'consent')} aria-label={t('sharing.authorizeWho', { name: r.name })}>{t('sharing.authorize')}</Button>
                  {r.profession.code === '10' ? <Button variant="ghost" className="btn-small" onClick={() => onPick(r, 'medecin_traitant')}>{t('sharing.makeMt')}</Button> : null}
                  <Button variant="ghost" className="btn-small" onClick={() => onPick(r, 'administrateur')}>{t('sharing.makeAdmin')}</Button>
                  <Button variant="ghost" className="btn-small btn-danger-text" onClick={() => onPick(r, 'block')} aria-label={t('sharing.blockWho', { name: r.name })}>{t('sharing.block')}</Button>
                </span>
              </li>
            ))}
          </ul>
        ) : <p className="empty">{t('sharing.noResult')}</p>
      ) : null}
    </section>
  );
}
