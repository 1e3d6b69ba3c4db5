/** Adding a document (PDF or CDA R2) with its metadata, sent as an ITI-65 transaction to /fhir. */
import { useState, type FormEvent } from 'react';
import { api, toBase64 } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import { useMe } from '../lib/me.ts';
import { Button, ErrorNotice, Field, Input, Notice, Select } from '../components/ui.tsx';
import { provideBundle, sha1Base64, UPLOAD_TYPES, type Author } from './iti65.ts';
import type { MessageKey } from '../lib/messages.ts';

interface CdaPrefill {
  uniqueId: string;
  type: { code: string; display?: string; system?: string };
  category: { code: string; display?: string; system?: string };
  title?: string;
  creationTime: string;
  authors: Author[];
  format?: { code: string; system?: string; display?: string };
  mimeType: string;
  patient?: { ins: string };
}

export function UploadDocument({ patientId, patientIns, token, onClose, onDone }: { patientId: string; patientIns?: string; token?: string; onClose: () => void; onDone: (title: string) => void }) {
  const { t } = useI18n();
  const me = useMe();
  const [file, setFile] = useState<File>();
  const [cda, setCda] = useState<CdaPrefill>();
  const [title, setTitle] = useState('');
  const [typeCode, setTypeCode] = useState(UPLOAD_TYPES[0].code);
  const [date, setDate] = useState(new Date().toISOString().slice(0, 10));
  const [invisible, setInvisible] = useState(false);
  const [busy, setBusy] = useState(false);
  const [reading, setReading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [problems, setProblems] = useState<{ file?: string; title?: string }>({});

  const pickFile = async (f: File | undefined) => {
    setFile(f);
    setCda(undefined);
    setError(undefined);
    if (!f) return;
    const isXml = /xml/.test(f.type) || f.name.toLowerCase().endsWith('.xml');
    if (!isXml) {
      if (!title) setTitle(f.name.replace(/\.[^.]+$/, '').replace(/[_-]+/g, ' '));
      return;
    }
    setReading(true);
    try {
      const pre = await api<CdaPrefill>('/api/pro/cda-metadata', { body: { contentBase64: toBase64(await f.arrayBuffer()) }, token });
      setCda(pre);
      setTitle(pre.title ?? pre.type.display ?? '');
      setDate(pre.creationTime.slice(0, 10));
    } catch (e) {
      setError(e);
    } finally {
      setReading(false);
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p: typeof problems = {};
    if (!file) p.file = t('upload.needFile');
    if (!title.trim()) p.title = t('add.needTitle');
    setProblems(p);
    if (!file || p.title) return;
    setBusy(true);
    setError(undefined);
    try {
      const buf = await file.arrayBuffer();
      const chosen = UPLOAD_TYPES.find((u) => u.code === typeCode)!;
      const self: Author = {
        rpps: me?.rpps, professionCode: me?.profession?.code,
        ...(me?.name ? { family: me.name.split(' ').slice(-1)[0], given: me.name.split(' ').slice(0, -1).join(' ') || undefined } : {}),
        ...(me?.organisation ? { organisation: { finess: me.organisation.finess, name: me.organisation.name } } : {}),
      };
      const bundle = provideBundle({
        patientId,
        title: title.trim(),
        type: cda?.type ?? { code: chosen.code, display: t(`loinc.${chosen.code}` as MessageKey), system: 'http://loinc.org' },
        category: cda?.category ?? { code: chosen.classCode, display: chosen.classDisplay },
        creationTime: cda?.creationTime ?? new Date(`${date}T12:00:00`).toISOString(),
        mimeType: cda ? 'text/xml' : 'application/pdf',
        contentBase64: toBase64(buf),
        size: buf.byteLength,
        sha1Base64: await sha1Base64(buf),
        uniqueId: cda?.uniqueId,
        authors: cda?.authors.length ? cda.authors : [self],
        invisibleToPatient: invisible,
        format: cda?.format,
      });
      await api('/fhir', { body: bundle, contentType: 'application/fhir+json', token });
      onDone(title.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const wrongPatient = cda?.patient && patientIns && cda.patient.ins !== patientIns;
  return (
    <section className="card card-form" aria-labelledby="h-upload">
      <h2 id="h-upload" className="card-title">{t('upload.title')}</h2>
      <p className="explain">{t('upload.intro')}</p>
      {error ? <ErrorNotice error={error} /> : null}
      <form className="form form-grid" onSubmit={submit} noValidate>
        <Field label={t('upload.file')} hint={t('upload.fileHint')} error={problems.file}>
          {(p) => <Input {...p} type="file" accept="application/pdf,.pdf,text/xml,application/xml,.xml" onChange={(e) => pickFile(e.target.files?.[0])} />}
        </Field>
        {reading ? <p className="muted" role="status">{t('upload.reading')}</p> : null}
        {cda ? (
          <Notice tone={wrongPatient ? 'danger' : 'success'} title={t(wrongPatient ? 'upload.cdaOtherPatient' : 'upload.cdaRead')}>
            <p>{t('upload.cdaReadBody', { type: cda.type.display ?? cda.type.code })}</p>
          </Notice>
        ) : null}
        <Field label={t('add.docTitle')} error={problems.title}>
          {(p) => <Input {...p} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />}
        </Field>
        {!cda ? (
          <>
            <Field label={t('upload.type')}>
              {(p) => <Select {...p} value={typeCode} onChange={(e) => setTypeCode(e.target.value)}>{UPLOAD_TYPES.map((u) => <option key={u.code} value={u.code}>{t(`loinc.${u.code}` as MessageKey)}</option>)}</Select>}
            </Field>
            <Field label={t('add.date')}>
              {(p) => <Input {...p} type="date" value={date} onChange={(e) => setDate(e.target.value)} />}
            </Field>
          </>
        ) : null}
        <div className="check">
          <input id="up-invisible" type="checkbox" checked={invisible} onChange={(e) => setInvisible(e.target.checked)} aria-describedby="up-invisible-hint" />
          <label htmlFor="up-invisible">{t('upload.invisible')}</label>
        </div>
        <p className="hint" id="up-invisible-hint">{t('upload.invisibleHint')}</p>
        <div className="form-actions">
          <Button variant="ghost" onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" icon="upload" busy={busy} disabled={!!wrongPatient}>{t('upload.submit')}</Button>
        </div>
      </form>
    </section>
  );
}
