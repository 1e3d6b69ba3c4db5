/**
 * Connected apps (SMART catalogue, docs/apps.md — the apps work's endpoints): what each may read,
 * and taking it back at once.
 */
import { useState } from 'react';
import { api, ApiError } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import type { Pair } from '../lib/types.ts';
import { Badge, Button, ConfirmDialog, ErrorNotice, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';

export interface ConnectedApp {
  clientId: string;
  name: string;
  connections: Array<{
    grantId: string;
    connectedAt: string;
    purposes: Array<{ id: string; label: Pair }>;
    reads: Array<{ kind: string; code: string; label: Pair }>;
    lastAccessAt?: string;
  }>;
}

export function ConnectedApps({ canManage, onDone }: { canManage: boolean; onDone: (msg: string) => void }) {
  const { t, date, pick } = useI18n();
  const { data, error, reload } = useLoad(() => loadApps(), []);
  const [revoking, setRevoking] = useState<ConnectedApp>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  if (data === null) return null; // the catalogue is not served by this installation
  return (
    <section className="card" aria-labelledby="h-apps">
      <h2 id="h-apps" className="card-title"><Icon name="apps" size={22} /> {t('apps.title')}</h2>
      <p className="explain">{t('apps.explain')}</p>
      {error ? <ErrorNotice error={error} /> : null}
      {actionError ? <ErrorNotice error={actionError} /> : null}
      {data?.length ? (
        <ul className="people">
          {data.map((a) => {
            const c = a.connections[0];
            return (
              <li key={a.clientId} className="people-row">
                <span className="person">
                  <span className="avatar avatar-app" aria-hidden="true"><Icon name="apps" size={16} /></span>
                  <span>
                    <span className="person-name">{a.name}</span>
                    <span className="person-meta">{a.connections.flatMap((x) => x.purposes.map((p) => pick(p.label))).join(' · ')}</span>
                  </span>
                </span>
                <span className="people-since">
                  {a.connections.flatMap((x) => x.reads).slice(0, 4).map((r) => <Badge key={`${r.kind}${r.code}`}>{pick(r.label)}</Badge>)}
                  {c ? <span>{t('sharing.since', { date: date(c.connectedAt) })}</span> : null}
                  {c?.lastAccessAt ? <span>{t('apps.lastAccess', { date: date(c.lastAccessAt, { time: true }) })}</span> : null}
                </span>
                {canManage ? <Button variant="ghost" className="btn-small btn-danger-text" onClick={() => setRevoking(a)}>{t('apps.revoke')}</Button> : null}
              </li>
            );
          })}
        </ul>
      ) : data ? <p className="empty">{t('apps.none')}</p> : null}
      <ConfirmDialog
        open={!!revoking}
        title={t('apps.revokeTitle', { name: revoking?.name ?? '' })}
        confirmLabel={t('apps.revoke')}
        tone="danger"
        busy={busy}
        onCancel={() => setRevoking(undefined)}
        onConfirm={async () => {
          if (!revoking) return;
          setBusy(true);
          setActionError(undefined);
          try {
            await api(`/api/apps/${encodeURIComponent(revoking.clientId)}/connection`, { method: 'DELETE' });
            onDone(t('apps.revoked', { name: revoking.name }));
            reload();
          } catch (e) {
            setActionError(e);
          } finally {
            setBusy(false);
            setRevoking(undefined);
          }
        }}
      >
        <p>{t('apps.revokeBody', { name: revoking?.name ?? '' })}</p>
      </ConfirmDialog>
    </section>
  );
}

async function loadApps(): Promise<ConnectedApp[] | null> {
  try {
    return (await api<{ apps: ConnectedApp[] }>('/api/apps/connected')).apps;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}
