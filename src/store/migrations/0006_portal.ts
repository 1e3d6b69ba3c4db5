/**
 * Migration 0006: portal tables — the holder's profile (sealed under the record key) and when each
 * reader last looked at their alerts. Both engines.
 */
import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../db.ts';
import { types } from '../migrations.ts';

export function m0006_portal(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('portal_profiles')
        .addColumn('record_id', 'text', (c) => c.primaryKey())
        .addColumn('data_enc', t.bytes, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('portal_seen')
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('reader', 'text', (c) => c.notNull())
        .addColumn('seen_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('portal_seen_pk', ['record_id', 'reader'])
        .execute();
    },
  };
}
