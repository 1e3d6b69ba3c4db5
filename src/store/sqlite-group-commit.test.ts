import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { GroupCommitSqliteDialect, type GroupCommitSqliteDriver } from './sqlite-group-commit.ts';

interface T {
  items: { id: number; label: string };
}

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'carnet-gc-'));
  const file = join(dir, 'db.sqlite');
  const w = new SQLite(file);
  w.pragma('journal_mode = WAL');
  w.pragma('synchronous = FULL');
  w.exec('create table items (id integer primary key, label text not null unique)');
  const reader = new SQLite(file);
  reader.pragma('query_only = ON');
  const dialect = new GroupCommitSqliteDialect({ database: w, reader });
  let driver!: GroupCommitSqliteDriver;
  const orig = dialect.createDriver.bind(dialect);
  dialect.createDriver = () => (driver = orig() as GroupCommitSqliteDriver);
  const db = new Kysely<T>({ dialect });
  /** What another process would see: a fresh connection to the file. */
  const outside = () => {
    const c = new SQLite(file, { readonly: true });
    try {
      return (c.prepare('select label from items order by id').all() as { label: string }[]).map((r) => r.label);
    } finally {
      c.close();
    }
  };
  return { db, outside, driver: () => driver, cleanup: async () => { await db.destroy(); rmSync(dir, { recursive: true, force: true }); } };
}

test('concurrent transactions share physical commits, and each is durable when its commit resolves', async () => {
  const t = open();
  try {
    const seenAtCommit: boolean[] = [];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.db.transaction().execute(async (tx) => {
          await tx.insertInto('items').values({ id: i + 1, label: `a${i}` }).execute();
        }).then(() => seenAtCommit.push(t.outside().includes(`a${i}`))),
      ),
    );
    assert.equal(seenAtCommit.length, 30);
    assert.ok(seenAtCommit.every(Boolean), 'a transaction was reported committed before another connection could see it');
    const { groups, commits } = t.driver().stats;
    assert.equal(commits, 30);
    assert.ok(groups < 30, `expected fewer physical commits than transactions, got ${groups}`);
  } finally {
    await t.cleanup();
  }
});

test('a failing transaction in a group is rolled back alone', async () => {
  const t = open();
  try {
    const results = await Promise.allSettled([
      t.db.transaction().execute(async (tx) => { await tx.insertInto('items').values({ id: 1, label: 'keep-1' }).execute(); }),
      t.db.transaction().execute(async (tx) => {
        await tx.insertInto('items').values({ id: 2, label: 'drop' }).execute();
        throw new Error('refused');
      }),
      t.db.transaction().execute(async (tx) => {
        // a constraint violation inside a transaction of the group
        await tx.insertInto('items').values({ id: 3, label: 'keep-1' }).execute();
      }),
      t.db.transaction().execute(async (tx) => { await tx.insertInto('items').values({ id: 4, label: 'keep-2' }).execute(); }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.deepEqual(t.outside(), ['keep-1', 'keep-2']);
  } finally {
    await t.cleanup();
  }
});

test('reads outside transactions never see a group that is not committed yet', async () => {
  const t = open();
  try {
    let seenFromOutsideTx: string[] | undefined;
    const first = t.db.transaction().execute(async (tx) => {
      await tx.insertInto('items').values({ id: 1, label: 'pending' }).execute();
    });
    const second = t.db.transaction().execute(async (tx) => {
      // the first transaction has committed logically but its group is still open
      seenFromOutsideTx = (await t.db.selectFrom('items').select('label').execute()).map((r) => r.label);
      await tx.insertInto('items').values({ id: 2, label: 'second' }).execute();
    });
    await Promise.all([first, second]);
    assert.deepEqual(seenFromOutsideTx, []);
    assert.deepEqual((await t.db.selectFrom('items').select('label').orderBy('id').execute()).map((r) => r.label), ['pending', 'second']);
  } finally {
    await t.cleanup();
  }
});

test('a write outside transactions commits the open group first and is durable on return', async () => {
  const t = open();
  try {
    const a = t.db.transaction().execute(async (tx) => { await tx.insertInto('items').values({ id: 1, label: 'tx' }).execute(); });
    const b = t.db.insertInto('items').values({ id: 2, label: 'autocommit' }).execute().then(() => t.outside());
    const c = t.db.transaction().execute(async (tx) => { await tx.insertInto('items').values({ id: 3, label: 'later' }).execute(); });
    const [, seen] = await Promise.all([a, b, c]);
    assert.ok(seen.includes('tx') && seen.includes('autocommit'));
    assert.deepEqual(t.outside(), ['tx', 'autocommit', 'later']);
    // raw statements outside transactions still work (the daily job's checkpoint)
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(t.db);
  } finally {
    await t.cleanup();
  }
});

test('transactions of requests handled in the same event-loop turn share a commit', async () => {
  const t = open();
  try {
    // each "request" first waits for something else (I/O), then runs its transaction
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<void>((r) => setImmediate(r)).then(() =>
          t.db.transaction().execute(async (tx) => {
            await tx.insertInto('items').values({ id: i + 1, label: `r${i}` }).execute();
          }),
        ),
      ),
    );
    assert.equal(t.outside().length, 20);
    assert.ok(t.driver().stats.groups < 5, `expected the 20 transactions in a few groups, got ${t.driver().stats.groups}`);
  } finally {
    await t.cleanup();
  }
});
