/**
 * A fresh store per engine and run: a temporary CARNET_DATA folder (master key, signing key, and on
 * SQLite the database file), plus on PostgreSQL a fresh database created for the run and dropped
 * after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import SQLite from 'better-sqlite3';

export type Engine = 'sqlite' | 'postgres';

export interface BenchStore {
  engine: Engine;
  dataDir: string;
  databaseUrl?: string;
  dbName?: string;
  adminUrl?: string;
  sqliteFile?: string;
  drop(): Promise<void>;
}

export async function createStore(engine: Engine, adminUrl: string): Promise<BenchStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-bench-'));
  if (engine === 'sqlite') {
    return { engine, dataDir, sqliteFile: join(dataDir, 'carnet.sqlite'), drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const dbName = `carnet_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return {
    engine, dataDir, databaseUrl: u.toString(), dbName, adminUrl,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function engineVersion(engine: Engine, adminUrl: string): Promise<string> {
  if (engine === 'sqlite') {
    const db = new SQLite(':memory:');
    const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
    return `SQLite ${v} (better-sqlite3)`;
  }
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  const r = await c.query('select version() as v');
  const settings = await c.query(
    `select name, setting, unit from pg_settings where name in ('shared_buffers','synchronous_commit','max_connections','work_mem','effective_cache_size','wal_level','fsync','max_wal_size')`,
  );
  await c.end();
  return `${String(r.rows[0].v).split(' on ')[0]} (${settings.rows.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ')})`;
}
