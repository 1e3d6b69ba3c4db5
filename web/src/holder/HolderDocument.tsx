/** One document: read it, download the original, mask it from professionals (or unmask it). */
import { useState } from 'react';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import type { PortalDocument } from '../lib/types.ts';
import { Badge, Button, ConfirmDialog, ErrorNotice, Notice, PageHeader, Spinner, useAnnounce } from '../components/ui.tsx';
import { DocumentBody, DownloadOriginal, useDocumentView } from '../components/DocumentViewer.tsx';
import { Icon } from '../components/Icon.tsx';

export function HolderDocument({ id }: { id: string }) {
  const { t, date, pick, size } = useI18n();
  const { view, error } = useDocumentView(id);
  const [doc, setDoc] = useState<PortalDocument>();
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [maskError, setMaskError] = useState<unknown>();
  const [announce, say] = useAnnounce();
  const d = doc ?? view?.document;
  const back = <Link to="/espace/documents" className="back-link"><Icon name="back" size={18} /> {t('viewer.back')}</Link>;

  if (error) return <>{back}<PageHeader title={t('viewer.unavailable')} /><ErrorNotice error={error} /></>;
  if (!view || !d) return <>{back}<Spinner /></>;

  const by = d.patientAdded ? t('docs.addedByYou') : [d.author?.name, d.author?.organisation].filter(Boolean).join(' · ');
  return (
    <>
      <PageHeader
        back={back}
        title={d.title}
        intro={<span className="meta-line"><span>{pick(d.categoryLabel)}</span>{by ? <span>{by}</span> : null}<span>{date(d.creationTime, { long: true })}</span></span>}
        actions={
          <>
            <DownloadOriginal id={d.id} title={d.title} mimeType={d.mimeType} size={size(d.size)} />
            {d.status === 'current' ? (
              <Button variant="secondary" icon={d.masked ? 'eye' : 'eyeOff'} onClick={() => setConfirm(true)}>
                {d.masked ? t('viewer.unmask') : t('viewer.mask')}
              </Button>
            ) : null}
          </>
        }
      />
      {announce}
      {d.masked ? (
        <Notice tone="warn" icon="eyeOff" title={t('viewer.maskedTitle')}>
          <p>{t('viewer.maskedBody')}</p>
        </Notice>
      ) : null}
      {maskError ? <ErrorNotice error={maskError} /> : null}
      <div className="marks-line">
        {d.masked ? <Badge tone="amber" icon="eyeOff">{t('docs.masked')}</Badge> : <Badge tone="teal" icon="eye">{t('docs.visibleToPros')}</Badge>}
      </div>
      <DocumentBody view={view} />
      <ConfirmDialog
        open={confirm}
        title={d.masked ? t('viewer.unmaskConfirm') : t('viewer.maskConfirm')}
        confirmLabel={d.masked ? t('viewer.unmask') : t('viewer.mask')}
        busy={busy}
        onCancel={() => setConfirm(false)}
        onConfirm={async () => {
          setBusy(true);
          setMaskError(undefined);
          try {
            const next = await api<PortalDocument>(`/api/holder/documents/${encodeURIComponent(d.id)}/mask`, { body: { masked: !d.masked } });
            setDoc(next);
            say(next.masked ? t('viewer.maskedDone') : t('viewer.unmaskedDone'));
          } catch (e) {
            setMaskError(e);
          } finally {
            setBusy(false);
            setConfirm(false);
          }
        }}
      >
        <p>{d.masked ? t('viewer.unmaskExplain') : t('viewer.maskExplain')}</p>
      </ConfirmDialog>
    </>
  );
}
