/**
 * Lockout with back-off (pure rules). Five consecutive failed attempts (a wrong password or a wrong
 * second-factor code, counted together) lock the account; the lock lasts 15 minutes the first time
 * and doubles at each new lock (15 min, 30 min, 1 h, 2 h … at most 24 h). While locked, every login
 * attempt is refused without the password being checked, the right password included. A successful
 * login resets both the failure count and the back-off; a password reset clears the failure count
 * and the current lock, not the back-off.
 */
export const LOCKOUT = {
  maxFailures: 5,
  firstLockMs: 15 * 60_000,
  maxLockMs: 24 * 3_600_000,
} as const;

/** How long the `(lockCount + 1)`-th lock lasts (`lockCount` = locks already suffered). */
export function lockDurationMs(lockCount: number): number {
  const n = Math.max(0, Math.min(lockCount, 20));
  return Math.min(LOCKOUT.firstLockMs * 2 ** n, LOCKOUT.maxLockMs);
}

export interface LockState {
  failedCount: number;
  lockCount: number;
  lockedUntil: string | null;
}

export const isLocked = (s: Pick<LockState, 'lockedUntil'>, now: Date) => s.lockedUntil !== null && now.toISOString() < s.lockedUntil;

/** The state after one more failure: either a higher count, or a new lock (count back to 0). */
export function afterFailure(s: LockState, now: Date): LockState & { lockedNow: boolean } {
  const failed = s.failedCount + 1;
  if (failed < LOCKOUT.maxFailures) return { ...s, failedCount: failed, lockedNow: false };
  return {
    failedCount: 0,
    lockCount: s.lockCount + 1,
    lockedUntil: new Date(now.getTime() + lockDurationMs(s.lockCount)).toISOString(),
    lockedNow: true,
  };
}
