/** Home: what is new, what needs the holder's attention (emergency accesses first), where to go. */
import { useState } from 'react';
import { api } from '../lib/api.ts';
import { useI18n, type T } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import type { Alert, HolderHome as Home } from '../lib/types.ts';
import { Button, ErrorNotice, Notice, PageHeader, Spinner, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import { DocumentRow } from './DocumentRow.tsx';
import type { MessageKey } from '../lib/messages.ts';

function professionOf(a: Alert, lang: 'fr' | 'en', t: T) {
  return a.payload.professionCode ? t(`profession.${a.payload.professionCode}` as MessageKey) : lang === 'fr' ? 'professionnel' : 'professional';
}

export function alertText(a: Alert, t: T, date: (iso: string, o?: { time?: boolean }) => string, lang: 'fr' | 'en') {
  const name = String(a.payload.name ?? a.payload.practitioner ?? '');
  switch (a.kind) {
    case 'emergency_access':
      return {
        title: t(a.payload.mode === 'centre_15' ? 'alert.samuTitle' : 'alert.emergencyTitle'),
        body: t('alert.emergencyBody', { name, profession: professionOf(a, lang, t), start: date(String(a.payload.startedAt ?? a.at), { time: true }), end: date(String(a.payload.expiresAt ?? a.at), { time: true }) }),
      };
    case 'first_access':
      return { title: t('alert.firstTitle'), body: t('alert.firstBody', { name, profession: professionOf(a, lang, t), when: date(a.at, { time: true }) }) };
    case 'invisible_document_notice':
      return { title: t('alert.invisibleTitle'), body: t('alert.invisibleBody') };
    case 'record_closed':
      return { title: t('alert.closedTitle'), body: t('alert.closedBody') };
    case 'record_reopened':
      return { title: t('alert.reopenedTitle'), body: t('alert.reopenedBody') };
    case 'record_opened':
      return { title: t('alert.openedTitle'), body: t('alert.openedBody', { when: date(a.at) }) };
    default:
      return { title: t('alert.otherTitle'), body: date(a.at, { time: true }) };
  }
}

export function HolderHome() {
  const { t, date, lang } = useI18n();
  const { data, error, loading, reload } = useLoad(() => api<Home>('/api/holder/home'), []);
  const [marking, setMarking] = useState(false);
  const first = data?.record.holderName.split(' ')[0];
  const emergencies = data?.alerts.filter((a) => a.emergency) ?? [];
  const others = data?.alerts.filter((a) => !a.emergency).slice(0, 5) ?? [];
  const anyNew = data?.alerts.some((a) => a.isNew);
  return (
    <>
      <PageHeader title={first ? t('home.hello', { name: first }) : t('home.title')} intro={t('home.intro')} />
      {loading && !data ? <Spinner /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {data ? (
        <div className="stack-lg">
          {data.record.state !== 'active' ? (
            <Notice tone="warn" title={t(`state.${data.record.state}` as MessageKey)}>
              <p>{t(`state.${data.record.state}.body` as MessageKey)}</p>
            </Notice>
          ) : null}

          {emergencies.length ? (
            <section aria-labelledby="h-emergency" className="card card-emergency">
              <h2 id="h-emergency" className="card-title"><Icon name="siren" size={22} /> {t('home.emergencies')}</h2>
              <ul className="alert-list">
                {emergencies.slice(0, 3).map((a) => {
                  const x = alertText(a, t, date, lang);
                  return (
                    <li key={a.id} className="alert-item alert-emergency">
                      <p className="alert-title">{x.title}{a.isNew ? <span className="new-dot">{t('common.new')}</span> : null}</p>
                      <p>{x.body}</p>
                    </li>
                  );
                })}
              </ul>
              <p className="card-foot">
                <Link to="/espace/historique?mode=bris_de_glace" className="link">{t('home.seeEmergencies')}</Link>
                {' · '}
                <Link to="/espace/partage" className="link">{t('home.emergencySettings')}</Link>
              </p>
            </section>
          ) : null}

          <div className="grid-2">
            <section aria-labelledby="h-new" className="card">
              <div className="card-head">
                <h2 id="h-new" className="card-title">{t('home.newDocuments')}</h2>
                <Link to="/espace/documents" className="link small">{t('home.allDocuments', { n: data.documentsCount })}</Link>
              </div>
              {data.newDocuments.length ? (
                <ul className="doc-list compact">{data.newDocuments.map((d) => <DocumentRow key={d.id} doc={d} />)}</ul>
              ) : (
                <p className="empty">{t('home.noNewDocuments')}</p>
              )}
            </section>

            <section aria-labelledby="h-alerts" className="card">
              <div className="card-head">
                <h2 id="h-alerts" className="card-title">{t('home.alerts')}</h2>
                {anyNew ? (
                  <Button variant="ghost" className="btn-small" busy={marking} onClick={async () => {
                    setMarking(true);
                    try {
                      await api('/api/holder/alerts/seen', { method: 'POST', body: {} });
                      reload();
                    } finally {
                      setMarking(false);
                    }
                  }}>{t('home.markSeen')}</Button>
                ) : null}
              </div>
              {others.length ? (
                <ul className="alert-list">
                  {others.map((a) => {
                    const x = alertText(a, t, date, lang);
                    return (
                      <li key={a.id} className="alert-item">
                        <p className="alert-title">{x.title}{a.isNew ? <span className="new-dot">{t('common.new')}</span> : null}</p>
                        <p className="muted">{x.body}</p>
                      </li>
                    );
                  })}
                </ul>
              ) : (
                <p className="empty">{t('home.noAlerts')}</p>
              )}
            </section>
          </div>

          <section aria-labelledby="h-shortcuts">
            <h2 id="h-shortcuts" className="section-title">{t('home.shortcuts')}</h2>
            <div className="tiles">
              <Link to="/espace/partage" className="tile"><Icon name="shield" size={24} /><span><strong>{t('nav.sharing')}</strong><small>{t('home.tileSharing')}</small></span></Link>
              <Link to="/espace/historique" className="tile"><Icon name="clock" size={24} /><span><strong>{t('nav.history')}</strong><small>{t('home.tileHistory')}</small></span></Link>
              <Link to="/espace/documents?ajouter=1" className="tile"><Icon name="upload" size={24} /><span><strong>{t('docs.add')}</strong><small>{t('home.tileAdd')}</small></span></Link>
            </div>
          </section>
        </div>
      ) : null}
    </>
  );
}
