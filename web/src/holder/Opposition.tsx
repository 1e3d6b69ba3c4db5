/**
 * Objecting before the record opens (CSP L1111-13-1): the one-time code of the opening notice and
 * the INS; the answer is a proof of opposition to keep.
 */
import { useState, type FormEvent } from 'react';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Button, ConfirmDialog, ErrorNotice, Field, Input, Notice } from '../components/ui.tsx';
import { PublicFrame } from '../Landing.tsx';
import { Icon } from '../components/Icon.tsx';

interface Proof {
  proof_id: string;
  opposed_at: string;
  statement: { fr: string; en: string };
  signature: string;
}

export const OPPOSE_ENDPOINT = '/accounts/oppose';

export function Opposition() {
  const { t, pick } = useI18n();
  const [ins, setIns] = useState('');
  const [code, setCode] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [proof, setProof] = useState<Proof>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setConfirm(true);
  };
  return (
    <PublicFrame narrow>
      <div className="auth-card">
        <div className="auth-head">
          <span className="auth-icon"><Icon name="ban" size={24} /></span>
          <h1 tabIndex={-1} className="page-title">{t('oppose.title')}</h1>
          <p className="page-intro">{t('oppose.intro')}</p>
        </div>
        {error ? <ErrorNotice error={error} /> : null}
        {proof ? (
          <Notice tone="success" title={t('oppose.done')} role="status">
            <p>{pick(proof.statement)}</p>
            <Button variant="secondary" icon="download" onClick={() => {
              const text = `${proof.statement.fr}\n\n${proof.statement.en}\n\n${proof.signature}\n`;
              const blob = new Blob([text], { type: 'text/plain' });
              const a = document.createElement('a');
              a.href = URL.createObjectURL(blob);
              a.download = `preuve-opposition-${proof.proof_id}.txt`;
              a.click();
            }}>{t('oppose.downloadProof')}</Button>
          </Notice>
        ) : (
          <form className="form" onSubmit={submit} noValidate>
            <Field label={t('login.ins')} hint={t('login.insHint')}>
              {(p) => <Input {...p} inputMode="numeric" value={ins} onChange={(e) => setIns(e.target.value)} required />}
            </Field>
            <Field label={t('oppose.code')} hint={t('oppose.codeHint')}>
              {(p) => <Input {...p} value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" required />}
            </Field>
            <Button type="submit" variant="danger" className="btn-block">{t('oppose.submit')}</Button>
          </form>
        )}
        <ConfirmDialog
          open={confirm}
          title={t('oppose.confirmTitle')}
          confirmLabel={t('oppose.submit')}
          tone="danger"
          busy={busy}
          onCancel={() => setConfirm(false)}
          onConfirm={async () => {
            setBusy(true);
            setError(undefined);
            try {
              setProof(await api<Proof>(OPPOSE_ENDPOINT, { body: { ins: ins.replace(/\s+/g, ''), code: code.trim() }, token: null }));
            } catch (e) {
              setError(e);
            } finally {
              setBusy(false);
              setConfirm(false);
            }
          }}
        >
          <p>{t('oppose.confirmBody')}</p>
        </ConfirmDialog>
      </div>
    </PublicFrame>
  );
}
