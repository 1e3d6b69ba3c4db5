/**
 * The access history (R1111-43) as a timeline: who, when, what, under which right, in which mode;
 * emergency accesses stand out. Filters: who, what, mode — kept in the address so a link can open
 * the history already filtered (e.g. the emergency accesses).
 */
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Link, navigate, usePath } from '../lib/router.tsx';
import type { HistoryEntry } from '../lib/types.ts';
import { Badge, ErrorNotice, Field, PageHeader, Select, Spinner, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import type { MessageKey } from '../lib/messages.ts';

const WHO = ['others', 'professionals', 'apps', 'me', 'all'] as const;
const WHAT = ['', 'document.read', 'document.list', 'document.file', 'rights', 'emergency', 'record'] as const;
const MODES = ['', 'normal', 'bris_de_glace', 'centre_15'] as const;

export function actionKey(action: string): MessageKey | undefined {
  const exact = `action.${action}`;
  return exact as MessageKey;
}

export function HolderHistory() {
  const { t, date, time, pick } = useI18n();
  const { query } = usePath();
  const who = (query.get('who') ?? 'others') as (typeof WHO)[number];
  const what = query.get('what') ?? '';
  const mode = query.get('mode') ?? '';
  const { data, error, loading } = useLoad(
    () => api<{ entries: HistoryEntry[] }>(`/api/holder/history?${new URLSearchParams({ who, ...(what ? { what } : {}), ...(mode ? { mode } : {}) })}`),
    [who, what, mode],
  );
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(location.search);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/espace/historique${q.toString() ? `?${q}` : ''}`, { replace: true });
  };

  const days = new Map<string, HistoryEntry[]>();
  for (const e of data?.entries ?? []) {
    const day = date(e.at, { long: true });
    days.set(day, [...(days.get(day) ?? []), e]);
  }

  const label = (key: string, fallback: string) => {
    const s = t(key as MessageKey);
    return s === key ? fallback : s;
  };

  return (
    <>
      <PageHeader title={t('history.title')} intro={t('history.intro')} />
      <form className="filters card card-quiet" aria-label={t('history.filters')} onSubmit={(e) => e.preventDefault()}>
        <Field label={t('history.who')}>
          {(p) => <Select {...p} value={who} onChange={(e) => set('who', e.target.value === 'others' ? '' : e.target.value)}>{WHO.map((w) => <option key={w} value={w}>{t(`history.who.${w}` as MessageKey)}</option>)}</Select>}
        </Field>
        <Field label={t('history.what')}>
          {(p) => <Select {...p} value={what} onChange={(e) => set('what', e.target.value)}>{WHAT.map((w) => <option key={w} value={w}>{t(`history.what.${w || 'all'}` as MessageKey)}</option>)}</Select>}
        </Field>
        <Field label={t('history.mode')}>
          {(p) => <Select {...p} value={mode} onChange={(e) => set('mode', e.target.value)}>{MODES.map((m) => <option key={m} value={m}>{t(`history.mode.${m || 'all'}` as MessageKey)}</option>)}</Select>}
        </Field>
      </form>
      {loading && !data ? <Spinner /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {data ? (
        data.entries.length ? (
          <div className="timeline">
            {[...days.entries()].map(([day, entries]) => (
              <section key={day} className="tl-day" aria-label={day}>
                <h2 className="tl-date">{day}</h2>
                <ol className="tl-list">
                  {entries.map((e) => {
                    const who = e.own ? t('history.you') : e.actor.name ?? label(`actorKind.${e.actor.kind}`, e.actor.kind);
                    const denied = e.outcome === 'deny' || e.outcome === 'failure';
                    return (
                      <li key={e.seq} className={`tl-item ${e.emergency ? 'tl-emergency' : ''} ${denied ? 'tl-denied' : ''}`}>
                        <span className="tl-time"><time dateTime={e.at}>{time(e.at)}</time></span>
                        <span className="tl-dot" aria-hidden="true">{e.emergency ? <Icon name="siren" size={14} /> : null}</span>
                        <div className="tl-body">
                          {e.emergency ? <p className="tl-flag"><Badge tone="red" icon="siren">{t(`mode.${e.mode}` as MessageKey)}</Badge></p> : null}
                          <p className="tl-line">
                            <strong>{who}</strong>
                            {e.profession ? <span className="tl-prof"> · {pick(e.profession)}</span> : null}
                            {' '}{label(`action.${e.action}`, e.action)}
                            {e.document ? <> : <Link to={`/espace/documents/${e.document.id}`} className="link">{e.document.title}</Link></> : null}
                          </p>
                          <p className="tl-why">
                            {denied ? <Badge tone="neutral" icon="ban">{t('history.denied')}</Badge> : null}
                            {e.reason && (!denied || t(`reason.${e.reason}` as MessageKey) !== `reason.${e.reason}`) ? <span>{label(`reason.${e.reason}`, e.reason)}</span> : null}
                          </p>
                        </div>
                      </li>
                    );
                  })}
                </ol>
              </section>
            ))}
          </div>
        ) : (
          <p className="empty">{t('history.none')}</p>
        )
      ) : null}
    </>
  );
}
