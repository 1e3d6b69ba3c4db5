/** The professional workstation's frame: who is logged in (name, profession, RPPS, structure). */
import type { ReactNode } from 'react';
import { useI18n } from '../lib/i18n.tsx';
import { Link, navigate } from '../lib/router.tsx';
import { useMe } from '../lib/me.ts';
import { logout } from '../lib/auth.ts';
import { Icon, Logo } from '../components/Icon.tsx';
import { LangSwitch } from '../components/ui.tsx';

export function ProShell({ children }: { path: string; children: ReactNode }) {
  const { t, pick } = useI18n();
  const me = useMe();
  return (
    <div className="shell shell-pro">
      <a className="skip-link" href="#main">{t('common.skip')}</a>
      <header className="topbar topbar-pro">
        <Link to="/pro" className="brand brand-light" aria-label={t('brand.proHome')}>
          <Logo size={30} tone="light" />
          <span className="brand-name">Carnet</span>
          <span className="brand-tag">{t('pro.tag')}</span>
        </Link>
        <div className="topbar-end">
          <LangSwitch />
          {me ? (
            <span className="whoami whoami-pro">
              <Icon name="stethoscope" size={18} />
              <span className="whoami-name">{me.name}</span>
              <span className="whoami-meta hide-narrow">{[me.profession ? pick(me.profession) : undefined, me.rpps ? `RPPS ${me.rpps}` : undefined, me.organisation?.name].filter(Boolean).join(' · ')}</span>
            </span>
          ) : null}
          <button type="button" className="btn btn-ghost-light btn-small" onClick={async () => { await logout(); navigate('/'); }}>
            <Icon name="logout" size={18} /><span className="hide-narrow">{t('shell.logout')}</span><span className="sr-only show-narrow-sr">{t('shell.logout')}</span>
          </button>
        </div>
      </header>
      <main id="main" className="main main-pro">{children}</main>
    </div>
  );
}
