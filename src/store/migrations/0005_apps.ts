/**
 * Migration 0005: apps tables. Owned by the apps work; both engines (use `types(engine)`
 * from ../migrations.ts for binary columns).
 */
import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../db.ts';

export function m0005_apps(_engine: Engine): Migration {
  return {
    async up(_db: Kysely<any>) {
      // tables added here
    },
  };
}
