/**
 * Document bytes behind a port. The default keeps them in the database (inside the caller's
 * transaction, so a filing is atomic); a filesystem or S3-compatible store would implement the same
 * port for large installations. The store only ever sees sealed bytes.
 */
import type { Kysely } from 'kysely';
import type { DB } from './schema.ts';

export interface BlobStore {
  put(db: Kysely<DB>, recordId: string, id: string, sealed: Buffer): Promise<void>;
  get(db: Kysely<DB>, recordId: string, id: string): Promise<Buffer | undefined>;
}

export class DatabaseBlobStore implements BlobStore {
  async put(db: Kysely<DB>, recordId: string, id: string, sealed: Buffer) {
    await db.insertInto('blobs').values({ id, record_id: recordId, data: sealed }).execute();
  }

  async get(db: Kysely<DB>, recordId: string, id: string) {
    const row = await db
      .selectFrom('blobs')
      .select('data')
      .where('record_id', '=', recordId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? Buffer.from(row.data) : undefined;
  }
}
