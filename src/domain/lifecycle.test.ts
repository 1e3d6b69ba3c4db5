import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIFECYCLE_EVENTS,
  RECORD_STATES,
  acceptsDocuments,
  applyEvent,
  dueEvent,
  isFinal,
  isReadable,
  nextDueAt,
  openRecord,
  type Lifecycle,
  type LifecycleEvent,
  type LifecycleEventType,
} from './lifecycle.ts';
import { CarnetError } from './errors.ts';
import type { RecordState } from './access/types.ts';

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date('2026-01-05T09:30:00.000Z');
const at = (base: Date | string, days: number, extraMs = 0) => new Date(new Date(base).getTime() + days * DAY + extraMs);
const ev = (type: LifecycleEventType) => ({ type }) as LifecycleEvent;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function illegalError(fn: () => unknown): CarnetError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CarnetError) {
      assert.equal(e.code, 'LIFECYCLE_ILLEGAL_TRANSITION');
      assert.equal(e.kind, 'conflict');
      return e;
    }
    throw e;
  }
  throw new Error('expected LIFECYCLE_ILLEGAL_TRANSITION');
}

/** A lifecycle in each state, reached through legal events only, "fresh" (no deadline reached). */
function inState(state: RecordState): { lc: Lifecycle; now: Date } {
  const pending = openRecord(T0);
  const activeAt = at(T0, 1);
  const active = applyEvent(pending, ev('activate'), activeAt);
  switch (state) {
    case 'pending':
      return { lc: pending, now: at(T0, 1) };
    case 'active':
      return { lc: active, now: at(T0, 2) };
    case 'opposed':
      return { lc: applyEvent(pending, ev('oppose'), at(T0, 3)), now: at(T0, 4) };
    case 'closed':
      return { lc: applyEvent(active, ev('close'), at(T0, 10)), now: at(T0, 11) };
    case 'suspended':
      return { lc: applyEvent(active, ev('suspend'), at(T0, 10)), now: at(T0, 11) };
    case 'deleted': {
      const opposed = applyEvent(pending, ev('oppose'), at(T0, 3));
      return { lc: applyEvent(opposed, ev('delete'), at(T0, 5)), now: at(T0, 6) };
    }
  }
}

describe('openRecord and the opposition window', () => {
  test('opens pending with a 42-day window', () => {
    const lc = openRecord(T0);
    assert.equal(lc.state, 'pending');
    assert.equal(lc.createdAt, T0.toISOString());
    assert.equal(Date.parse(lc.pendingUntil!) - T0.getTime(), 42 * DAY);
    assert.equal(nextDueAt(lc), lc.pendingUntil);
  });

  test('custom window, and invalid ones refused', () => {
    const lc = openRecord(T0, { windowDays: 14 });
    assert.equal(Date.parse(lc.pendingUntil!) - T0.getTime(), 14 * DAY);
    for (const w of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => openRecord(T0, { windowDays: w }), (e: unknown) => e instanceof CarnetError && e.code === 'LIFECYCLE_INVALID_WINDOW');
    }
    assert.throws(() => openRecord(new Date('nope')), (e: unknown) => e instanceof CarnetError && e.code === 'LIFECYCLE_INVALID_DATE');
  });

  test('day 41: still pending, nothing due, opposition possible', () => {
    const lc = openRecord(T0);
    const day41 = at(T0, 41);
    assert.equal(dueEvent(lc, day41), null);
    assert.equal(applyEvent(lc, ev('oppose'), day41).state, 'opposed');
  });

  test('one millisecond before day 42: opposition still possible', () => {
    const lc = openRecord(T0);
    const justBefore = at(T0, 42, -1);
    assert.equal(dueEvent(lc, justBefore), null);
    assert.equal(applyEvent(lc, ev('oppose'), justBefore).state, 'opposed');
  });

  test('exactly day 42 (pendingUntil): window elapsed, the job activates, opposition refused', () => {
    const lc = openRecord(T0);
    const day42 = new Date(lc.pendingUntil!);
    assert.equal(day42.getTime(), at(T0, 42).getTime());
    assert.deepEqual(dueEvent(lc, day42), { type: 'activate' });
    const e = illegalError(() => applyEvent(lc, ev('oppose'), day42));
    assert.deepEqual(e.details, { from: 'pending', event: 'oppose', reason: 'window_elapsed' });
  });

  test('day 43: the job has activated the record', () => {
    const lc = openRecord(T0);
    const day43 = at(T0, 43);
    const due = dueEvent(lc, day43);
    assert.deepEqual(due, { type: 'activate' });
    const active = applyEvent(lc, due!, day43);
    assert.equal(active.state, 'active');
    assert.equal(active.activatedAt, day43.toISOString());
    assert.equal(dueEvent(active, day43), null);
    assert.equal(nextDueAt(active), null);
    // once active, opposing is illegal: one closes instead
    illegalError(() => applyEvent(active, ev('oppose'), day43));
    assert.equal(applyEvent(active, ev('close'), day43).state, 'closed');
  });

  test('the holder may activate early', () => {
    const lc = applyEvent(openRecord(T0), ev('activate'), at(T0, 2));
    assert.equal(lc.state, 'active');
    assert.equal(lc.activatedAt, at(T0, 2).toISOString());
  });

  test('withdrawing an opposition opens the record at once', () => {
    const opposed = applyEvent(openRecord(T0), ev('oppose'), at(T0, 5));
    assert.equal(dueEvent(opposed, at(T0, 400)), null, 'the job never touches opposed records');
    const active = applyEvent(opposed, ev('withdraw_opposition'), at(T0, 60));
    assert.equal(active.state, 'active');
    assert.equal(active.activatedAt, at(T0, 60).toISOString());
    assert.equal(active.opposedAt, at(T0, 5).toISOString(), 'kept as history');
  });
});

describe('closure, archive and deletion', () => {
  const closedAt = new Date('2026-03-10T08:00:00.000Z');
  const closed = () => applyEvent(inState('active').lc, ev('close'), closedAt);

  test('closing sets the 10-year archive', () => {
    const lc = closed();
    assert.equal(lc.state, 'closed');
    assert.equal(lc.closedAt, closedAt.toISOString());
    assert.equal(lc.archiveUntil, '2036-03-10T08:00:00.000Z');
    assert.equal(nextDueAt(lc), lc.archiveUntil);
  });

  test('one day before 10 years: nothing due, delete illegal; one day after: delete due', () => {
    const lc = closed();
    const before = new Date('2036-03-09T08:00:00.000Z');
    const after = new Date('2036-03-11T08:00:00.000Z');
    assert.equal(dueEvent(lc, before), null);
    const e = illegalError(() => applyEvent(lc, ev('delete'), before));
    assert.equal(e.details?.reason, 'not_due');
    assert.deepEqual(dueEvent(lc, after), { type: 'delete' });
    const deleted = applyEvent(lc, ev('delete'), after);
    assert.equal(deleted.state, 'deleted');
    assert.equal(deleted.deletedAt, after.toISOString());
    assert.equal(isFinal(deleted), true);
    assert.equal(dueEvent(deleted, after), null);
  });

  test('exactly 10 years: due', () => {
    const lc = closed();
    assert.deepEqual(dueEvent(lc, new Date('2036-03-10T08:00:00.000Z')), { type: 'delete' });
    assert.equal(dueEvent(lc, new Date('2036-03-10T07:59:59.999Z')), null);
  });

  test('a closure on 29 February is archived until 1 March, never less than 10 years', () => {
    const lc = applyEvent(inState('active').lc, ev('close'), new Date('2028-02-29T12:00:00.000Z'));
    assert.equal(lc.archiveUntil, '2038-03-01T12:00:00.000Z');
  });

  test('reopening after 9 years restores the record and clears the closure fields', () => {
    const lc = closed();
    const nineYears = new Date('2035-03-10T08:00:00.000Z');
    const reopened = applyEvent(lc, ev('reopen'), nineYears);
    assert.equal(reopened.state, 'active');
    assert.equal(reopened.reopenedAt, nineYears.toISOString());
    for (const k of ['closedAt', 'archiveUntil', 'deletionRequestedAt', 'deletionDueAt'] as const) {
      assert.equal(k in reopened, false, k);
    }
    assert.equal(reopened.activatedAt, lc.activatedAt, 'first activation kept');
    assert.equal(dueEvent(reopened, new Date('2040-01-01T00:00:00Z')), null, 'old archive date no longer applies');
  });

  test('reopening once the archive has expired is refused', () => {
    const e = illegalError(() => applyEvent(closed(), ev('reopen'), new Date('2036-03-11T00:00:00Z')));
    assert.deepEqual(e.details, { from: 'closed', event: 'reopen', reason: 'deletion_due' });
  });

  test('a deletion request from a closed record is due at once and done by the next daily run', () => {
    const lc = closed();
    const req = at(closedAt, 30);
    const requested = applyEvent(lc, ev('request_deletion'), req);
    assert.equal(requested.state, 'closed');
    assert.equal(requested.deletionRequestedAt, req.toISOString());
    assert.equal(requested.deletionDueAt, req.toISOString());
    assert.equal(nextDueAt(requested), req.toISOString(), 'earlier than the archive end');
    const nextRun = at(req, 1);
    assert.ok(nextRun.getTime() - req.getTime() <= 92 * DAY, 'within 3 months');
    assert.deepEqual(dueEvent(requested, nextRun), { type: 'delete' });
    assert.equal(applyEvent(requested, ev('delete'), nextRun).state, 'deleted');
    const again = illegalError(() => applyEvent(requested, ev('request_deletion'), nextRun));
    assert.equal(again.details?.reason, 'already_requested');
    illegalError(() => applyEvent(requested, ev('reopen'), nextRun));
  });

  test('a deletion request from an active record closes it too', () => {
    const now = at(T0, 20);
    const lc = applyEvent(inState('active').lc, ev('request_deletion'), now);
    assert.equal(lc.state, 'closed');
    assert.equal(lc.closedAt, now.toISOString());
    assert.equal(lc.deletionDueAt, now.toISOString());
    assert.ok(lc.archiveUntil);
    assert.deepEqual(dueEvent(lc, now), { type: 'delete' });
  });
});

describe('suspension', () => {
  const suspendedAt = at(T0, 100);
  const suspended = () => applyEvent(inState('active').lc, ev('suspend'), suspendedAt);

  test('6-week deadline; the holder may lift it in time', () => {
    const lc = suspended();
    assert.equal(lc.state, 'suspended');
    assert.equal(Date.parse(lc.suspensionDeadline!) - suspendedAt.getTime(), 42 * DAY);
    assert.equal(nextDueAt(lc), lc.suspensionDeadline);
    assert.equal(isReadable(lc), false);
    const lifted = applyEvent(lc, ev('lift_suspension'), at(suspendedAt, 41));
    assert.equal(lifted.state, 'active');
    assert.equal('suspendedAt' in lifted, false);
    assert.equal('suspensionDeadline' in lifted, false);
  });

  test('at the deadline the job closes it and lifting is refused', () => {
    const lc = suspended();
    assert.equal(dueEvent(lc, at(suspendedAt, 42, -1)), null);
    const deadline = at(suspendedAt, 42);
    assert.deepEqual(dueEvent(lc, deadline), { type: 'close' });
    const e = illegalError(() => applyEvent(lc, ev('lift_suspension'), deadline));
    assert.equal(e.details?.reason, 'deadline_passed');
    const closed = applyEvent(lc, ev('close'), deadline);
    assert.equal(closed.state, 'closed');
    assert.equal('suspensionDeadline' in closed, false);
    assert.equal(closed.suspendedAt, suspendedAt.toISOString(), 'history kept while closed');
    const d = deadline.toISOString(); // 10 years later, same month, day and time
    assert.equal(closed.archiveUntil, String(Number(d.slice(0, 4)) + 10) + d.slice(4));
  });
});

describe('legal and illegal transitions, every state × every event', () => {
  /** Events legal from the fresh lifecycle `inState` builds (conditions tested above). */
  const LEGAL: Record<RecordState, { event: LifecycleEventType; to: RecordState }[]> = {
    pending: [
      { event: 'activate', to: 'active' },
      { event: 'oppose', to: 'opposed' },
    ],
    active: [
      { event: 'close', to: 'closed' },
      { event: 'request_deletion', to: 'closed' },
      { event: 'suspend', to: 'suspended' },
    ],
    opposed: [
      { event: 'withdraw_opposition', to: 'active' },
      { event: 'delete', to: 'deleted' },
    ],
    closed: [
      { event: 'reopen', to: 'active' },
      { event: 'request_deletion', to: 'closed' },
    ],
    suspended: [
      { event: 'close', to: 'closed' },
      { event: 'lift_suspension', to: 'active' },
    ],
    deleted: [],
  };

  test('every state is covered', () => {
    assert.deepEqual(Object.keys(LEGAL).sort(), [...RECORD_STATES].sort());
  });

  for (const from of RECORD_STATES) {
    for (const event of LIFECYCLE_EVENTS) {
      const legal = LEGAL[from].find((l) => l.event === event);
      test(`${from} + ${event} → ${legal ? legal.to : 'LIFECYCLE_ILLEGAL_TRANSITION'}`, () => {
        const { lc, now } = inState(from);
        assert.equal(lc.state, from);
        deepFreeze(lc);
        const before = structuredClone(lc);
        if (legal) {
          const next = applyEvent(lc, ev(event), now);
          assert.equal(next.state, legal.to);
          assert.notEqual(next, lc);
        } else {
          const e = illegalError(() => applyEvent(lc, ev(event), now));
          assert.equal(e.details?.from, from);
          assert.equal(e.details?.event, event);
        }
        assert.deepEqual(lc, before, 'input unchanged');
      });
    }
  }

  test('deleted is final', () => {
    const { lc, now } = inState('deleted');
    for (const event of LIFECYCLE_EVENTS) {
      const e = illegalError(() => applyEvent(lc, ev(event), at(now, 5000)));
      assert.equal(e.details?.reason, 'final');
    }
    assert.equal(dueEvent(lc, at(now, 5000)), null);
    assert.equal(nextDueAt(lc), null);
  });

  test('unknown events are invalid, not conflicts', () => {
    const { lc, now } = inState('active');
    assert.throws(
      () => applyEvent(lc, { type: 'explode' } as unknown as LifecycleEvent, now),
      (e: unknown) => e instanceof CarnetError && e.code === 'LIFECYCLE_UNKNOWN_EVENT' && e.kind === 'invalid',
    );
  });
});

describe('purity', () => {
  test('applyEvent never mutates its input along a full life', () => {
    const steps: Array<[LifecycleEventType, Date]> = [
      ['activate', at(T0, 43)],
      ['suspend', at(T0, 50)],
      ['lift_suspension', at(T0, 60)],
      ['close', at(T0, 70)],
      ['reopen', at(T0, 80)],
      ['request_deletion', at(T0, 90)],
      ['delete', at(T0, 91)],
    ];
    let lc = deepFreeze(openRecord(T0));
    for (const [type, now] of steps) {
      const snapshot = structuredClone(lc);
      const next = applyEvent(lc, ev(type), now);
      assert.deepEqual(lc, snapshot, type);
      assert.notEqual(next, lc);
      lc = deepFreeze(next);
    }
    assert.equal(lc.state, 'deleted');
  });

  test('dueEvent is driven only by its arguments', () => {
    const lc = openRecord(T0);
    assert.deepEqual(dueEvent(lc, at(T0, 50)), dueEvent(structuredClone(lc), at(T0, 50)));
  });
});

describe('readability and feeds', () => {
  for (const state of RECORD_STATES) {
    test(`${state}: readable and accepts documents only when active`, () => {
      const { lc } = inState(state);
      assert.equal(isReadable(lc), state === 'active');
      assert.equal(acceptsDocuments(lc), state === 'active');
    });
  }
});
