/**
 * First visit: the holder activates their account with the one-time code of the opening notice
 * and their INS, chooses a password and where one-time codes go (docs/accounts.md).
 */
import { useState, type FormEvent } from 'react';
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import { activateAccount } from '../lib/auth.ts';
import { Button, ErrorNotice, Field, Input, Notice } from '../components/ui.tsx';
import { PublicFrame } from '../Landing.tsx';
import { Icon } from '../components/Icon.tsx';

export function Activation() {
  const { t } = useI18n();
  const [f, setF] = useState({ ins: '', code: '', email: '', password: '', confirm: '' });
  const [problems, setProblems] = useState<Partial<Record<keyof typeof f, string>>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p: typeof problems = {};
    if (f.ins.replace(/\s+/g, '').length !== 15) p.ins = t('search.insFormat');
    if (!f.code.trim()) p.code = t('activate.needCode');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(f.email.trim())) p.email = t('activate.needEmail');
    if (f.password.length < 12) p.password = t('activate.passwordRule');
    if (f.password !== f.confirm) p.confirm = t('activate.mismatch');
    setProblems(p);
    if (Object.keys(p).length) return;
    setBusy(true);
    setError(undefined);
    try {
      await activateAccount({ ins: f.ins.replace(/\s+/g, ''), code: f.code.trim(), password: f.password, email: f.email.trim() });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <PublicFrame narrow>
      <div className="auth-card">
        <div className="auth-head">
          <span className="auth-icon"><Icon name="key" size={24} /></span>
          <h1 tabIndex={-1} className="page-title">{t('activate.title')}</h1>
          <p className="page-intro">{t('activate.intro')}</p>
        </div>
        {error ? <ErrorNotice error={error} /> : null}
        {done ? (
          <Notice tone="success" title={t('activate.done')} role="status">
            <p>{t('activate.doneBody')}</p>
            <Link to="/connexion" className="btn btn-primary">{t('login.submit')}</Link>
          </Notice>
        ) : (
          <form className="form" onSubmit={submit} noValidate>
            <Field label={t('login.ins')} hint={t('login.insHint')} error={problems.ins}>
              {(p) => <Input {...p} inputMode="numeric" autoComplete="username" value={f.ins} onChange={set('ins')} />}
            </Field>
            <Field label={t('oppose.code')} hint={t('oppose.codeHint')} error={problems.code}>
              {(p) => <Input {...p} autoComplete="one-time-code" value={f.code} onChange={set('code')} />}
            </Field>
            <Field label={t('activate.email')} hint={t('activate.emailHint')} error={problems.email}>
              {(p) => <Input {...p} type="email" autoComplete="email" value={f.email} onChange={set('email')} />}
            </Field>
            <Field label={t('activate.password')} hint={t('activate.passwordRule')} error={problems.password}>
              {(p) => <Input {...p} type="password" autoComplete="new-password" value={f.password} onChange={set('password')} />}
            </Field>
            <Field label={t('activate.confirm')} error={problems.confirm}>
              {(p) => <Input {...p} type="password" autoComplete="new-password" value={f.confirm} onChange={set('confirm')} />}
            </Field>
            <Button type="submit" busy={busy} className="btn-block">{t('activate.submit')}</Button>
          </form>
        )}
        <p className="auth-foot"><Link to="/connexion" className="link">{t('activate.haveAccount')}</Link></p>
      </div>
    </PublicFrame>
  );
}
