/**
 * The holder's login: INS and password, then the second factor (an authenticator code or a code
 * received by e-mail) — the "double secret" of DOMAIN §8.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../lib/i18n.tsx';
import { navigate, usePath, Link } from '../lib/router.tsx';
import { holderPasswordStep, holderSecondFactor, keepToken, type TokenAnswer } from '../lib/auth.ts';
import { Button, ErrorNotice, Field, Input, Notice } from '../components/ui.tsx';
import { PublicFrame } from '../Landing.tsx';
import { Icon } from '../components/Icon.tsx';

export function HolderLogin() {
  const { t } = useI18n();
  const { query } = usePath();
  const next = query.get('next');
  const [step, setStep] = useState<{ kind: 'password' } | { kind: 'code'; challenge: string; method: 'totp' | 'email' }>({ kind: 'password' });
  const [ins, setIns] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const codeRef = useRef<HTMLInputElement>(null);
  // the second step takes the focus: keyboard and screen-reader users land on the code field
  useEffect(() => {
    if (step.kind === 'code') codeRef.current?.focus();
  }, [step.kind]);

  const done = (tok: TokenAnswer) => {
    keepToken('person', tok);
    navigate(next && next.startsWith('/espace') ? next : '/espace', { replace: true });
  };

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await holderPasswordStep(ins.replace(/\s+/g, ''), password);
      if ('access_token' in r) done(r);
      else {
        setStep({ kind: 'code', challenge: r.challenge, method: r.method });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: FormEvent) => {
    e.preventDefault();
    if (step.kind !== 'code') return;
    setBusy(true);
    setError(undefined);
    try {
      done(await holderSecondFactor(step.challenge, code.replace(/\s+/g, '')));
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
          <span className="auth-icon"><Icon name="heart" size={24} /></span>
          <h1 tabIndex={-1} className="page-title">{t('login.title')}</h1>
          <p className="page-intro">{step.kind === 'password' ? t('login.intro') : t(step.method === 'totp' ? 'login.codeIntroTotp' : 'login.codeIntroEmail')}</p>
        </div>
        <ol className="steps" aria-label={t('login.steps')}>
          <li aria-current={step.kind === 'password' ? 'step' : undefined} className={step.kind === 'password' ? 'on' : 'done'}>{t('login.step1')}</li>
          <li aria-current={step.kind === 'code' ? 'step' : undefined} className={step.kind === 'code' ? 'on' : ''}>{t('login.step2')}</li>
        </ol>
        {error ? <ErrorNotice error={error} title={t('login.failed')} /> : null}
        {step.kind === 'password' ? (
          <form onSubmit={submitPassword} className="form" noValidate>
            <Field label={t('login.ins')} hint={t('login.insHint')}>
              {(p) => <Input {...p} name="ins" inputMode="numeric" autoComplete="username" value={ins} onChange={(e) => setIns(e.target.value)} required spellCheck={false} />}
            </Field>
            <Field label={t('login.password')}>
              {(p) => <Input {...p} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />}
            </Field>
            <Button type="submit" busy={busy} className="btn-block">{t('login.continue')}</Button>
          </form>
        ) : (
          <form onSubmit={submitCode} className="form" noValidate>
            <Field label={t('login.code')} hint={t('login.codeHint')}>
              {(p) => (
                <Input
                  {...p}
                  ref={codeRef}
                  name="otp"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  maxLength={10}
                  className="input input-code"
                  required
                />
              )}
            </Field>
            <Button type="submit" busy={busy} className="btn-block">{t('login.submit')}</Button>
            <Button variant="ghost" onClick={() => { setStep({ kind: 'password' }); setCode(''); setError(undefined); }}>{t('login.back')}</Button>
          </form>
        )}
        <Notice tone="info" icon="lock">
          <p>{t('login.security')}</p>
        </Notice>
        <p className="auth-foot">
          <Link to="/activation" className="link">{t('login.firstTime')}</Link>
          <br />
          <Link to="/opposition" className="link">{t('login.oppose')}</Link>
        </p>
      </div>
    </PublicFrame>
  );
}
