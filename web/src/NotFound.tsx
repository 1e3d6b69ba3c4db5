import { useI18n } from './lib/i18n.tsx';
import { Link } from './lib/router.tsx';
import { PageHeader } from './components/ui.tsx';
import { PublicFrame } from './Landing.tsx';

export function NotFound({ standalone }: { standalone?: boolean }) {
  const { t } = useI18n();
  const body = (
    <>
      <PageHeader title={t('notFound.title')} intro={t('notFound.intro')} />
      <p><Link to="/" className="link">{t('notFound.back')}</Link></p>
    </>
  );
  return standalone ? <PublicFrame>{body}</PublicFrame> : body;
}
