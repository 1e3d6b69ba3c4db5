/**
 * Documents by Mon espace santé category (documents the holder added are shown apart), the "mask
 * new documents by default" switch, and adding a document of one's own.
 */
import { useMemo, useState, type FormEvent } from 'react';
import { api, toBase64 } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { usePath, navigate } from '../lib/router.tsx';
import type { HolderSettings, MesCategory, PortalDocument, SharingView } from '../lib/types.ts';
import { Button, ConfirmDialog, ErrorNotice, Field, Input, Notice, PageHeader, Select, Spinner, Switch, useAnnounce, useLoad } from '../components/ui.tsx';
import { DocumentRow } from './DocumentRow.tsx';
import type { MessageKey } from '../lib/messages.ts';

const ORDER: MesCategory[] = ['SYNTHESE', 'BIOLOGIE', 'RADIO_SC', 'CPT_REND', 'ORD_SOIN', 'CAR_VAC', 'DEPISTAG', 'CERT_MED', 'DIR_ANT', 'QUEST_SANTE', 'REMB', 'DOC_ADM', 'AUTR_DOC'];
const OWN_TYPES = ['DOCPAT03', 'DOCPAT05', 'DOCPAT04', 'DOCPAT02', 'DOCPAT01', 'DOCPAT06', 'DOCPAT07', 'DOCPAT09', 'EXPPAT_1', 'EXPPAT_2'] as const;

export function HolderDocuments() {
  const { t, pick } = useI18n();
  const { query } = usePath();
  const docs = useLoad(() => api<{ documents: PortalDocument[] }>('/api/holder/documents'), []);
  const sharing = useLoad(() => api<SharingView>('/api/holder/sharing'), []);
  const [filter, setFilter] = useState<MesCategory | 'ALL'>('ALL');
  const [adding, setAdding] = useState(query.get('ajouter') === '1');
  const [announce, say] = useAnnounce();

  const all = docs.data?.documents ?? [];
  const fromPros = all.filter((d) => !d.patientAdded);
  const mine = all.filter((d) => d.patientAdded);
  const counts = useMemo(() => {
    const c = new Map<MesCategory, number>();
    for (const d of fromPros) c.set(d.category, (c.get(d.category) ?? 0) + 1);
    return c;
  }, [fromPros]);
  const shown = filter === 'ALL' ? fromPros : fromPros.filter((d) => d.category === filter);
  const groups = ORDER.filter((c) => shown.some((d) => d.category === c)).map((c) => ({ c, docs: shown.filter((d) => d.category === c) }));

  return (
    <>
      <PageHeader
        title={t('docs.title')}
        intro={t('docs.intro')}
        actions={<Button icon="plus" onClick={() => setAdding(true)}>{t('docs.add')}</Button>}
      />
      {announce}
      <MaskByDefault sharing={sharing.data} onChanged={(s) => { sharing.reload(); say(t(s.maskNewByDefault ? 'docs.maskDefaultOn' : 'docs.maskDefaultOff')); }} />
      {adding ? (
        <AddOwnDocument
          onClose={() => { setAdding(false); if (query.get('ajouter')) navigate('/espace/documents', { replace: true }); }}
          onAdded={(d) => { setAdding(false); docs.reload(); say(t('docs.added', { title: d.title })); }}
        />
      ) : null}
      {docs.loading && !docs.data ? <Spinner /> : null}
      {docs.error ? <ErrorNotice error={docs.error} /> : null}
      {docs.data ? (
        <>
          <div className="chips" role="group" aria-label={t('docs.filter')}>
            <button type="button" className="chip" aria-pressed={filter === 'ALL'} onClick={() => setFilter('ALL')}>
              {t('docs.all')} <span className="chip-count">{fromPros.length}</span>
            </button>
            {ORDER.filter((c) => counts.get(c)).map((c) => (
              <button key={c} type="button" className="chip" aria-pressed={filter === c} onClick={() => setFilter(c)}>
                {t(`cat.${c}` as MessageKey)} <span className="chip-count">{counts.get(c)}</span>
              </button>
            ))}
          </div>
          {groups.length ? (
            groups.map((g) => (
              <section key={g.c} className="doc-group" aria-labelledby={`cat-${g.c}`}>
                <h2 id={`cat-${g.c}`} className="group-title">{pick(g.docs[0].categoryLabel)}</h2>
                <ul className="doc-list">{g.docs.map((d) => <DocumentRow key={d.id} doc={d} showCategory={false} />)}</ul>
              </section>
            ))
          ) : (
            <p className="empty">{t('docs.none')}</p>
          )}
          <section className="doc-group doc-group-mine" aria-labelledby="cat-mine">
            <h2 id="cat-mine" className="group-title">{t('docs.mine')}</h2>
            <p className="muted">{t('docs.mineIntro')}</p>
            {mine.length ? <ul className="doc-list">{mine.map((d) => <DocumentRow key={d.id} doc={d} />)}</ul> : <p className="empty">{t('docs.mineNone')}</p>}
          </section>
        </>
      ) : null}
    </>
  );
}

function MaskByDefault({ sharing, onChanged }: { sharing?: SharingView; onChanged: (s: HolderSettings) => void }) {
  const { t } = useI18n();
  const [pending, setPending] = useState<boolean | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!sharing?.settings) return null;
  const on = sharing.settings.maskNewByDefault;
  return (
    <div className="card card-quiet">
      <Switch
        checked={on}
        label={t('settings.maskNew')}
        description={t('settings.maskNewDesc')}
        disabled={!sharing.canManage}
        onChange={(next) => setPending(next)}
      />
      {error ? <ErrorNotice error={error} /> : null}
      <ConfirmDialog
        open={pending !== undefined}
        title={t(pending ? 'settings.maskNewConfirmOn' : 'settings.maskNewConfirmOff')}
        confirmLabel={t('common.confirm')}
        busy={busy}
        onCancel={() => setPending(undefined)}
        onConfirm={async () => {
          setBusy(true);
          setError(undefined);
          try {
            const r = await api<{ settings: HolderSettings }>('/api/holder/settings', { method: 'PATCH', body: { maskNewByDefault: pending } });
            onChanged(r.settings);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
            setPending(undefined);
          }
        }}
      >
        <p>{t(pending ? 'settings.maskNewExplainOn' : 'settings.maskNewExplainOff')}</p>
      </ConfirmDialog>
    </div>
  );
}

function AddOwnDocument({ onClose, onAdded }: { onClose: () => void; onAdded: (d: PortalDocument) => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File>();
  const [title, setTitle] = useState('');
  const [typeCode, setTypeCode] = useState<string>('DOCPAT03');
  const [date, setDate] = useState(new Date().toISOString().slice(0, 10));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problems, setProblems] = useState<{ file?: string; title?: string }>({});
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p: typeof problems = {};
    if (!file) p.file = t('add.needFile');
    else if (file.size > 20 * 1024 * 1024) p.file = t('add.tooLarge');
    if (!title.trim()) p.title = t('add.needTitle');
    setProblems(p);
    if (p.file || p.title || !file) return;
    setBusy(true);
    setError(undefined);
    try {
      const contentBase64 = toBase64(await file.arrayBuffer());
      const mimeType = file.type || (file.name.endsWith('.pdf') ? 'application/pdf' : 'application/octet-stream');
      onAdded(await api<PortalDocument>('/api/holder/documents', { body: { title: title.trim(), typeCode, date, mimeType, contentBase64 } }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card card-form" aria-labelledby="h-add">
      <h2 id="h-add" className="card-title">{t('add.title')}</h2>
      <p className="muted">{t('add.intro')}</p>
      {error ? <ErrorNotice error={error} /> : null}
      <form className="form form-grid" onSubmit={submit} noValidate>
        <Field label={t('add.file')} hint={t('add.fileHint')} error={problems.file}>
          {(p) => <Input {...p} type="file" accept="application/pdf,image/jpeg,image/png,text/plain" onChange={(e) => {
            const f = e.target.files?.[0];
            setFile(f);
            if (f && !title) setTitle(f.name.replace(/\.[^.]+$/, '').replace(/[_-]+/g, ' '));
          }} />}
        </Field>
        <Field label={t('add.docTitle')} error={problems.title}>
          {(p) => <Input {...p} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />}
        </Field>
        <Field label={t('add.kind')}>
          {(p) => (
            <Select {...p} value={typeCode} onChange={(e) => setTypeCode(e.target.value)}>
              {OWN_TYPES.map((c) => <option key={c} value={c}>{t(`own.${c}` as MessageKey)}</option>)}
            </Select>
          )}
        </Field>
        <Field label={t('add.date')}>
          {(p) => <Input {...p} type="date" value={date} max={new Date().toISOString().slice(0, 10)} onChange={(e) => setDate(e.target.value)} />}
        </Field>
        <Notice tone="info"><p>{t('add.visibility')}</p></Notice>
        <div className="form-actions">
          <Button variant="ghost" onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" icon="upload" busy={busy}>{t('add.submit')}</Button>
        </div>
      </form>
    </section>
  );
}
