/**
 * Migration 0004: accounts tables. Owned by the accounts work; both engines (use `types(engine)`
 * from ../migrations.ts for binary columns).
 */
import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../db.ts';

export function m0004_accounts(_engine: Engine): Migration {
  return {
    async up(_db: Kysely<any>) {
      // tables added here
    },
  };
}
