/**
 * Builds a running Carnet from its configuration: opens the database on the right engine, applies
 * migrations, loads the master key, and returns the services' context.
 */
import { resolve } from 'node:path';
import { openDatabase, migrate, type Database } from '../store/db.ts';
import { loadKeyProvider, type StaticKeyProvider } from '../crypto/keys.ts';
import { SeenCache } from './internal/seen.ts';
import { RecordKeys } from '../crypto/record-keys.ts';
import { DatabaseBlobStore } from '../store/blobs.ts';
import { DEFAULT_CONFIG, type CarnetConfig, type Ctx } from './context.ts';

export interface CarnetOptions {
  dataDir?: string;
  databaseUrl?: string;
  /** PostgreSQL connections per process (default 10). */
  poolSize?: number;
  masterKey?: string;
  clock?: () => Date;
  config?: Partial<CarnetConfig>;
  /** Apply pending migrations on open (the server does; `carnet migrate` does it explicitly). */
  migrate?: boolean;
}

export interface Carnet {
  ctx: Ctx;
  database: Database;
  keyProvider: StaticKeyProvider & { keyFile?: string };
  close(): Promise<void>;
}

/** Options from the environment: CARNET_DATA, DATABASE_URL, CARNET_MASTER_KEY, CARNET_EMERGENCY_HOURS. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): CarnetOptions {
  return {
    dataDir: env.CARNET_DATA ?? './data',
    databaseUrl: env.DATABASE_URL || undefined,
    poolSize: env.CARNET_PG_POOL ? Number(env.CARNET_PG_POOL) : undefined,
    masterKey: env.CARNET_MASTER_KEY || undefined,
    config: env.CARNET_EMERGENCY_HOURS ? { emergencyWindowHours: Number(env.CARNET_EMERGENCY_HOURS) } : {},
  };
}

export async function openCarnet(opts: CarnetOptions = {}): Promise<Carnet> {
  const dataDir = resolve(opts.dataDir ?? './data');
  const keyProvider = loadKeyProvider({ dataDir, envKey: opts.masterKey });
  const database = openDatabase({ databaseUrl: opts.databaseUrl, dataDir, poolSize: opts.poolSize });
  if (opts.migrate !== false) await migrate(database);
  const keys = new RecordKeys(keyProvider);
  const ctx: Ctx = {
    db: database.db,
    engine: database.engine,
    keys,
    blobs: new DatabaseBlobStore(database.engine),
    seen: new SeenCache(),
    clock: opts.clock ?? (() => new Date()),
    config: { ...DEFAULT_CONFIG, ...opts.config, dataDir },
  };
  return {
    ctx,
    database,
    keyProvider,
    async close() {
      keys.forgetAll();
      await database.close();
    },
  };
}
