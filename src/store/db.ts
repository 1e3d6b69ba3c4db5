/**
 * Opens the database: embedded SQLite by default (WAL, synchronous=FULL, group commit), PostgreSQL when a
 * `postgres://` URL is given. Both behind the same Kysely<DB>.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { GroupCommitSqliteDialect } from './sqlite-group-commit.ts';
import type { DB } from './schema.ts';
import { migrationProvider } from './migrations.ts';
import { preparingPool } from './pg-prepared.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  engine: Engine;
  /** Where the SQLite file lives (undefined on PostgreSQL). */
  file?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `postgres://…` for PostgreSQL; otherwise SQLite under `dataDir`. */
  databaseUrl?: string;
  dataDir?: string;
  /** SQLite file name inside dataDir. */
  fileName?: string;
  poolSize?: number;
}

// int8 (COUNT, bigserial) as JS numbers: our counters stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number.parseInt(v, 10));

export function openDatabase(opts: OpenOptions): Database {
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // an idle client whose server connection drops (restart, failover, a dropped test database)
    // emits 'error'; the pool discards it and opens another. Without a listener Node would crash.
    pool.on('error', () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  const dir = opts.dataDir ?? './data';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, opts.fileName ?? 'carnet.sqlite');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // deleted rows (a destroyed record key above all) are overwritten, not left in free pages
  sqlite.pragma('secure_delete = ON');
  // reads outside transactions use a second connection (WAL: readers beside the writer), and
  // concurrent transactions share one fsync (group commit): see sqlite-group-commit.ts
  const reader = new SQLite(file);
  reader.pragma('busy_timeout = 5000');
  reader.pragma('query_only = ON');
  const db = new Kysely<DB>({ dialect: new GroupCommitSqliteDialect({ database: sqlite, reader }) });
  return { db, engine: 'sqlite', file, close: () => db.destroy() };
}

/** Applies every pending numbered migration; returns the names applied. */
export async function migrate(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider(database.engine) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** `FOR UPDATE` where the engine has row locks (PostgreSQL); SQLite serialises writers anyway. */
export function lockClause(engine: Engine) {
  return engine === 'postgres' ? sql` for update` : sql``;
}
