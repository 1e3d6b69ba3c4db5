/**
 * One data key per record, stored only wrapped by the master key. Deleting the wrapped key is the
 * record's crypto-shredding: nothing sealed under it opens again, master key or not.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import { CarnetError } from '../domain/errors.ts';
import { newDataKey } from './envelope.ts';
import type { KeyProvider } from './keys.ts';

export class RecordKeys {
  /** Unwrapped keys of recently used records (bounded; the master key stays the only root). */
  private readonly cache = new Map<string, Buffer>();

  constructor(
    readonly provider: KeyProvider,
    private readonly cacheSize = 5000,
  ) {}

  async create(db: Kysely<DB>, recordId: string, now: Date): Promise<Buffer> {
    const key = newDataKey();
    const { keyId, wrapped } = this.provider.wrap(key, recordId);
    await db
      .insertInto('record_keys')
      .values({ record_id: recordId, wrapped_key: wrapped, master_key_id: keyId, created_at: now.toISOString() })
      .execute();
    this.remember(recordId, key);
    return key;
  }

  async get(db: Kysely<DB>, recordId: string): Promise<Buffer> {
    const hit = this.cache.get(recordId);
    if (hit) return hit;
    const row = await db
      .selectFrom('record_keys')
      .select(['wrapped_key', 'master_key_id'])
      .where('record_id', '=', recordId)
      .executeTakeFirst();
    if (!row) {
      throw new CarnetError('RECORD_KEY_DESTROYED', 'gone', 'This record has been deleted; its content can no longer be decrypted');
    }
    const key = this.provider.unwrap(row.master_key_id, Buffer.from(row.wrapped_key), recordId);
    this.remember(recordId, key);
    return key;
  }

  async destroy(db: Kysely<DB>, recordId: string): Promise<void> {
    await db.deleteFrom('record_keys').where('record_id', '=', recordId).execute();
    this.forget(recordId);
  }

  forget(recordId: string) {
    const k = this.cache.get(recordId);
    if (k) k.fill(0);
    this.cache.delete(recordId);
  }

  forgetAll() {
    for (const k of this.cache.values()) k.fill(0);
    this.cache.clear();
  }

  private remember(recordId: string, key: Buffer) {
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(recordId, key);
  }
}
