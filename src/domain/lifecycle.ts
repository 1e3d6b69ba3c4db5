/**
 * The record lifecycle (DOMAIN §3) as a pure state machine. The clock is always an argument; the
 * services persist the returned `Lifecycle` and run `dueEvent` from a daily job.
 *
 * Legal transitions (anything else throws LIFECYCLE_ILLEGAL_TRANSITION, kind `conflict`, details
 * `{ from, event, reason? }`):
 *
 *   from       event                 to         condition / effect
 *   ─────────  ────────────────────  ─────────  ─────────────────────────────────────────────────
 *   pending    activate              active     holder activates early, or the job once the
 *                                               window has elapsed (no condition on time)
 *   pending    oppose                opposed    only while now < pendingUntil (reason
 *                                               `window_elapsed` otherwise: close the record instead)
 *   active     close                 closed     closedAt = now, archiveUntil = closedAt + 10 years
 *   active     request_deletion      closed     closes (as above) and records the request
 *   active     suspend               suspended  suspensionDeadline = now + 6 weeks
 *   opposed    withdraw_opposition   active     the person asked for the record: it opens at once
 *                                               (not back to pending); opposedAt kept as history
 *   opposed    delete                deleted    purge of the pre-loaded data, when services decide
 *   closed     reopen                active     restores the archive; clears closedAt, archiveUntil,
 *                                               deletionRequestedAt, deletionDueAt (and a past
 *                                               suspension's fields); sets reopenedAt.
 *                                               Refused once deletion is due (reason `deletion_due`)
 *   closed     request_deletion      closed     once (reason `already_requested` the second time)
 *   closed     delete                deleted    only when due: now >= archiveUntil or
 *                                               now >= deletionDueAt (reason `not_due` otherwise)
 *   suspended  close                 closed     the job at the deadline, or the holder any time
 *   suspended  lift_suspension       active     only while now < suspensionDeadline (reason
 *                                               `deadline_passed`); clears the suspension fields
 *   deleted    —                                final: every event is illegal
 *
 * Time rules and choices where the rules are silent:
 * - Opposition window: 42 days (6 weeks) as an exact duration from createdAt, so
 *   pendingUntil = createdAt + 42 × 24 h. The window is the half-open interval
 *   [createdAt, pendingUntil): at day 41 the record is pending and opposition is possible; at the
 *   exact instant pendingUntil (day 42, same time of day as the creation) the window has elapsed —
 *   opposition is refused and the daily job activates; on day 43 it is active.
 * - Archive: closedAt + 10 calendar years (UTC). A closure on 29 February ends on 1 March ten years
 *   later, never before: the holder is promised at least 10 years. The job deletes when
 *   now >= archiveUntil.
 * - Deletion request: deletionDueAt = the request instant, i.e. due at once; the daily job deletes
 *   within a day, well inside the 3-month limit (R1111-36). Closed records only reach `deleted`
 *   through the job's `delete` (services crypto-shred the record key at that moment).
 * - Reopening is legal at any time before the deletion is due (after 9 years too).
 * - Suspension for fraud: suspensionDeadline = suspendedAt + 42 days; the job closes the record
 *   when now >= suspensionDeadline.
 * - Only `active` records are readable and accept documents. A pending record does not exist yet in
 *   law (it is created when the window closes without objection, R1111-28), so feeds get a 409.
 * - Opposed records are not deleted by the job: keeping the state lets a later population load
 *   know the person objected, and lets them change their mind. Purging them is an explicit
 *   `delete` from the services.
 */
import type { RecordState } from './access/types.ts';
import { conflict, invalid } from './errors.ts';

export interface Lifecycle {
  state: RecordState;
  createdAt: string; // ISO
  /** createdAt + 6 weeks (opposition window, exclusive end). */
  pendingUntil?: string;
  activatedAt?: string;
  opposedAt?: string;
  closedAt?: string;
  /** closedAt + 10 years. */
  archiveUntil?: string;
  deletionRequestedAt?: string;
  /** At the latest 3 months after the request; Carnet makes it due at once. */
  deletionDueAt?: string;
  /** Last time a closed record was reopened. */
  reopenedAt?: string;
  suspendedAt?: string;
  /** suspendedAt + 6 weeks. */
  suspensionDeadline?: string;
  deletedAt?: string;
}

export type LifecycleEvent =
  | { type: 'activate' } // holder activates early, or the window elapsed
  | { type: 'oppose' } // objection during the window
  | { type: 'withdraw_opposition' } // a person who objected changes their mind
  | { type: 'close' }
  | { type: 'reopen' } // restores the archive (before it is deleted)
  | { type: 'request_deletion' } // express request for early deletion
  | { type: 'delete' } // effective deletion (crypto-shredding happens in services)
  | { type: 'suspend' } // fraud
  | { type: 'lift_suspension' }; // the holder objected in time

export type LifecycleEventType = LifecycleEvent['type'];

export const LIFECYCLE_EVENTS: readonly LifecycleEventType[] = [
  'activate',
  'oppose',
  'withdraw_opposition',
  'close',
  'reopen',
  'request_deletion',
  'delete',
  'suspend',
  'lift_suspension',
];

export const RECORD_STATES: readonly RecordState[] = ['pending', 'active', 'opposed', 'closed', 'deleted', 'suspended'];

export const OPPOSITION_WINDOW_DAYS = 42;
export const SUSPENSION_DAYS = 42;
export const ARCHIVE_YEARS = 10;

const DAY_MS = 24 * 60 * 60 * 1000;

const iso = (d: Date) => d.toISOString();
const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY_MS);
/** Calendar years in UTC; 29 February rolls over to 1 March in a non-leap target year. */
function addYears(d: Date, years: number): Date {
  const r = new Date(d.getTime());
  r.setUTCFullYear(r.getUTCFullYear() + years);
  return r;
}
const ms = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));
/** now >= at (false when `at` is absent). */
const reached = (now: Date, at: string | undefined) => at !== undefined && now.getTime() >= (ms(at) as number);

function checkNow(now: Date): void {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw invalid('LIFECYCLE_INVALID_DATE', 'The lifecycle clock must be a valid date.');
  }
}

/** A new record at the start of its opposition window. */
export function openRecord(now: Date, opts: { windowDays?: number } = {}): Lifecycle {
  checkNow(now);
  const windowDays = opts.windowDays ?? OPPOSITION_WINDOW_DAYS;
  if (typeof windowDays !== 'number' || !Number.isFinite(windowDays) || windowDays <= 0) {
    throw invalid('LIFECYCLE_INVALID_WINDOW', 'The opposition window must be a positive number of days.', {
      details: { windowDays },
    });
  }
  return { state: 'pending', createdAt: iso(now), pendingUntil: iso(addDays(now, windowDays)) };
}

function illegal(lc: Lifecycle, ev: LifecycleEvent, reason?: string): never {
  throw conflict(
    'LIFECYCLE_ILLEGAL_TRANSITION',
    `The event "${ev.type}" is not allowed while the record is ${lc.state}${reason ? ` (${reason.replace(/_/g, ' ')})` : ''}.`,
    { details: { from: lc.state, event: ev.type, ...(reason ? { reason } : {}) } },
  );
}

/** Copy of `lc` without the named fields. */
function without(lc: Lifecycle, ...keys: (keyof Lifecycle)[]): Lifecycle {
  const out: Lifecycle = { ...lc };
  for (const k of keys) delete out[k];
  return out;
}

function closeFields(lc: Lifecycle, now: Date): Lifecycle {
  return {
    ...without(lc, 'suspensionDeadline'),
    state: 'closed',
    closedAt: iso(now),
    archiveUntil: iso(addYears(now, ARCHIVE_YEARS)),
  };
}

function requestDeletionFields(lc: Lifecycle, now: Date): Lifecycle {
  // Due at once: the daily job deletes within a day (limit: 3 months, R1111-36).
  return { ...lc, deletionRequestedAt: iso(now), deletionDueAt: iso(now) };
}

/** The deletion of a closed record is due: archive expired or express request due. */
function deletionDue(lc: Lifecycle, now: Date): boolean {
  return lc.state === 'closed' && (reached(now, lc.archiveUntil) || reached(now, lc.deletionDueAt));
}

/** Applies one event. Pure: `lc` is never modified, a new object is returned. */
export function applyEvent(lc: Lifecycle, ev: LifecycleEvent, now: Date): Lifecycle {
  checkNow(now);
  if (!ev || !LIFECYCLE_EVENTS.includes(ev.type)) {
    throw invalid('LIFECYCLE_UNKNOWN_EVENT', 'Unknown lifecycle event.', { details: { event: ev?.type } });
  }
  const at = iso(now);
  switch (lc.state) {
    case 'pending':
      switch (ev.type) {
        case 'activate':
          return { ...lc, state: 'active', activatedAt: at };
        case 'oppose':
          if (reached(now, lc.pendingUntil)) illegal(lc, ev, 'window_elapsed');
          return { ...lc, state: 'opposed', opposedAt: at };
        default:
          return illegal(lc, ev);
      }
    case 'active':
      switch (ev.type) {
        case 'close':
          return closeFields(lc, now);
        case 'request_deletion':
          return requestDeletionFields(closeFields(lc, now), now);
        case 'suspend':
          return { ...lc, state: 'suspended', suspendedAt: at, suspensionDeadline: iso(addDays(now, SUSPENSION_DAYS)) };
        default:
          return illegal(lc, ev);
      }
    case 'opposed':
      switch (ev.type) {
        case 'withdraw_opposition':
          return { ...lc, state: 'active', activatedAt: at };
        case 'delete':
          return { ...lc, state: 'deleted', deletedAt: at };
        default:
          return illegal(lc, ev);
      }
    case 'closed':
      switch (ev.type) {
        case 'reopen':
          if (deletionDue(lc, now)) illegal(lc, ev, 'deletion_due');
          return {
            ...without(lc, 'closedAt', 'archiveUntil', 'deletionRequestedAt', 'deletionDueAt', 'suspendedAt', 'suspensionDeadline'),
            state: 'active',
            reopenedAt: at,
          };
        case 'request_deletion':
          if (lc.deletionRequestedAt !== undefined) illegal(lc, ev, 'already_requested');
          return requestDeletionFields(lc, now);
        case 'delete':
          if (!deletionDue(lc, now)) illegal(lc, ev, 'not_due');
          return { ...lc, state: 'deleted', deletedAt: at };
        default:
          return illegal(lc, ev);
      }
    case 'suspended':
      switch (ev.type) {
        case 'close':
          return closeFields(lc, now);
        case 'lift_suspension':
          if (reached(now, lc.suspensionDeadline)) illegal(lc, ev, 'deadline_passed');
          return { ...without(lc, 'suspendedAt', 'suspensionDeadline'), state: 'active' };
        default:
          return illegal(lc, ev);
      }
    case 'deleted':
      return illegal(lc, ev, 'final');
    default:
      throw invalid('LIFECYCLE_UNKNOWN_STATE', 'Unknown record state.', { details: { state: (lc as Lifecycle).state } });
  }
}

/** What the daily job must apply now, or null. */
export function dueEvent(lc: Lifecycle, now: Date): LifecycleEvent | null {
  checkNow(now);
  switch (lc.state) {
    case 'pending':
      return reached(now, lc.pendingUntil) ? { type: 'activate' } : null;
    case 'suspended':
      return reached(now, lc.suspensionDeadline) ? { type: 'close' } : null;
    case 'closed':
      return deletionDue(lc, now) ? { type: 'delete' } : null;
    default:
      return null;
  }
}

/**
 * Earliest instant at which `dueEvent` will return something (ISO), or null when nothing is
 * scheduled. For the store's `due_at` column, so the job only looks at records that need it.
 */
export function nextDueAt(lc: Lifecycle): string | null {
  const candidates: (string | undefined)[] =
    lc.state === 'pending'
      ? [lc.pendingUntil]
      : lc.state === 'suspended'
        ? [lc.suspensionDeadline]
        : lc.state === 'closed'
          ? [lc.archiveUntil, lc.deletionDueAt]
          : [];
  const times = candidates.filter((c): c is string => c !== undefined).map((c) => Date.parse(c));
  return times.length ? new Date(Math.min(...times)).toISOString() : null;
}

/** Professionals and the holder may read only an active record. */
export const isReadable = (lc: Pick<Lifecycle, 'state'>): boolean => lc.state === 'active';
/** Documents are filed only into an active record. */
export const acceptsDocuments = (lc: Pick<Lifecycle, 'state'>): boolean => lc.state === 'active';
/** No event will ever apply again. */
export const isFinal = (lc: Pick<Lifecycle, 'state'>): boolean => lc.state === 'deleted';
