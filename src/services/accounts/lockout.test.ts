import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailure, isLocked, lockDurationMs, LOCKOUT, type LockState } from './lockout.ts';

const now = new Date('2026-03-01T10:00:00Z');

test('the fifth consecutive failure locks, for 15 minutes the first time', () => {
  let s: LockState = { failedCount: 0, lockCount: 0, lockedUntil: null };
  for (let i = 1; i < LOCKOUT.maxFailures; i++) {
    const n = afterFailure(s, now);
    assert.equal(n.lockedNow, false);
    assert.equal(n.failedCount, i);
    s = n;
  }
  const locked = afterFailure(s, now);
  assert.equal(locked.lockedNow, true);
  assert.equal(locked.failedCount, 0);
  assert.equal(locked.lockCount, 1);
  assert.equal(locked.lockedUntil, '2026-03-01T10:15:00.000Z');
  assert.equal(isLocked(locked, now), true);
  assert.equal(isLocked(locked, new Date('2026-03-01T10:15:00Z')), false);
});

test('each new lock lasts twice as long, capped at 24 hours', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => lockDurationMs(n) / 60_000), [15, 30, 60, 120]);
  assert.equal(lockDurationMs(7), LOCKOUT.maxLockMs);
  assert.equal(lockDurationMs(50), LOCKOUT.maxLockMs);
  const second = afterFailure({ failedCount: 4, lockCount: 1, lockedUntil: null }, now);
  assert.equal(second.lockedUntil, '2026-03-01T10:30:00.000Z');
});
