/** Small date helpers shared by the access rules. Pure; all calendar arithmetic is in UTC. */

/** Parses an ISO 8601 instant; undefined when absent or unparsable (callers decide what that means). */
export function parseInstant(iso: string | undefined): Date | undefined {
  if (iso === undefined || iso === '') return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Adds calendar months, clamping to the last day of the target month (31 Jan + 1 month = 28/29 Feb). */
export function addMonthsUTC(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  const day = r.getUTCDate();
  r.setUTCDate(1);
  r.setUTCMonth(r.getUTCMonth() + months);
  const last = new Date(Date.UTC(r.getUTCFullYear(), r.getUTCMonth() + 1, 0)).getUTCDate();
  r.setUTCDate(Math.min(day, last));
  return r;
}

export const addDays = (d: Date, days: number): Date => new Date(d.getTime() + days * 86_400_000);

const FR = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' });
const EN = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' });

/** "3 mars 2025" / "3 March 2025" (Paris time); a placeholder when the date is unknown. */
export function formatDate(d: Date | string | undefined, lang: 'fr' | 'en'): string {
  const date = typeof d === 'string' ? parseInstant(d) : d;
  if (date === undefined) return lang === 'fr' ? 'une date inconnue' : 'an unknown date';
  return (lang === 'fr' ? FR : EN).format(date);
}
