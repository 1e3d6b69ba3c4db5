/**
 * Visibility flags (DOMAIN §5.6, §5.7): which combinations are allowed, and where an
 * `INVISIBLE_PATIENT` document stands on its clock.
 */
import type { VisibilityFlag } from '../document.ts';
import { invalid } from '../errors.ts';
import { addDays, addMonthsUTC, parseInstant } from './time.ts';
import type { DocumentView } from './types.ts';

/** After this many days without announcement the holder is told a result is waiting (R1111-53). */
export const INVISIBLE_NOTICE_DAYS = 14;
/** After this many calendar months the document becomes visible by itself. */
export const INVISIBLE_AUTO_VISIBLE_MONTHS = 1;

/**
 * Refuses MASQUE_PS together with INVISIBLE_PATIENT (DOMAIN §5.7: a document hidden from the
 * patient cannot at the same time be masked by the patient). Returns the flags without duplicates.
 */
export function validateVisibilityFlags(flags: readonly VisibilityFlag[]): VisibilityFlag[] {
  const set = [...new Set(flags)];
  if (set.includes('MASQUE_PS') && set.includes('INVISIBLE_PATIENT')) {
    throw invalid('FLAGS_NOT_COMBINABLE', 'MASQUE_PS cannot be combined with INVISIBLE_PATIENT', {
      details: { flags: set },
      expression: ['DocumentReference.securityLabel'],
    });
  }
  return set;
}

export type InvisibleStage = 'none' | 'pending' | 'notice_due' | 'visible';

type InvisibleView = Pick<DocumentView, 'flags' | 'invisibleSince' | 'announcedAt' | 'submittedAt'>;

/**
 * When the hiding started: `invisibleSince`, else the submission time (the flag came with the
 * document). Undefined when neither parses: the document then stays hidden (conservative).
 */
export function invisibleStart(document: InvisibleView): Date | undefined {
  return parseInstant(document.invisibleSince) ?? parseInstant(document.submittedAt);
}

/** The instant an unannounced INVISIBLE_PATIENT document becomes visible by itself. */
export function invisibleAutoVisibleAt(document: InvisibleView): Date | undefined {
  const start = invisibleStart(document);
  return start && addMonthsUTC(start, INVISIBLE_AUTO_VISIBLE_MONTHS);
}

/**
 * - `none`: the document is not flagged INVISIBLE_PATIENT;
 * - `pending`: hidden from the holder, less than 2 weeks old;
 * - `notice_due`: still hidden, 2 weeks passed without announcement: notify the holder;
 * - `visible`: announced (announcedAt ≤ now), or 1 calendar month passed.
 */
export function invisibleStage(document: InvisibleView, now: Date): InvisibleStage {
  if (!document.flags.includes('INVISIBLE_PATIENT')) return 'none';
  const announced = parseInstant(document.announcedAt);
  if (announced !== undefined && announced.getTime() <= now.getTime()) return 'visible';
  const start = invisibleStart(document);
  if (start === undefined) return 'pending';
  if (now.getTime() >= addMonthsUTC(start, INVISIBLE_AUTO_VISIBLE_MONTHS).getTime()) return 'visible';
  if (now.getTime() >= addDays(start, INVISIBLE_NOTICE_DAYS).getTime()) return 'notice_due';
  return 'pending';
}

/** True when the document is still hidden from the holder's side (holder, representatives, apps …). */
export const hiddenFromPatient = (document: InvisibleView, now: Date): boolean => {
  const s = invisibleStage(document, now);
  return s === 'pending' || s === 'notice_due';
};
