/** The front door: the holder's space, the professional workstation, and objecting before opening. */
import type { ReactNode } from 'react';
import { useI18n } from './lib/i18n.tsx';
import { Link } from './lib/router.tsx';
import { Icon, Logo } from './components/Icon.tsx';
import { LangSwitch } from './components/ui.tsx';

export function PublicFrame({ children, narrow }: { children: ReactNode; narrow?: boolean }) {
  const { t } = useI18n();
  return (
    <div className="public">
      <a className="skip-link" href="#main">{t('common.skip')}</a>
      <header className="public-header">
        <Link to="/" className="brand" aria-label={t('brand.home')}>
          <Logo size={30} />
          <span className="brand-name">Carnet</span>
        </Link>
        <LangSwitch />
      </header>
      <main id="main" className={narrow ? 'public-main narrow' : 'public-main'}>{children}</main>
      <footer className="public-footer">
        <p>{t('footer.tagline')}</p>
        <p className="muted">{t('footer.law')}</p>
      </footer>
    </div>
  );
}

export function Landing() {
  const { t } = useI18n();
  return (
    <PublicFrame>
      <section className="hero">
        <h1 tabIndex={-1} className="hero-title">{t('landing.title')}</h1>
        <p className="hero-intro">{t('landing.intro')}</p>
      </section>
      <div className="door-grid">
        <Link to="/connexion" className="door">
          <span className="door-icon"><Icon name="heart" size={26} /></span>
          <span className="door-text">
            <span className="door-title">{t('landing.holder')}</span>
            <span className="door-desc">{t('landing.holderDesc')}</span>
          </span>
          <Icon name="chevron" />
        </Link>
        <Link to="/pro/connexion" className="door door-pro">
          <span className="door-icon"><Icon name="stethoscope" size={26} /></span>
          <span className="door-text">
            <span className="door-title">{t('landing.pro')}</span>
            <span className="door-desc">{t('landing.proDesc')}</span>
          </span>
          <Icon name="chevron" />
        </Link>
      </div>
      <ul className="promises" aria-label={t('landing.promises')}>
        <li><Icon name="folder" size={22} /><div><strong>{t('landing.p1')}</strong><p>{t('landing.p1d')}</p></div></li>
        <li><Icon name="shield" size={22} /><div><strong>{t('landing.p2')}</strong><p>{t('landing.p2d')}</p></div></li>
        <li><Icon name="clock" size={22} /><div><strong>{t('landing.p3')}</strong><p>{t('landing.p3d')}</p></div></li>
      </ul>
      <p className="landing-oppose">
        {t('landing.opposeQ')} <Link to="/opposition" className="link">{t('landing.oppose')}</Link>
      </p>
    </PublicFrame>
  );
}
