/**
 * Shows one document as a person reads it: a CDA R2 laid out as a document (title, author, date,
 * sections with their text and tables — the server renders the XML into plain blocks, the browser
 * never sees raw XML); a level-1 CDA or a PDF inline; an image; and always the original to download.
 */
import { Fragment, useEffect, useState, type ReactNode } from 'react';
import { api, fetchBlob, saveBlob } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.tsx';
import type { Block, DocumentView, RenderedCda, Section } from '../lib/types.ts';
import { Button, ErrorNotice, Notice, Spinner } from './ui.tsx';

const EXT: Record<string, string> = { 'application/pdf': 'pdf', 'text/xml': 'xml', 'application/xml': 'xml', 'image/png': 'png', 'image/jpeg': 'jpg', 'text/plain': 'txt' };

export function fileNameOf(title: string, mime: string) {
  const base = title.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'document';
  return `${base}.${EXT[mime.split(';')[0]] ?? 'bin'}`;
}

function base64ToBlob(b64: string, type: string): Blob {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type });
}

function useObjectUrl(blob: Blob | undefined) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!blob) return;
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url;
}

export function useDocumentView(id: string, token?: string | null) {
  const [state, setState] = useState<{ view?: DocumentView; error?: unknown }>({});
  useEffect(() => {
    let live = true;
    setState({});
    api<DocumentView>(`/api/documents/${encodeURIComponent(id)}/view`, { token }).then(
      (view) => live && setState({ view }),
      (error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [id, token]);
  return state;
}

export function DownloadOriginal({ id, title, mimeType, token, size }: { id: string; title: string; mimeType: string; token?: string | null; size?: string }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <>
      <Button
        variant="secondary"
        icon="download"
        busy={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            saveBlob(await fetchBlob(`/fhir/Binary/${encodeURIComponent(id)}`, { token }), fileNameOf(title, mimeType));
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {t('viewer.download')}{size ? <span className="btn-note"> · {size}</span> : null}
      </Button>
      {error ? <ErrorNotice error={error} /> : null}
    </>
  );
}

function Inline({ blob, title }: { blob: Blob; title: string }) {
  const url = useObjectUrl(blob);
  const { t } = useI18n();
  if (!url) return null;
  if (blob.type.startsWith('image/')) return <img className="doc-image" src={url} alt={title} />;
  return (
    <div className="pdf">
      <div className="pdf-frame">
        <iframe src={url} title={t('viewer.pdfFrame', { title })} />
      </div>
      <p className="pdf-open">
        <a href={url} target="_blank" rel="noopener" className="btn btn-secondary btn-small">{t('viewer.openPdf')}</a>
        <span className="muted small">{t('viewer.openPdfHint')}</span>
      </p>
    </div>
  );
}

function BytesOf({ id, token, title }: { id: string; token?: string | null; title: string }) {
  const [state, setState] = useState<{ blob?: Blob; error?: unknown }>({});
  useEffect(() => {
    let live = true;
    fetchBlob(`/fhir/Binary/${encodeURIComponent(id)}`, { token }).then((blob) => live && setState({ blob }), (error) => live && setState({ error }));
    return () => {
      live = false;
    };
  }, [id, token]);
  if (state.error) return <ErrorNotice error={state.error} />;
  if (!state.blob) return <Spinner />;
  if (state.blob.type.startsWith('text/plain')) return <TextBlob blob={state.blob} />;
  return <Inline blob={state.blob} title={title} />;
}

function TextBlob({ blob }: { blob: Blob }) {
  const [text, setText] = useState('');
  useEffect(() => {
    blob.text().then(setText);
  }, [blob]);
  return <pre className="doc-text">{text}</pre>;
}

function BlockView({ block, depth }: { block: Block; depth: number }): ReactNode {
  switch (block.kind) {
    case 'paragraph':
      return <p className="cda-p">{lines(block.text)}</p>;
    case 'list': {
      const items = block.items.map((item, i) => (
        <li key={i}>{item.map((b, j) => <BlockView key={j} block={b} depth={depth} />)}</li>
      ));
      return block.ordered ? <ol className="cda-list">{items}</ol> : <ul className="cda-list">{items}</ul>;
    }
    case 'table':
      return (
        <div className="table-scroll" tabIndex={0} role="region" aria-label={block.caption ?? undefined}>
          <table className="cda-table">
            {block.caption ? <caption>{block.caption}</caption> : null}
            {block.head.length ? (
              <thead>
                {block.head.map((r, i) => <tr key={i}>{r.map((c, j) => <th key={j} scope="col">{lines(c)}</th>)}</tr>)}
              </thead>
            ) : null}
            <tbody>
              {block.body.map((r, i) => (
                <tr key={i}>{r.map((c, j) => (j === 0 && block.head.length ? <th key={j} scope="row">{lines(c)}</th> : <td key={j}>{lines(c)}</td>))}</tr>
              ))}
            </tbody>
            {block.foot.length ? <tfoot>{block.foot.map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{lines(c)}</td>)}</tr>)}</tfoot> : null}
          </table>
        </div>
      );
    case 'section':
      return <SectionView section={block.section} depth={depth + 1} />;
  }
}

function lines(text: string): ReactNode {
  const parts = text.split('\n');
  return parts.map((p, i) => <Fragment key={i}>{i > 0 ? <br /> : null}{p}</Fragment>);
}

function SectionView({ section, depth }: { section: Section; depth: number }) {
  const H = (depth <= 0 ? 'h2' : depth === 1 ? 'h3' : 'h4') as 'h2' | 'h3' | 'h4';
  const title = section.title || (depth > 0 ? undefined : section.code?.display);
  if (!section.blocks.length && !title) return null;
  return (
    <section className={`cda-section cda-depth-${Math.min(depth, 2)}`}>
      {title ? <H className="cda-h">{title}</H> : null}
      {section.blocks.map((b, i) => <BlockView key={i} block={b} depth={depth} />)}
    </section>
  );
}

function CdaDocument({ rendered, fallbackTitle }: { rendered: RenderedCda; fallbackTitle: string }) {
  const { t, date } = useI18n();
  const embedded = rendered.embedded;
  const blob = embedded ? base64ToBlob(embedded.base64, embedded.mediaType) : undefined;
  const sections = (rendered.sections ?? []).filter((s) => s.blocks.length);
  return (
    <article className="paper" aria-label={rendered.title ?? fallbackTitle}>
      <header className="paper-head">
        {rendered.typeDisplay ? <p className="paper-kicker">{rendered.typeDisplay}</p> : null}
        <h2 className="paper-title">{rendered.title ?? fallbackTitle}</h2>
        <dl className="paper-meta">
          {rendered.author ? <div><dt>{t('viewer.author')}</dt><dd>{rendered.author}</dd></div> : null}
          {rendered.authorOrganisation ? <div><dt>{t('viewer.organisation')}</dt><dd>{rendered.authorOrganisation}</dd></div> : null}
          {rendered.date ? <div><dt>{t('viewer.date')}</dt><dd>{date(rendered.date, { time: rendered.date.length > 10, long: true })}</dd></div> : null}
          {rendered.patient ? <div><dt>{t('viewer.patient')}</dt><dd>{rendered.patient}</dd></div> : null}
        </dl>
      </header>
      {blob ? <Inline blob={blob} title={rendered.title ?? fallbackTitle} /> : null}
      {rendered.unavailable ? <Notice tone="info">{t(rendered.unavailable === 'no_body' ? 'viewer.noBody' : 'viewer.externalReference')}</Notice> : null}
      {!blob && !rendered.unavailable && !sections.length ? <Notice tone="info">{t('viewer.emptyBody')}</Notice> : null}
      {sections.map((s, i) => <SectionView key={i} section={s} depth={0} />)}
    </article>
  );
}

/** The body of the viewer (header and actions are the page's). */
export function DocumentBody({ view, token }: { view: DocumentView; token?: string | null }) {
  const { t } = useI18n();
  const d = view.document;
  if (view.kind === 'cda') return <CdaDocument rendered={view.rendered} fallbackTitle={d.title} />;
  if (view.kind === 'pdf' || view.kind === 'image' || view.kind === 'text') return <BytesOf id={d.id} token={token} title={d.title} />;
  return <Notice tone="info">{t('viewer.noPreview')}</Notice>;
}
