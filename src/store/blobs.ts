/**
 * Document bytes behind a port. The default keeps them in the database (inside the caller's
 * transaction, so a filing is atomic); a filesystem or S3-compatible store would implement the same
 * port for large installations. The store only ever sees sealed bytes.
 */
import { sql, type Kysely } from 'kysely';
import type { Engine } from './db.ts';
import type { DB } from './schema.ts';

export interface BlobStore {
  put(db: Kysely<DB>, recordId: string, id: string, sealed: Buffer): Promise<void>;
  get(db: Kysely<DB>, recordId: string, id: string): Promise<Buffer | undefined>;
}

export class DatabaseBlobStore implements BlobStore {
  /**
   * On PostgreSQL the bytes come back base64-encoded by the server: node-postgres reads every
   * column as text, so a bytea arrives as hex (twice its size) and is decoded in the event loop;
   * base64 is a third shorter and Node decodes it natively about twice as fast (a 240 KB document:
   * ≈ 1.3 → 0.7 ms on the benchmark machine).
   */
  constructor(private readonly engine: Engine = 'sqlite') {}

  async put(db: Kysely<DB>, recordId: string, id: string, sealed: Buffer) {
    await db.insertInto('blobs').values({ id, record_id: recordId, data: sealed }).execute();
  }

  async get(db: Kysely<DB>, recordId: string, id: string) {
    if (this.engine === 'postgres') {
      const row = await db
        .selectFrom('blobs')
        .select(sql<string>`encode(data, 'base64')`.as('data64'))
        .where('record_id', '=', recordId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? Buffer.from(row.data64, 'base64') : undefined;
    }
    const row = await db
      .selectFrom('blobs')
      .select('data')
      .where('record_id', '=', recordId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? Buffer.from(row.data) : undefined;
  }
}
