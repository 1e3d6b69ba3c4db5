/** The small set of building blocks every screen uses. */
import {
  useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type ComponentProps, type ReactNode,
} from 'react';
import { Icon, type IconName } from './Icon.tsx';
import { useI18n } from '../lib/i18n.tsx';
import { ApiError } from '../lib/api.ts';
import type { MessageKey } from '../lib/messages.ts';

type Variant = 'primary' | 'secondary' | 'ghost' | 'ghost-light' | 'danger' | 'danger-soft';

export function Button({
  variant = 'primary', icon, busy, children, className, ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; icon?: IconName; busy?: boolean }) {
  return (
    <button type="button" className={`btn btn-${variant} ${className ?? ''}`} aria-busy={busy || undefined} disabled={busy || rest.disabled} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : icon ? <Icon name={icon} size={18} /> : null}
      <span>{children}</span>
    </button>
  );
}

export function Field({
  label, hint, error, children, id,
}: { label: ReactNode; hint?: ReactNode; error?: string; children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode; id?: string }) {
  const auto = useId();
  const fid = id ?? auto;
  const hintId = hint ? `${fid}-hint` : undefined;
  const errId = error ? `${fid}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${error ? 'field-error' : ''}`}>
      <label htmlFor={fid}>{label}</label>
      {hint ? <p className="hint" id={hintId}>{hint}</p> : null}
      {children({ id: fid, 'aria-describedby': describedBy, ...(error ? { 'aria-invalid': true } : {}) })}
      {error ? <p className="error-text" id={errId}><Icon name="alert" size={16} /> {error}</p> : null}
    </div>
  );
}

export const Input = (p: ComponentProps<'input'>) => <input className="input" {...p} />;
export const Select = (p: ComponentProps<'select'>) => <select className="input select" {...p} />;
export const Textarea = (p: ComponentProps<'textarea'>) => <textarea className="input textarea" {...p} />;

/** A labelled on/off switch with its plain-words explanation. */
export function Switch({
  checked, onChange, label, description, busy, disabled, tone,
}: { checked: boolean; onChange: (next: boolean) => void; label: ReactNode; description?: ReactNode; busy?: boolean; disabled?: boolean; tone?: 'danger' }) {
  const id = useId();
  const { t } = useI18n();
  return (
    <div className={`switch-row ${tone === 'danger' ? 'switch-danger' : ''}`}>
      <div className="switch-text">
        <span className="switch-label" id={`${id}-l`}>{label}</span>
        {description ? <p className="switch-desc" id={`${id}-d`}>{description}</p> : null}
      </div>
      <button
        type="button"
        role="switch"
        className="switch"
        aria-checked={checked}
        aria-labelledby={`${id}-l`}
        aria-describedby={description ? `${id}-d` : undefined}
        disabled={busy || disabled}
        aria-busy={busy || undefined}
        onClick={() => onChange(!checked)}
      >
        <span className="switch-track" aria-hidden="true"><span className="switch-thumb" /></span>
        <span className="switch-state">{checked ? t('common.on') : t('common.off')}</span>
      </button>
    </div>
  );
}

export function Badge({ tone = 'neutral', icon, children }: { tone?: 'neutral' | 'teal' | 'amber' | 'violet' | 'red' | 'green'; icon?: IconName; children: ReactNode }) {
  return (
    <span className={`badge badge-${tone}`}>
      {icon ? <Icon name={icon} size={14} /> : null}
      {children}
    </span>
  );
}

export function Notice({ tone = 'info', title, children, icon, role }: { tone?: 'info' | 'warn' | 'danger' | 'success'; title?: ReactNode; children?: ReactNode; icon?: IconName; role?: 'alert' | 'status' }) {
  const ic: IconName = icon ?? (tone === 'danger' ? 'siren' : tone === 'warn' ? 'alert' : tone === 'success' ? 'check' : 'info');
  return (
    <div className={`notice notice-${tone}`} role={role}>
      <Icon name={ic} size={22} />
      <div>
        {title ? <p className="notice-title">{title}</p> : null}
        {children}
      </div>
    </div>
  );
}

export function Spinner({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="loading" role="status">
      <span className="spinner spinner-lg" aria-hidden="true" />
      <span>{label ?? t('common.loading')}</span>
    </div>
  );
}

/** An API error in plain words: the code's message when we have one, else the server's. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  const { t } = useI18n();
  return (
    <Notice tone="danger" icon="alert" role="alert" title={title ?? t('error.title')}>
      <p>{errorText(error, t)}</p>
    </Notice>
  );
}

export function errorText(error: unknown, t: ReturnType<typeof useI18n>['t']): string {
  if (error instanceof ApiError) {
    const key = `errors.${error.code}` as MessageKey;
    const known = t(key);
    if (known !== key) return known;
    if (error.status === 401) return t('errors.HTTP_401');
    if (error.status >= 500) return t('errors.HTTP_500');
    return error.message;
  }
  if (error instanceof TypeError) return t('errors.NETWORK');
  return error instanceof Error ? error.message : String(error);
}

/**
 * A confirmation as a modal <dialog>: focus moves in, Escape cancels, focus returns to what opened it.
 * Each change of rights is one click on the control, then this confirmation.
 */
export function ConfirmDialog({
  open, title, children, confirmLabel, onConfirm, onCancel, tone = 'primary', busy,
}: { open: boolean; title: ReactNode; children?: ReactNode; confirmLabel: ReactNode; onConfirm: () => void; onCancel: () => void; tone?: 'primary' | 'danger'; busy?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useI18n();
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id={titleId} className="dialog-title">{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        <Button variant="ghost" onClick={onCancel}>{t('common.cancel')}</Button>
        <Button variant={tone === 'danger' ? 'danger' : 'primary'} onClick={onConfirm} busy={busy} autoFocus>{confirmLabel}</Button>
      </div>
    </dialog>
  );
}

/** Loads data, with its error and a reload. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: unknown; loading: boolean; reload: () => void; setData: (d: T) => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1), setData: (data: T) => setState({ data, loading: false }) };
}

/** A polite live region for "saved", "masked", … (screen readers hear it, everybody sees it). */
export function useAnnounce(): [ReactNode, (msg: string) => void] {
  const [msg, setMsg] = useState('');
  useEffect(() => {
    if (!msg) return;
    const h = setTimeout(() => setMsg(''), 6000);
    return () => clearTimeout(h);
  }, [msg]);
  const node = (
    <div className={`toast ${msg ? 'toast-on' : ''}`} role="status" aria-live="polite">
      {msg ? <><Icon name="check" size={18} /> <span>{msg}</span></> : null}
    </div>
  );
  return [node, setMsg];
}

export function PageHeader({ title, intro, actions, back }: { title: ReactNode; intro?: ReactNode; actions?: ReactNode; back?: ReactNode }) {
  return (
    <header className="page-header">
      {back}
      <div className="page-header-row">
        <div>
          <h1 tabIndex={-1} className="page-title">{title}</h1>
          {intro ? <p className="page-intro">{intro}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
    </header>
  );
}

export function LangSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t('lang.label')}>
      <button type="button" aria-pressed={lang === 'fr'} onClick={() => setLang('fr')} lang="fr">FR<span className="sr-only"> — Français</span></button>
      <button type="button" aria-pressed={lang === 'en'} onClick={() => setLang('en')} lang="en">EN<span className="sr-only"> — English</span></button>
    </div>
  );
}
