/**
 * Test databases on either engine: a fresh SQLite file in a temp folder, or — when DATABASE_URL
 * points at PostgreSQL — a fresh database created for the test and dropped after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
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

/** The PostgreSQL server tests that need one use: DATABASE_URL's, else CARNET_TEST_PG_URL, else the local one. */
export const localPgAdminUrl = () =>
  /^postgres/.test(process.env.DATABASE_URL ?? '') ? process.env.DATABASE_URL! : (process.env.CARNET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

/** Whether something answers on the PostgreSQL server's address (tests that need one say so when not). */
export function pgAnswers(adminUrl = localPgAdminUrl()): Promise<boolean> {
  const u = new URL(adminUrl);
  return new Promise((r) => {
    const s = connect(Number(u.port || 5432), u.hostname);
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(false));
  });
}

/** A fresh PostgreSQL database on the server of `adminUrl`: its URL, and `drop()` (forced). */
export async function scratchPgDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `carnet_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function openTestCarnet(opts: Omit<CarnetOptions, 'dataDir' | 'databaseUrl' | 'clock'> & { now?: Date } = {}): Promise<TestCarnet> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carnet-test-'));
  const base = process.env.DATABASE_URL;
  const scratch = base && /^postgres/.test(base) ? await scratchPgDatabase(base) : undefined;
  const databaseUrl = scratch?.url;
  const dropDb = scratch?.drop;
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
