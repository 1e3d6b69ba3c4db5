/** The holder's space: brand bar, navigation (side on a desk, bottom bar on a phone), the page. */
import type { ReactNode } from 'react';
import { useI18n } from '../lib/i18n.tsx';
import { Link, navigate } from '../lib/router.tsx';
import { useMe } from '../lib/me.ts';
import { logout } from '../lib/auth.ts';
import { Icon, Logo, type IconName } from '../components/Icon.tsx';
import { LangSwitch } from '../components/ui.tsx';
import type { MessageKey } from '../lib/messages.ts';

const NAV: Array<{ to: string; icon: IconName; label: MessageKey; short: MessageKey }> = [
  { to: '/espace', icon: 'home', label: 'nav.home', short: 'nav.homeShort' },
  { to: '/espace/documents', icon: 'file', label: 'nav.documents', short: 'nav.documentsShort' },
  { to: '/espace/partage', icon: 'shield', label: 'nav.sharing', short: 'nav.sharingShort' },
  { to: '/espace/historique', icon: 'clock', label: 'nav.history', short: 'nav.historyShort' },
  { to: '/espace/profil', icon: 'user', label: 'nav.profile', short: 'nav.profileShort' },
];

export function HolderShell({ path, children }: { path: string; children: ReactNode }) {
  const { t } = useI18n();
  const me = useMe();
  const current = (to: string) => (to === '/espace' ? path === '/espace' : path === to || path.startsWith(`${to}/`));
  return (
    <div className="shell">
      <a className="skip-link" href="#main">{t('common.skip')}</a>
      <header className="topbar">
        <Link to="/espace" className="brand" aria-label={t('brand.home')}>
          <Logo size={30} />
          <span className="brand-name">Carnet</span>
        </Link>
        <div className="topbar-end">
          <LangSwitch />
          {me ? <span className="whoami" aria-label={t('shell.loggedAs', { name: me.name })}><Icon name="user" size={18} /><span className="whoami-name">{me.name}</span></span> : null}
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={async () => {
              await logout();
              navigate('/');
            }}
          >
            <Icon name="logout" size={18} />
            <span className="hide-narrow">{t('shell.logout')}</span>
            <span className="sr-only show-narrow-sr">{t('shell.logout')}</span>
          </button>
        </div>
      </header>
      <div className="shell-body">
        <nav className="sidenav" aria-label={t('nav.label')}>
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} className="navlink" aria-current={current(n.to) ? 'page' : undefined}>
                  <Icon name={n.icon} size={20} />
                  <span className="navlink-long">{t(n.label)}</span>
                  <span className="navlink-short" aria-hidden="true">{t(n.short)}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" className="main">{children}</main>
      </div>
    </div>
  );
}
