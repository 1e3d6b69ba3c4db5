/**
 * French by default, English on demand: one dictionary (messages.ts), a context, and the dates and
 * sizes formatted for the chosen language. The choice is remembered on this device.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { messages, type MessageKey } from './messages.ts';

export type Lang = 'fr' | 'en';
const STORAGE = 'carnet.lang';

export type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: T;
  /** Picks the right half of a `{ fr, en }` pair the API sent. */
  pick: (pair: { fr: string; en: string } | undefined) => string;
  date: (iso: string | undefined, opts?: { time?: boolean; long?: boolean }) => string;
  time: (iso: string) => string;
  size: (bytes: number) => string;
}

const Ctx = createContext<I18n | null>(null);

export function interpolate(s: string, vars?: Record<string, string | number>) {
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE);
    if (saved === 'fr' || saved === 'en') return saved;
  } catch {
    /* storage off */
  }
  return 'fr';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE, l);
    } catch {
      /* storage off */
    }
  }, []);
  const value = useMemo<I18n>(() => {
    const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
    const dict = messages[lang];
    return {
      lang,
      setLang,
      t: (key, vars) => interpolate(dict[key] ?? messages.fr[key] ?? key, vars),
      pick: (pair) => (pair ? pair[lang] : ''),
      date: (iso, opts = {}) => {
        if (!iso) return '';
        const d = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
        if (Number.isNaN(d.getTime())) return iso;
        return d.toLocaleString(locale, {
          day: 'numeric', month: opts.long ? 'long' : 'short', year: 'numeric',
          ...(opts.time ? { hour: '2-digit', minute: '2-digit' } : {}),
          timeZone: 'Europe/Paris',
        });
      },
      time: (iso) => new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' }),
      size: (bytes) => {
        const unit = lang === 'fr' ? ['o', 'Ko', 'Mo'] : ['B', 'KB', 'MB'];
        if (bytes < 1024) return `${bytes} ${unit[0]}`;
        if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} ${unit[1]}`;
        return `${(bytes / 1024 / 1024).toLocaleString(locale, { maximumFractionDigits: 1 })} ${unit[2]}`;
      },
    };
  }, [lang, setLang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
