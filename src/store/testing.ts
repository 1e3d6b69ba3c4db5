/**
 * Test databases on either engine: a fresh SQLite file in a temp folder, or — when DATABASE_URL
 * points at PostgreSQL — a fresh database created for the test and dropped after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openCarnet, type Carnet, type CarnetOptions } from '../services/carnet.ts';

export const testEngine = () => (process.env.DATABASE_URL ? 'postgres' : 'sqlite');

export interface TestCarnet extends Carnet {
  dataDir: string;
  databaseUrl?: string;
  /** Settable clock for lifecycle and expiry tests. */
  setNow(d: Date | string): void;
  advance(ms: number): void;
  cleanup(): Promise<void>;
}

export const DAY = 86_400_000;

export async function openTestCarnet(opts: Omit<CarnetOptions, 'dataDir' | 'databaseUrl' | 'clock'> & { now?: Date } = {}): Promise<TestCarnet> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-test-'));
  let databaseUrl: string | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  const base = process.env.DATABASE_URL;
  if (base && /^postgres/.test(base)) {
    const name = `carnet_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(base);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  let now = opts.now ?? new Date('2026-03-01T09:00:00Z');
  const carnet = await openCarnet({ ...opts, dataDir, databaseUrl, clock: () => now });
  return Object.assign(carnet, {
    dataDir,
    databaseUrl,
    setNow(d: Date | string) {
      now = new Date(d);
    },
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    async cleanup() {
      await carnet.close();
      if (dropDb) await dropDb();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
