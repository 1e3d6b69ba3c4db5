/**
 * SQLite with group commit, behind Kysely.
 *
 * Why: SQLite has one writer, and with `synchronous = FULL` each COMMIT waits for an fsync of the
 * WAL (≈5 ms on a virtual disk). Every audited request commits (a read's audit entry too), so one
 * commit per request caps the whole server at ~1/fsync requests per second, with the event loop
 * blocked in the fsync (better-sqlite3 is synchronous). Group commit keeps the guarantees and
 * shares the fsync:
 *
 * - Each Kysely transaction (a "logical" transaction) runs inside one physical `BEGIN … COMMIT` as
 *   a SAVEPOINT. The physical COMMIT runs once for all of them: when no transaction is running or
 *   queued at the end of the current event-loop turn (`setImmediate`, so the transactions of the
 *   requests handled in the same turn join the group), or earlier when the group is full
 *   (`maxGroup`) or has been open for `maxDelayMs`.
 * - A logical transaction's `commit` resolves only after that physical COMMIT: callers are told
 *   "committed" only once it is durable, exactly as before. A failed logical transaction is rolled
 *   back to its savepoint and leaves the others intact. Should the physical COMMIT itself fail, every
 *   transaction of the group fails (none of them was acknowledged).
 * - Read-only statements outside a transaction go to a second connection (WAL lets readers run
 *   beside the writer): they see only committed, durable data — never a pending group — and no longer
 *   wait for the writer. Write statements outside a transaction flush the open group first and then
 *   run in autocommit, as before.
 * - Prepared statements are cached per connection (Kysely's own SQLite driver prepares every query
 *   anew).
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

export interface GroupCommitOptions {
  /** The writer connection (pragmas already set). */
  database: BetterSqlite3.Database;
  /** A second connection to the same file for reads outside transactions; none: the writer serves them. */
  reader?: BetterSqlite3.Database;
  /** Most logical transactions per physical commit (bounds the wait of the first one). */
  maxGroup?: number;
  /** Longest a group stays open once it holds a committed transaction. */
  maxDelayMs?: number;
}

export class GroupCommitSqliteDialect implements Dialect {
  constructor(private readonly opts: GroupCommitOptions) {}
  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new GroupCommitSqliteDriver(this.opts);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

class StatementCache {
  private readonly map = new Map<string, BetterSqlite3.Statement>();
  constructor(
    readonly db: BetterSqlite3.Database,
    private readonly max = 2000,
  ) {}
  get(sql: string): BetterSqlite3.Statement {
    let st = this.map.get(sql);
    if (!st) {
      if (this.map.size >= this.max) this.map.clear();
      st = this.db.prepare(sql);
      this.map.set(sql, st);
    }
    return st;
  }
}

function run<R>(st: BetterSqlite3.Statement, parameters: readonly unknown[]): QueryResult<R> {
  if (st.reader) return { rows: st.all(parameters) as R[] };
  const { changes, lastInsertRowid } = st.run(parameters);
  return {
    numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
    insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
    rows: [],
  };
}

/** One `acquireConnection`: holds the writer lock only while it runs a transaction or a write. */
class Lease implements DatabaseConnection {
  locked = false;
  /** The lock was handed over at commit (the lease waits for the group's durability). */
  handedOff = false;
  savepoint?: string;
  constructor(private readonly driver: GroupCommitSqliteDriver) {}
  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return this.driver.execute<R>(this, q);
  }
  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield* this.driver.stream<R>(this, q);
  }
}

export class GroupCommitSqliteDriver implements Driver {
  private readonly writer: StatementCache;
  private readonly reader?: StatementCache;
  private readonly maxGroup: number;
  private readonly maxDelayMs: number;
  private groupSince = 0;
  private flushScheduled = false;
  private locked = false;
  private readonly queue: Array<() => void> = [];
  private physical = false;
  private pending: Waiter[] = [];
  private savepoints = 0;
  /** Groups committed and logical commits they carried (for tests and the benchmark). */
  readonly stats = { groups: 0, commits: 0 };

  constructor(opts: GroupCommitOptions) {
    this.writer = new StatementCache(opts.database);
    this.reader = opts.reader ? new StatementCache(opts.reader) : undefined;
    this.maxGroup = opts.maxGroup ?? 128;
    this.maxDelayMs = opts.maxDelayMs ?? 20;
  }

  async init() {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Lease(this);
  }

  private lock(lease: Lease): Promise<void> | void {
    lease.locked = true;
    if (!this.locked) {
      this.locked = true;
      return;
    }
    return new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private unlock(lease: Lease) {
    if (!lease.locked) return;
    lease.locked = false;
    if (this.physical) {
      const full = this.pending.length >= this.maxGroup || (this.pending.length > 0 && performance.now() - this.groupSince > this.maxDelayMs);
      if (full) this.flush();
      else if (this.queue.length === 0) this.scheduleFlush();
    }
    const next = this.queue.shift();
    if (next) next();
    else this.locked = false;
  }

  /** Commits the group at the end of this event-loop turn, unless a transaction holds the writer then. */
  private scheduleFlush() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // when the writer is busy, its holder's unlock schedules the flush again
      if (!this.locked && this.physical) this.flush();
    });
  }

  private exec(sql: string) {
    this.writer.get(sql).run();
  }

  /** The physical COMMIT of the open group; settles every logical commit waiting on it. */
  private flush() {
    const waiters = this.pending;
    this.pending = [];
    try {
      this.exec('commit');
    } catch (e) {
      try {
        if (this.writer.db.inTransaction) this.exec('rollback');
      } catch {
        /* the connection already rolled back */
      }
      this.physical = false;
      for (const w of waiters) w.reject(e);
      return;
    }
    this.physical = false;
    this.stats.groups++;
    this.stats.commits += waiters.length;
    for (const w of waiters) w.resolve();
  }

  /** SQLite rolled the whole physical transaction back by itself (I/O error, disk full): the group is lost. */
  private groupLost(cause: unknown) {
    this.physical = false;
    const waiters = this.pending;
    this.pending = [];
    const err = new Error('The group transaction was rolled back by SQLite', { cause });
    for (const w of waiters) w.reject(err);
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    const lease = conn as Lease;
    await this.lock(lease);
    try {
      if (!this.physical) {
        // IMMEDIATE: the write lock is taken at once (waiting busy_timeout for another process), so a
        // group that started by reading never fails to upgrade on a snapshot another process moved
        this.exec('begin immediate');
        this.physical = true;
      }
      lease.savepoint = `gc_${++this.savepoints}`;
      this.exec(`savepoint ${lease.savepoint}`);
    } catch (e) {
      this.unlock(lease);
      throw e;
    }
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    const lease = conn as Lease;
    this.exec(`release savepoint ${lease.savepoint}`);
    lease.savepoint = undefined;
    if (!this.pending.length) this.groupSince = performance.now();
    const durable = new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
    lease.handedOff = true;
    this.unlock(lease);
    await durable;
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    const lease = conn as Lease;
    const sp = lease.savepoint;
    lease.savepoint = undefined;
    if (!sp) return;
    if (this.writer.db.inTransaction) {
      this.exec(`rollback to savepoint ${sp}`);
      this.exec(`release savepoint ${sp}`);
    } else {
      this.groupLost(new Error('transaction aborted'));
    }
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    const lease = conn as Lease;
    if (lease.savepoint) {
      // released without commit or rollback (should not happen with Kysely): undo its work
      await this.rollbackTransaction(lease);
    }
    if (!lease.handedOff) this.unlock(lease);
  }

  async execute<R>(lease: Lease, q: CompiledQuery): Promise<QueryResult<R>> {
    if (lease.savepoint) {
      try {
        return run<R>(this.writer.get(q.sql), q.parameters);
      } catch (e) {
        if (!this.writer.db.inTransaction) this.groupLost(e);
        throw e;
      }
    }
    const readerSt = this.reader?.get(q.sql);
    if (readerSt?.readonly) return run<R>(readerSt, q.parameters);
    // a statement outside any transaction: on the writer, after the open group is committed
    await this.lock(lease);
    try {
      if (this.physical) this.flush();
      return run<R>(this.writer.get(q.sql), q.parameters);
    } finally {
      this.unlock(lease);
    }
  }

  async *stream<R>(lease: Lease, q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (lease.savepoint) {
      const st = this.writer.get(q.sql);
      if (!st.reader) throw new Error('SQLite only streams select queries');
      for (const row of st.iterate(q.parameters)) yield { rows: [row as R] };
      return;
    }
    const readerSt = this.reader?.get(q.sql);
    if (readerSt?.readonly) {
      for (const row of readerSt.iterate(q.parameters)) yield { rows: [row as R] };
      return;
    }
    await this.lock(lease);
    try {
      if (this.physical) this.flush();
      const st = this.writer.get(q.sql);
      if (!st.reader) throw new Error('SQLite only streams select queries');
      for (const row of st.iterate(q.parameters)) yield { rows: [row as R] };
    } finally {
      this.unlock(lease);
    }
  }

  async destroy(): Promise<void> {
    if (this.physical) this.flush();
    this.reader?.db.close();
    this.writer.db.close();
  }
}
