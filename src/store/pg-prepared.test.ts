/**
 * PostgreSQL named prepared statements (pg-prepared.ts): a repeated parameterised query is
 * prepared once per connection and reused; queries without parameters stay on the simple protocol;
 * a statement made stale by a schema change is dropped for that connection instead of failing on
 * every later use. (PostgreSQL only: it uses the local server even when the suite runs on SQLite.)
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { preparingPool } from './pg-prepared.ts';
import { localPgAdminUrl, pgAnswers, scratchPgDatabase } from './testing.ts';

// PostgreSQL only, whichever engine the suite runs on: the server of DATABASE_URL, else the local one
const base = localPgAdminUrl();

test('named prepared statements on PostgreSQL', async (t) => {
  if (!(await pgAnswers(base))) {
    t.skip(`no PostgreSQL answers at ${new URL(base).host} (.ci/run has one)`);
    return;
  }
  const scratch = await scratchPgDatabase(base);
  const u = scratch.url;
  const pool = new pg.Pool({ connectionString: u, max: 1 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  const other = new pg.Client({ connectionString: u });
  await other.connect();
  try {
    await sql`create table t (id int primary key, a text)`.execute(db);
    await sql`insert into t values (1, 'un'), (2, 'deux')`.execute(db);
    const find = (id: number) => db.selectFrom('t').selectAll().where('id', '=', id).executeTakeFirst();
    const prepared = async () =>
      (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db)).rows.map((r) => r.statement);

    await t.test('a parameterised query is prepared once and reused', async () => {
      assert.deepEqual(await find(1), { id: 1, a: 'un' });
      assert.deepEqual(await find(2), { id: 2, a: 'deux' });
      const stmts = await prepared();
      assert.equal(stmts.filter((s) => /from "t" where "id" = \$1/.test(s)).length, 1, JSON.stringify(stmts));
      // the query listing them has no parameter: simple protocol, never prepared
      assert.ok(!stmts.some((s) => /pg_prepared_statements/.test(s)));
    });

    await t.test('a statement made stale by a schema change is retried unnamed, then left alone', async () => {
      await other.query('alter table t add column b text');
      await other.query(`update t set b = 'bis'`);
      assert.deepEqual(await find(1), { id: 1, a: 'un', b: 'bis' });
      assert.deepEqual(await find(2), { id: 2, a: 'deux', b: 'bis' });
      // in a transaction too: the stale name is no longer used on this connection
      const inTx = await db.transaction().execute((tx) => tx.selectFrom('t').selectAll().where('id', '=', 2).executeTakeFirst());
      assert.deepEqual(inTx, { id: 2, a: 'deux', b: 'bis' });
    });
  } finally {
    await other.end();
    await db.destroy();
    await scratch.drop();
  }
});
