/**
 * What every use case receives: the database (or the current transaction), the record keys, the
 * blob store, the clock and the configuration. Services are the only place where domain, store,
 * audit and notifications meet.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import type { Engine } from '../store/db.ts';
import type { RecordKeys } from '../crypto/record-keys.ts';
import type { BlobStore } from '../store/blobs.ts';
import type { SeenCache } from './internal/seen.ts';

export interface CarnetConfig {
  dataDir: string;
  /** Break-glass / centre 15 window, hours (DOMAIN §5.8; default 24). */
  emergencyWindowHours: number;
  /** Days of the opposition window (DOMAIN §3; 42). */
  oppositionWindowDays: number;
  /** Default listing period for professionals (DOMAIN §4; 2 years). */
  professionalDefaultYears: number;
}

export const DEFAULT_CONFIG: Omit<CarnetConfig, 'dataDir'> = {
  emergencyWindowHours: 24,
  oppositionWindowDays: 42,
  professionalDefaultYears: 2,
};

export interface Ctx {
  db: Kysely<DB>;
  engine: Engine;
  keys: RecordKeys;
  blobs: BlobStore;
  clock: () => Date;
  config: CarnetConfig;
  /** Professionals known to have accessed a record already (saves a query per consult); optional. */
  seen?: SeenCache;
}

/** Runs `fn` in one transaction; nested calls reuse the outer one. */
export async function inTransaction<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  if ((ctx.db as { isTransaction?: boolean }).isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx }));
}
