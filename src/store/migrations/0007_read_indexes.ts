/**
 * Migration 0007: indexes for reads the benchmark showed growing with the data (docs/performance.md).
 * - `audit_log (record_id, seq)`: the access history reads a record's newest entries first
 *   (`order by seq desc limit n`); with only (record_id, record_seq) the engine fetched and sorted
 *   every entry of the record before keeping n. Both engines.
 */
import type { Kysely, Migration } from 'kysely';

export function m0007_read_indexes(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('audit_log_by_record_seq').on('audit_log').columns(['record_id', 'seq']).execute();
    },
  };
}
