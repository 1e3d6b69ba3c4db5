import type { Lifecycle } from '../../domain/lifecycle.ts';

/** The earliest instant at which the daily job has something to do on a record (indexed). */
export function dueAtOf(lc: Lifecycle): string | null {
  const candidates: (string | undefined)[] = [];
  if (lc.state === 'pending') candidates.push(lc.pendingUntil);
  if (lc.state === 'closed') candidates.push(lc.archiveUntil, lc.deletionDueAt);
  if (lc.state === 'suspended') candidates.push(lc.suspensionDeadline);
  const present = candidates.filter((c): c is string => !!c).sort();
  return present[0] ?? null;
}
