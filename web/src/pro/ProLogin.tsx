/**
 * The professional's login: the CPS smart card model (an X.509 client certificate presented over
 * mutual TLS) or an external OpenID Connect provider (the Pro Santé Connect model). Both are the
 * login endpoints of docs/accounts.md; the portal only starts them and keeps the token.
 */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { navigate, usePath } from '../lib/router.tsx';
import { keepToken, type TokenAnswer } from '../lib/auth.ts';
import { Button, ErrorNotice, Notice } from '../components/ui.tsx';
import { PublicFrame } from '../Landing.tsx';
import { Icon } from '../components/Icon.tsx';

export const PRO_LOGIN = {
  certificate: '/pro/login/certificate',
  oidcStart: '/pro/login/oidc',
};

export function ProLogin() {
  const { t } = useI18n();
  const { query } = usePath();
  const next = query.get('next');
  const [busy, setBusy] = useState<'cert' | 'oidc'>();
  const [error, setError] = useState<unknown>();
  const done = (tok: TokenAnswer) => {
    keepToken('professional', tok);
    navigate(next && next.startsWith('/pro') ? next : '/pro', { replace: true });
  };

  // back from the identity provider: the token arrives in the fragment, never in the query
  useEffect(() => {
    const h = new URLSearchParams(location.hash.slice(1));
    const at = h.get('access_token');
    if (at) {
      history.replaceState(null, '', location.pathname + location.search);
      done({ access_token: at, expires_in: Number(h.get('expires_in') ?? 300), session_secret: h.get('session_secret') ?? undefined });
    }
    if (h.get('error')) setError(new Error(h.get('error_description') ?? h.get('error') ?? ''));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <PublicFrame narrow>
      <div className="auth-card auth-card-pro">
        <div className="auth-head">
          <span className="auth-icon auth-icon-pro"><Icon name="stethoscope" size={24} /></span>
          <h1 tabIndex={-1} className="page-title">{t('prologin.title')}</h1>
          <p className="page-intro">{t('prologin.intro')}</p>
        </div>
        {error ? <ErrorNotice error={error} title={t('login.failed')} /> : null}
        <div className="login-choices">
          <Button className="btn-block btn-tall" icon="card" busy={busy === 'cert'} onClick={async () => {
            setBusy('cert');
            setError(undefined);
            try {
              done(await api<TokenAnswer>(PRO_LOGIN.certificate, { method: 'POST', body: {}, token: null }));
            } catch (e) {
              setError(e);
            } finally {
              setBusy(undefined);
            }
          }}>{t('prologin.card')}</Button>
          <p className="muted small">{t('prologin.cardHint')}</p>
          <div className="or"><span>{t('common.or')}</span></div>
          <Button variant="secondary" className="btn-block btn-tall" icon="key" busy={busy === 'oidc'} onClick={() => {
            setBusy('oidc');
            location.assign(PRO_LOGIN.oidcStart);
          }}>{t('prologin.oidc')}</Button>
          <p className="muted small">{t('prologin.oidcHint')}</p>
        </div>
        <Notice tone="info" icon="lock"><p>{t('prologin.traced')}</p></Notice>
      </div>
    </PublicFrame>
  );
}
