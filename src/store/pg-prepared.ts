/**
 * PostgreSQL: named prepared statements for the queries Carnet repeats.
 *
 * Kysely's PostgreSQL driver sends every parameterised query as an unnamed statement, so the server
 * parses and plans it again on each call. node-postgres prepares a statement once per connection
 * when the query carries a `name`; this wrapper names each distinct SQL text (`c1`, `c2`, …) and
 * lets node-postgres reuse it. The texts are few (queries are built from code, values travel as
 * parameters); the number of names is capped so that a stream of ad-hoc texts (an `in (…)` list of
 * varying length) cannot grow the per-connection statement cache without bound — texts past the
 * cap run unnamed, as before. Queries without parameters (BEGIN, COMMIT) keep the simple protocol.
 *
 * A statement prepared before a schema change can fail with "cached plan must not change result
 * type" (SQLSTATE 0A000), and would on every later use: the connection then stops using that name
 * and the query is retried unnamed (outside a transaction it succeeds; inside one, the transaction
 * has already failed and the caller sees the error once), so a migration run by another process
 * does not break a running server for good.
 */
import type pg from 'pg';

/** Distinct SQL texts given a name, per process. */
export const MAX_NAMED_STATEMENTS = 512;

const names = new Map<string, string>();

function nameFor(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED_STATEMENTS) {
    name = `c${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

type QueryFn = (text: unknown, values?: unknown) => Promise<pg.QueryResult>;
/** Per connection: names whose prepared statement went stale (the schema changed under it). */
const stale = new WeakMap<object, Set<string>>();

function wrapClient(client: pg.PoolClient): pg.PoolClient {
  if (stale.has(client)) return client;
  const avoid = new Set<string>();
  stale.set(client, avoid);
  const query = client.query.bind(client) as unknown as QueryFn;
  (client as unknown as { query: QueryFn }).query = async (text, values) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return query(text, values);
    const name = nameFor(text);
    if (!name || avoid.has(name)) return query(text, values);
    try {
      return await query({ name, text, values }, undefined);
    } catch (e) {
      if ((e as { code?: string }).code !== '0A000') throw e;
      // the statement this connection prepared no longer matches the schema: never use it again
      // here, and run this query unnamed (inside a transaction, the transaction has failed anyway)
      avoid.add(name);
      return query(text, values);
    }
  };
  return client;
}

/** The pool Kysely's PostgresDialect uses, handing out clients that name their statements. */
export function preparingPool(pool: pg.Pool) {
  return {
    connect: async () => wrapClient(await pool.connect()),
    end: () => pool.end(),
  };
}
