/**
 * Which professionals are known to have accessed which records already (`practitioner_seen`), so
 * that a repeat consult does not ask the database again. A row of `practitioner_seen` is never
 * removed while its record exists (only the record's deletion purges it, and a deleted record is
 * never read again), so a pair read back from the database stays true: the cache holds only pairs
 * seen committed, never a pair this process is still inserting. Bounded, oldest first out.
 */
export class SeenCache {
  private readonly pairs = new Set<string>();

  constructor(private readonly max = 100_000) {}

  has(recordId: string, practitionerId: string): boolean {
    return this.pairs.has(`${recordId}\u0000${practitionerId}`);
  }

  remember(recordId: string, practitionerId: string) {
    if (this.pairs.size >= this.max) {
      const oldest = this.pairs.values().next().value;
      if (oldest !== undefined) this.pairs.delete(oldest);
    }
    this.pairs.add(`${recordId}\u0000${practitionerId}`);
  }
}
