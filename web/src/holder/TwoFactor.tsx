/**
 * "Double authentification": the second factor of the person's own account. By default a code is
 * e-mailed at each login; here the person switches to an authenticator app (TOTP): they give their
 * password again, scan the QR code (or type the key), and confirm with a first code — only then
 * does the app replace the e-mailed codes (`/accounts/totp`, `/accounts/totp/confirm`).
 * The QR code is drawn here (SVG as a data: URL, allowed by the CSP); the secret never leaves
 * this tab except to the person's app.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import QRCode from 'qrcode';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Badge, Button, ErrorNotice, Field, Input, Spinner, useLoad } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';

interface Status {
  second_factor: 'email' | 'totp';
  enrolment_pending: boolean;
}

interface Enrolment {
  secret: string;
  uri: string;
  qr?: string;
}

/** The key in groups of four, as authenticator apps show it. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

export function TwoFactor({ say }: { say: (m: string) => void }) {
  const { t } = useI18n();
  const status = useLoad(() => api<Status>('/accounts/totp'), []);
  const [step, setStep] = useState<'idle' | 'password' | 'scan'>('idle');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<Enrolment>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);

  // focus follows the steps: the password field, then the scan instructions
  useEffect(() => {
    if (step === 'password') passwordField.current?.focus();
    if (step === 'scan') stepHeading.current?.focus();
  }, [step]);

  const cancel = () => {
    setStep('idle');
    setPassword('');
    setCode('');
    setEnrolment(undefined);
    setError(undefined);
  };

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await api<{ secret: string; otpauth_uri: string }>('/accounts/totp', { body: { password } });
      let qr: string | undefined;
      try {
        const svg = await QRCode.toString(r.otpauth_uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M', color: { dark: '#0b3b3c', light: '#ffffff' } });
        qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
      } catch {
        qr = undefined; // the key below still works
      }
      setPassword('');
      setEnrolment({ secret: r.secret, uri: r.otpauth_uri, qr });
      setStep('scan');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('/accounts/totp/confirm', { body: { code: code.replace(/\s/g, '') } });
      cancel();
      status.setData({ second_factor: 'totp', enrolment_pending: false });
      say(t('twofa.done'));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const current = status.data?.second_factor;
  return (
    <section className="card card-twofa" aria-labelledby="h-twofa">
      <h2 id="h-twofa" className="card-title"><Icon name="key" size={22} /> {t('twofa.title')}</h2>
      <p className="explain">{t('twofa.explain')}</p>
      {status.loading && !status.data ? <Spinner /> : null}
      {status.error ? <ErrorNotice error={status.error} /> : null}
      {current ? (
        <p className="twofa-current">
          <span>{t('twofa.current')}</span>{' '}
          {current === 'totp'
            ? <Badge tone="green" icon="check">{t('twofa.method.totp')}</Badge>
            : <Badge tone="teal" icon="info">{t('twofa.method.email')}</Badge>}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}

      {step === 'idle' && current ? (
        <div className="form-actions">
          <Button variant={current === 'totp' ? 'secondary' : 'primary'} icon="key" onClick={() => setStep('password')}>
            {current === 'totp' ? t('twofa.change') : t('twofa.start')}
          </Button>
        </div>
      ) : null}

      {step === 'password' ? (
        <form onSubmit={start} className="form-grid" noValidate>
          <Field label={t('twofa.password')} hint={t('twofa.passwordHint')}>
            {(f) => <Input {...f} ref={passwordField} name="current-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />}
          </Field>
          <div className="form-actions">
            <Button type="submit" busy={busy} disabled={!password}>{t('twofa.continue')}</Button>
            <Button variant="ghost" onClick={cancel}>{t('common.cancel')}</Button>
          </div>
        </form>
      ) : null}

      {step === 'scan' && enrolment ? (
        <div className="twofa-scan">
          <h3 ref={stepHeading} tabIndex={-1} className="twofa-step-title">{t('twofa.scanTitle')}</h3>
          <ol className="twofa-steps">
            <li>{t('twofa.step1')}</li>
            <li>
              <p>{t('twofa.step2')}</p>
              <div className="twofa-qr-row">
                {enrolment.qr ? <img className="twofa-qr" src={enrolment.qr} width={184} height={184} alt={t('twofa.qrAlt')} /> : null}
                <div className="twofa-key">
                  <p className="hint">{t('twofa.keyLabel')}</p>
                  <code className="twofa-secret" aria-label={t('twofa.keyAria')}>{grouped(enrolment.secret)}</code>
                  <details className="twofa-uri">
                    <summary>{t('twofa.uriLabel')}</summary>
                    <code>{enrolment.uri}</code>
                  </details>
                </div>
              </div>
            </li>
            <li>
              <form onSubmit={confirm} className="form-grid" noValidate>
                <Field label={t('twofa.code')} hint={t('twofa.codeHint')}>
                  {(f) => (
                    <Input {...f} name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]*" maxLength={7}
                      value={code} onChange={(e) => setCode(e.target.value)} required />
                  )}
                </Field>
                <div className="form-actions">
                  <Button type="submit" icon="check" busy={busy} disabled={code.replace(/\s/g, '').length !== 6}>{t('twofa.confirm')}</Button>
                  <Button variant="ghost" onClick={cancel}>{t('common.cancel')}</Button>
                </div>
              </form>
            </li>
          </ol>
        </div>
      ) : null}
    </section>
  );
}
