/** A document at the workstation: why this professional may read it, its marks, the document itself. */
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import { getSession, setEmergency } from '../lib/session.ts';
import { Badge, ErrorNotice, Notice, PageHeader, Spinner } from '../components/ui.tsx';
import { DocumentBody, DownloadOriginal, useDocumentView } from '../components/DocumentViewer.tsx';
import { Icon } from '../components/Icon.tsx';
import { EmergencyBanner, useEmergencyGrant } from './ProPatient.tsx';

export function ProDocument({ patientId, id }: { patientId: string; id: string }) {
  const { t, date, pick } = useI18n();
  const grant = useEmergencyGrant(patientId);
  const token = grant?.token ?? getSession()?.token;
  const { view, error } = useDocumentView(id, token);
  const back = <Link to={`/pro/patients/${patientId}`} className="back-link"><Icon name="back" size={18} /> {t('pro.backToPatient')}</Link>;
  const banner = grant ? <EmergencyBanner grant={grant} onEnd={() => setEmergency(patientId, undefined)} /> : null;
  if (error) return <>{banner}{back}<PageHeader title={t('viewer.unavailable')} /><ErrorNotice error={error} /></>;
  if (!view) return <>{banner}{back}<Spinner /></>;
  const d = view.document;
  return (
    <>
      {banner}
      <PageHeader
        back={back}
        title={d.title}
        intro={<span className="meta-line"><span>{d.type.display ?? pick(d.categoryLabel)}</span>{d.author?.name ? <span>{d.author.name}</span> : null}<span>{date(d.creationTime, { long: true })}</span></span>}
        actions={<DownloadOriginal id={d.id} title={d.title} mimeType={d.mimeType} token={token} />}
      />
      <div className="marks-line">
        {d.invisibleToPatient ? <Badge tone="violet" icon="eyeOff">{t('pro.invisible')}</Badge> : null}
        {d.masked ? <Badge tone="amber" icon="lock">{t('pro.masked')}</Badge> : null}
      </div>
      {d.access ? (
        <Notice tone={d.access.reason.includes('BRIS') || d.access.reason.includes('CENTRE') ? 'danger' : 'info'} icon="shield" title={t('pro.whyCanRead')}>
          <p>{pick(d.access.explanation)}</p>
        </Notice>
      ) : null}
      <DocumentBody view={view} token={token} />
    </>
  );
}
