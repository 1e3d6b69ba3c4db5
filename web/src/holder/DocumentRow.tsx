import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import type { MesCategory, PortalDocument } from '../lib/types.ts';
import { Badge } from '../components/ui.tsx';
import { Icon, type IconName } from '../components/Icon.tsx';

export const CATEGORY_ICON: Record<MesCategory, IconName> = {
  SYNTHESE: 'clipboard', ORD_SOIN: 'pill', RADIO_SC: 'scan', BIOLOGIE: 'flask', CPT_REND: 'file', DEPISTAG: 'search',
  CERT_MED: 'card', AUTR_DOC: 'folder', DOC_ADM: 'card', DIR_ANT: 'heart', CAR_VAC: 'syringe', REMB: 'card', QUEST_SANTE: 'clipboard',
};

export function DocumentRow({ doc, showCategory = true }: { doc: PortalDocument; showCategory?: boolean }) {
  const { t, date, pick } = useI18n();
  const by = doc.patientAdded ? t('docs.addedByYou') : [doc.author?.name, doc.author?.organisation].filter(Boolean).join(' · ');
  return (
    <li className="doc-row">
      <span className={`doc-icon cat-${doc.category}`} aria-hidden="true"><Icon name={doc.patientAdded ? 'upload' : CATEGORY_ICON[doc.category]} size={20} /></span>
      <div className="doc-main">
        <Link to={`/espace/documents/${doc.id}`} className="doc-title">{doc.title}</Link>
        <p className="doc-meta">
          {showCategory ? <span>{pick(doc.categoryLabel)}</span> : null}
          <span><time dateTime={doc.creationTime}>{date(doc.creationTime)}</time></span>
        </p>
        {by ? <p className="doc-by">{by}</p> : null}
      </div>
      <div className="doc-marks">
        {doc.masked ? <Badge tone="amber" icon="eyeOff">{t('docs.masked')}</Badge> : null}
        {doc.archived ? <Badge>{t('docs.archived')}</Badge> : null}
      </div>
    </li>
  );
}
