/**
 * Migration 0006: portal tables. Owned by the portal work; both engines (use `types(engine)`
 * from ../migrations.ts for binary columns).
 */
import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../db.ts';

export function m0006_portal(_engine: Engine): Migration {
  return {
    async up(_db: Kysely<any>) {
      // tables added here
    },
  };
}
