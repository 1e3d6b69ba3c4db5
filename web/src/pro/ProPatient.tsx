/**
 * One patient at the workstation: authorization status, the documents the rules let this
 * professional read (with the marks "not visible to the patient" and "masked"), recording the
 * patient's consent, adding a document, and break-glass with its warning, its required
 * justification and the countdown of the window.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { Link } from '../lib/router.tsx';
import { getEmergency, getSession, onSessionChange, setEmergency, type EmergencyGrant } from '../lib/session.ts';
import { Badge, Button, ConfirmDialog, ErrorNotice, Field, Input, Notice, PageHeader, Spinner, Textarea, errorText, useAnnounce } from '../components/ui.tsx';
import { Icon } from '../components/Icon.tsx';
import { patientStatus, proDocument, type PatientStatus, type ProDocument } from './fhir.ts';
import { recalledPatient, rememberPatient } from './patients.ts';
import { authTone } from './ProSearch.tsx';
import { UploadDocument } from './UploadDocument.tsx';
import type { MessageKey } from '../lib/messages.ts';

/** 2 79 03 51 215 189 89: the INS as it is printed on a Vitale card. */
export function formatIns(ins: string) {
  const m = /^(\w)(\w\w)(\w\w)(\w\w)(\w{3})(\w{3})(\w\w)$/.exec(ins);
  return m ? m.slice(1).join('\u202f') : ins;
}

/** The emergency grant of this patient; its short-lived token is renewed while the window lasts. */
export function useEmergencyGrant(patientId: string): EmergencyGrant | undefined {
  const [g, setG] = useState(() => getEmergency(patientId));
  useEffect(() => onSessionChange(() => setG(getEmergency(patientId))), [patientId]);
  useEffect(() => {
    if (!g) return;
    const renewAt = Date.parse(g.tokenExpiresAt) - 30_000;
    const windowOpen = Date.parse(g.sessionExpiresAt) > Date.parse(g.tokenExpiresAt);
    const h = setTimeout(async () => {
      if (!windowOpen) {
        setEmergency(patientId, undefined);
        return;
      }
      try {
        setEmergency(patientId, await openEmergency(patientId, g.justification));
      } catch {
        setEmergency(patientId, undefined);
      }
    }, Math.max(renewAt - Date.now(), 0));
    return () => clearTimeout(h);
  }, [g, patientId]);
  return g;
}

/** POST /api/pro/emergency: opens (or reuses) the session and returns a token in break-glass mode. */
export async function openEmergency(patientId: string, justification: string): Promise<EmergencyGrant> {
  const r = await api<{ session: { startedAt: string; expiresAt: string }; token: { access_token: string; expires_in: number } }>('/api/pro/emergency', {
    body: { patient: patientId, justification },
  });
  return {
    token: r.token.access_token,
    justification,
    tokenExpiresAt: new Date(Date.now() + r.token.expires_in * 1000).toISOString(),
    sessionExpiresAt: r.session.expiresAt,
    startedAt: r.session.startedAt,
  };
}

function useNow(on: boolean) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const h = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(h);
  }, [on]);
  return now;
}

export function Countdown({ until }: { until: string }) {
  const { t } = useI18n();
  const now = useNow(true);
  const left = Math.max(0, Date.parse(until) - now);
  const h = Math.floor(left / 3_600_000);
  const m = Math.floor((left % 3_600_000) / 60_000);
  const s = Math.floor((left % 60_000) / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    <span className="countdown" role="timer" aria-label={t('emergency.remaining', { h, m })}>
      {h > 0 ? `${h} h ` : ''}{pad(m)} min {pad(s)} s
    </span>
  );
}

export function EmergencyBanner({ grant, onEnd }: { grant: EmergencyGrant; onEnd: () => void }) {
  const { t, date } = useI18n();
  return (
    <div className="emergency-banner" role="region" aria-label={t('emergency.banner')}>
      <Icon name="siren" size={24} />
      <div className="emergency-text">
        <strong>{t('emergency.active')}</strong>
        <span>{t('emergency.activeSince', { start: date(grant.startedAt, { time: true }) })}</span>
      </div>
      <div className="emergency-timer">
        <span className="emergency-timer-label">{t('emergency.timeLeft')}</span>
        <Countdown until={grant.sessionExpiresAt} />
      </div>
      <Button variant="ghost-light" className="btn-small" onClick={onEnd}>{t('emergency.leave')}</Button>
    </div>
  );
}

export function ProPatient({ patientId }: { patientId: string }) {
  const { t, date } = useI18n();
  const grant = useEmergencyGrant(patientId);
  const [patient, setPatient] = useState<PatientStatus | undefined>(() => recalledPatient(patientId));
  const [docs, setDocs] = useState<{ list?: ProDocument[]; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const [showConsent, setShowConsent] = useState(false);
  const [showUpload, setShowUpload] = useState(false);
  const [older, setOlder] = useState(false);
  const [announce, say] = useAnnounce();
  const token = grant?.token ?? getSession()?.token;

  // TD0.2 again: the status may have changed (consent recorded, emergency)
  useEffect(() => {
    const known = recalledPatient(patientId);
    if (!known) return;
    api<{ entry?: Array<{ resource: Record<string, unknown> }> }>(`/fhir/Patient?identifier=${encodeURIComponent(`${known.insSystem}|${known.ins}`)}`, { token })
      .then((b) => {
        const p = b.entry?.[0]?.resource;
        if (p) {
          const s = patientStatus(p);
          rememberPatient(s);
          setPatient(s);
        }
      })
      .catch(() => {});
  }, [patientId, tick, token]);

  useEffect(() => {
    let live = true;
    setDocs((d) => ({ ...d, loading: true, error: undefined }));
    api<{ entry?: Array<{ resource: Record<string, unknown> }> }>(`/fhir/DocumentReference?patient=${encodeURIComponent(patientId)}&status=current&_count=100${older ? '&creation=ge1900-01-01' : ''}`, { token })
      .then((b) => live && setDocs({ list: (b.entry ?? []).map((e) => proDocument(e.resource)).sort((x, y) => (y.date ?? '').localeCompare(x.date ?? '')), loading: false }))
      .catch((error) => live && setDocs({ error, loading: false }));
    return () => {
      live = false;
    };
  }, [patientId, tick, token, older]);

  const refused = docs.error instanceof ApiError && docs.error.status === 403 ? docs.error : undefined;
  const back = <Link to="/pro" className="back-link"><Icon name="back" size={18} /> {t('pro.backToSearch')}</Link>;

  return (
    <>
      {grant ? <EmergencyBanner grant={grant} onEnd={() => setEmergency(patientId, undefined)} /> : null}
      <PageHeader
        back={back}
        title={patient?.name ?? t('pro.patient')}
        intro={patient ? <span className="meta-line"><span>INS {formatIns(patient.ins)}</span>{patient.birthDate ? <span>{t('search.born', { date: date(patient.birthDate, { long: true }) })}</span> : null}</span> : undefined}
        actions={
          <>
            <Button variant="secondary" icon="upload" onClick={() => setShowUpload((v) => !v)} aria-expanded={showUpload}>{t('upload.open')}</Button>
          </>
        }
      />
      {announce}
      <div className="pro-grid">
        <div className="pro-main stack-lg">
          {showUpload ? (
            <UploadDocument
              patientId={patientId}
              patientIns={patient?.ins}
              token={token}
              onClose={() => setShowUpload(false)}
              onDone={(title) => { setShowUpload(false); setTick((n) => n + 1); say(t('upload.done', { title })); }}
            />
          ) : null}
          <section className="card" aria-labelledby="h-docs">
            <div className="card-head">
              <h2 id="h-docs" className="card-title"><Icon name="file" size={22} /> {t('pro.documents')}</h2>
              {docs.list ? <span className="muted small">{t('pro.documentsCount', { n: docs.list.length })}</span> : null}
            </div>
            <p className="explain">{t(grant ? 'pro.documentsExplainEmergency' : 'pro.documentsExplain')}</p>
            <div className="check check-inline">
              <input id="pro-older" type="checkbox" checked={older} onChange={(e) => setOlder(e.target.checked)} />
              <label htmlFor="pro-older">{t('pro.older')}</label>
            </div>
            {docs.loading && !docs.list && !docs.error ? <Spinner /> : null}
            {refused ? (
              <Notice tone="warn" icon="lock" title={t('pro.refusedTitle')} role="alert">
                <p>{errorText(refused, t)}</p>
                <p>{t('pro.refusedWhatNow')}</p>
              </Notice>
            ) : docs.error ? <ErrorNotice error={docs.error} /> : null}
            {docs.list ? (
              docs.list.length ? (
                <ul className="doc-list">
                  {docs.list.map((d) => (
                    <li key={d.id} className="doc-row">
                      <span className="doc-icon" aria-hidden="true"><Icon name="file" size={20} /></span>
                      <div className="doc-main">
                        <Link to={`/pro/patients/${patientId}/documents/${d.id}`} className="doc-title">{d.title}</Link>
                        <p className="doc-meta">
                          {d.typeDisplay && d.typeDisplay !== d.title ? <span>{d.typeDisplay}</span> : null}
                          {d.date ? <span>{date(d.date)}</span> : null}
                        </p>
                        {d.author || d.organisation ? <p className="doc-by">{[d.author, d.organisation].filter(Boolean).join(' · ')}</p> : null}
                      </div>
                      <div className="doc-marks">
                        {d.invisibleToPatient ? <Badge tone="violet" icon="eyeOff">{t('pro.invisible')}</Badge> : null}
                        {d.masked ? <Badge tone="amber" icon="lock">{t('pro.masked')}</Badge> : null}
                      </div>
                    </li>
                  ))}
                </ul>
              ) : <p className="empty">{t('pro.noDocuments')}</p>
            ) : null}
          </section>
        </div>
        <aside className="pro-aside stack" aria-label={t('pro.aside')}>
          {patient ? (
            <section className="card" aria-labelledby="h-status">
              <h2 id="h-status" className="card-title">{t('pro.status')}</h2>
              <dl className="facts facts-stack">
                <div><dt>{t('search.record')}</dt><dd><Badge tone={patient.state === 'active' ? 'green' : 'amber'}>{t(`recordState.${patient.state}` as MessageKey)}</Badge></dd></div>
                <div><dt>{t('search.authorization')}</dt><dd><Badge tone={authTone(patient.authorization)}>{t(`authz.${patient.authorization}` as MessageKey)}</Badge></dd></div>
                {patient.medecinTraitant ? <div><dt>{t('search.role')}</dt><dd><Badge tone="teal">{t('search.youAreMt')}</Badge></dd></div> : null}
              </dl>
              {patient.authorization !== 'VALIDE' && patient.authorization !== 'INTERDIT' ? (
                <Button variant="secondary" icon="check" className="btn-block" onClick={() => setShowConsent(true)}>{t('consent.record')}</Button>
              ) : null}
            </section>
          ) : null}
          {!grant ? <BreakGlass patientId={patientId} onOpened={() => { setTick((n) => n + 1); say(t('emergency.opened')); }} /> : null}
        </aside>
      </div>
      <ConsentDialog
        open={showConsent}
        patientId={patientId}
        onClose={() => setShowConsent(false)}
        onDone={() => { setShowConsent(false); setTick((n) => n + 1); say(t('consent.done')); }}
      />
    </>
  );
}

function ConsentDialog({ open, patientId, onClose, onDone }: { open: boolean; patientId: string; onClose: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <ConfirmDialog
      open={open}
      title={t('consent.title')}
      confirmLabel={t('consent.confirm')}
      busy={busy}
      onCancel={onClose}
      onConfirm={async () => {
        setBusy(true);
        setError(undefined);
        try {
          await api('/fhir/Consent', {
            contentType: 'application/fhir+json',
            body: {
              resourceType: 'Consent',
              status: 'active',
              scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
              category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
              patient: { reference: `Patient/${patientId}` },
              dateTime: new Date().toISOString(),
              ...(until ? { provision: { period: { start: new Date().toISOString(), end: new Date(`${until}T23:59:59`).toISOString() } } } : {}),
            },
          });
          onDone();
        } catch (e) {
          setError(e);
        } finally {
          setBusy(false);
        }
      }}
    >
      <p>{t('consent.explain')}</p>
      {error ? <ErrorNotice error={error} /> : null}
      <Field label={t('consent.until')} hint={t('consent.untilHint')}>
        {(p) => <Input {...p} type="date" value={until} min={new Date().toISOString().slice(0, 10)} onChange={(e) => setUntil(e.target.value)} />}
      </Field>
    </ConfirmDialog>
  );
}

function BreakGlass({ patientId, onOpened }: { patientId: string; onOpened: () => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [justification, setJustification] = useState('');
  const [certify, setCertify] = useState(false);
  const [problems, setProblems] = useState<{ justification?: string; certify?: string }>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p: typeof problems = {};
    if (justification.trim().length < 10) p.justification = t('emergency.needJustification');
    if (!certify) p.certify = t('emergency.needCertify');
    setProblems(p);
    if (p.justification || p.certify) return;
    setBusy(true);
    setError(undefined);
    try {
      setEmergency(patientId, await openEmergency(patientId, justification.trim()));
      onOpened();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card card-breakglass" aria-labelledby="h-bg">
      <h2 id="h-bg" className="card-title"><Icon name="siren" size={22} /> {t('emergency.title')}</h2>
      {!open ? (
        <>
          <p className="explain">{t('emergency.short')}</p>
          <Button variant="danger-soft" className="btn-block" onClick={() => setOpen(true)} aria-expanded={false}>{t('emergency.start')}</Button>
        </>
      ) : (
        <form onSubmit={submit} className="form" noValidate>
          <Notice tone="danger" title={t('emergency.warningTitle')}>
            <ul className="plain-list">
              <li>{t('emergency.w1')}</li>
              <li>{t('emergency.w2')}</li>
              <li>{t('emergency.w3')}</li>
              <li>{t('emergency.w4')}</li>
            </ul>
          </Notice>
          {error ? <ErrorNotice error={error} /> : null}
          <Field label={t('emergency.justification')} hint={t('emergency.justificationHint')} error={problems.justification}>
            {(p) => <Textarea {...p} rows={4} value={justification} onChange={(e) => setJustification(e.target.value)} maxLength={1000} required />}
          </Field>
          <div className={`check ${problems.certify ? 'field-error' : ''}`}>
            <input id="bg-certify" type="checkbox" checked={certify} onChange={(e) => setCertify(e.target.checked)} aria-describedby={problems.certify ? 'bg-certify-err' : undefined} aria-invalid={problems.certify ? true : undefined} />
            <label htmlFor="bg-certify">{t('emergency.certify')}</label>
          </div>
          {problems.certify ? <p className="error-text" id="bg-certify-err"><Icon name="alert" size={16} /> {problems.certify}</p> : null}
          <div className="form-actions">
            <Button variant="ghost" onClick={() => setOpen(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="danger" icon="siren" busy={busy}>{t('emergency.confirm')}</Button>
          </div>
        </form>
      )}
    </section>
  );
}
