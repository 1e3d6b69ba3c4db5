/** Emergency sessions (DOMAIN §5.8 bris de glace, §5.9 centre 15): are they usable now? */
import { invalid } from '../errors.ts';
import { parseInstant } from './time.ts';
import type { EmergencySession } from './types.ts';

export const DEFAULT_EMERGENCY_WINDOW_HOURS = 24;

/** End of the emergency window opened at `startedAt` (Carnet's window is configurable; MHR: 5 days). */
export function emergencyWindowEnd(startedAt: Date, hours: number = DEFAULT_EMERGENCY_WINDOW_HOURS): Date {
  if (!Number.isFinite(hours) || hours <= 0) {
    throw invalid('EMERGENCY_WINDOW_INVALID', 'The emergency window must be a positive number of hours', {
      details: { hours },
    });
  }
  if (Number.isNaN(startedAt.getTime())) {
    throw invalid('EMERGENCY_START_INVALID', 'The emergency start is not a valid date');
  }
  return new Date(startedAt.getTime() + hours * 3_600_000);
}

export type EmergencySessionState =
  | { ok: true; startedAt: Date; endsAt: Date }
  | { ok: false; problem: 'none' | 'no_justification'; endsAt?: undefined }
  | { ok: false; problem: 'expired'; endsAt: Date };

/**
 * A session is usable when it is of the requested mode, its dates parse, it has started, and now is
 * before both its own `expiresAt` and the policy window; break-glass also needs a non-blank
 * justification. Centre 15 needs none (the regulation call is the reason).
 */
export function emergencySessionState(
  session: EmergencySession | undefined,
  mode: 'bris_de_glace' | 'centre_15',
  now: Date,
  windowHours: number = DEFAULT_EMERGENCY_WINDOW_HOURS,
): EmergencySessionState {
  if (session === undefined || session.mode !== mode) return { ok: false, problem: 'none' };
  const startedAt = parseInstant(session.startedAt);
  const expiresAt = parseInstant(session.expiresAt);
  if (startedAt === undefined || expiresAt === undefined) return { ok: false, problem: 'none' };
  if (now.getTime() < startedAt.getTime()) return { ok: false, problem: 'none' };
  if (mode === 'bris_de_glace' && (typeof session.justification !== 'string' || session.justification.trim() === '')) {
    return { ok: false, problem: 'no_justification' };
  }
  const windowEnd = emergencyWindowEnd(startedAt, windowHours);
  const endsAt = expiresAt.getTime() < windowEnd.getTime() ? expiresAt : windowEnd;
  if (now.getTime() >= endsAt.getTime()) return { ok: false, problem: 'expired', endsAt };
  return { ok: true, startedAt, endsAt };
}
