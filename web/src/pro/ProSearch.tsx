/** Find a patient by INS (TD0.2): does a record exist, in which state, am I authorized? */
import { useState, type FormEvent } from 'react';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import { Badge, Button, ErrorNotice, Field, Input, PageHeader, Select } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import { INS_OID, patientStatus, type PatientStatus } from './fhir.ts';
import { rememberPatient } from './patients.ts';
import type { MessageKey } from '../lib/messages.ts';

export function authTone(a: string): 'green' | 'amber' | 'red' | 'neutral' {
  return a === 'VALIDE' ? 'green' : a === 'EXPIRE' ? 'amber' : a === 'INTERDIT' ? 'red' : 'neutral';
}

export function ProSearch() {
  const { t, date } = useI18n();
  const [ins, setIns] = useState('');
  const [oid, setOid] = useState<keyof typeof INS_OID>('NIR');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problem, setProblem] = useState<string>();
  const [result, setResult] = useState<{ found: PatientStatus | null }>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = ins.replace(/\s+/g, '').toUpperCase();
    if (!/^[0-9]{5}[0-9AB][0-9]{9}$/.test(value)) {
      setProblem(t('search.insFormat'));
      return;
    }
    setProblem(undefined);
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const bundle = await api<{ entry?: Array<{ resource: Record<string, unknown> }> }>(
        `/fhir/Patient?identifier=${encodeURIComponent(`urn:oid:${INS_OID[oid]}|${value}`)}`,
      );
      const p = bundle.entry?.[0]?.resource;
      const found = p ? patientStatus(p) : null;
      if (found) rememberPatient(found);
      setResult({ found });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const found = result?.found;
  return (
    <>
      <PageHeader title={t('search.title')} intro={t('search.intro')} />
      <form className="card search-card" onSubmit={submit} role="search" noValidate>
        <div className="search-grid">
          <Field label={t('search.ins')} hint={t('search.insHint')} error={problem}>
            {(p) => <Input {...p} value={ins} onChange={(e) => setIns(e.target.value)} inputMode="numeric" autoComplete="off" spellCheck={false} className="input input-ins" />}
          </Field>
          <Field label={t('search.kind')}>
            {(p) => (
              <Select {...p} value={oid} onChange={(e) => setOid(e.target.value as keyof typeof INS_OID)}>
                {(Object.keys(INS_OID) as Array<keyof typeof INS_OID>).map((k) => <option key={k} value={k}>{t(`search.kind.${k}` as MessageKey)}</option>)}
              </Select>
            )}
          </Field>
          <Button type="submit" icon="search" busy={busy}>{t('common.search')}</Button>
        </div>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {result ? (
        <section className="card result-card" aria-live="polite" aria-labelledby="h-result">
          {found ? (
            <>
              <div className="result-head">
                <span className="avatar avatar-lg" aria-hidden="true"><Icon name="user" size={22} /></span>
                <div>
                  <h2 id="h-result" className="card-title">{found.name ?? t('search.identityHidden')}</h2>
                  <p className="muted">INS {found.ins}{found.birthDate ? ` · ${t('search.born', { date: date(found.birthDate, { long: true }) })}` : ''}</p>
                </div>
              </div>
              <dl className="facts">
                <div><dt>{t('search.record')}</dt><dd><Badge tone={found.state === 'active' ? 'green' : 'amber'}>{t(`recordState.${found.state}` as MessageKey)}</Badge></dd></div>
                <div><dt>{t('search.authorization')}</dt><dd><Badge tone={authTone(found.authorization)}>{t(`authz.${found.authorization}` as MessageKey)}</Badge></dd></div>
                {found.medecinTraitant ? <div><dt>{t('search.role')}</dt><dd><Badge tone="teal">{t('search.youAreMt')}</Badge></dd></div> : null}
              </dl>
              <p className="explain">{t(`authz.${found.authorization}.explain` as MessageKey)}</p>
              <Link to={`/pro/patients/${found.id}`} className="btn btn-primary"><span>{t('search.open')}</span><Icon name="chevron" size={18} /></Link>
            </>
          ) : (
            <>
              <h2 id="h-result" className="card-title">{t('search.noRecord')}</h2>
              <p className="explain">{t('authz.NON_EXISTE.explain')}</p>
            </>
          )}
        </section>
      ) : null}
    </>
  );
}
