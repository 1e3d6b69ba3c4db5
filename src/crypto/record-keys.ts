/**
 * One data key per record, stored only wrapped by the master key. Deleting the wrapped key is the
 * record's crypto-shredding: nothing sealed under it opens again, master key or not.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import { CarnetError } from '../domain/errors.ts';
import { newDataKey, sealedTag } from './envelope.ts';
import type { KeyProvider } from './keys.ts';

export class RecordKeys {
  /** Unwrapped keys of recently used records (bounded; the master key stays the only root). */
  private readonly cache = new Map<string, Buffer>();
  /**
   * Values recently opened with a record's key (document metadata read on every listing), by
   * record, then by place; each remembered with the GCM tag of the sealed value it came from, so a
   * changed value is opened again. Dropped with the record's key (`forget`, `destroy`), so nothing
   * opened stays in memory once a record is crypto-shredded. Bounded like the keys.
   */
  private readonly opened = new Map<string, Map<string, { tag: Buffer; value: unknown }>>();
  private openedCount = 0;

  constructor(
    readonly provider: KeyProvider,
    private readonly cacheSize = 5000,
    private readonly openedSize = 20_000,
  ) {}

  /**
   * `open()`'s result for the sealed value at `place` of the record, from memory when the same
   * sealed value (same authentication tag) was opened before. The value is deep-frozen: callers
   * share it and must copy before changing anything.
   */
  openedValue<T>(recordId: string, place: string, sealed: Uint8Array, open: () => T): T {
    const tag = sealedTag(sealed);
    let byPlace = this.opened.get(recordId);
    const hit = byPlace?.get(place);
    if (hit && tag && hit.tag.equals(tag)) return hit.value as T;
    const value = deepFreeze(open());
    if (!tag) return value;
    if (!byPlace) {
      while (this.openedCount >= this.openedSize && this.opened.size) this.forgetOpened(this.opened.keys().next().value!);
      byPlace = new Map();
      this.opened.set(recordId, byPlace);
    }
    if (!hit) this.openedCount++;
    byPlace.set(place, { tag: Buffer.from(tag), value });
    return value;
  }

  private forgetOpened(recordId: string) {
    const byPlace = this.opened.get(recordId);
    if (!byPlace) return;
    this.openedCount -= byPlace.size;
    this.opened.delete(recordId);
  }

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
    this.forgetOpened(recordId);
  }

  forgetAll() {
    for (const k of this.cache.values()) k.fill(0);
    this.cache.clear();
    this.opened.clear();
    this.openedCount = 0;
  }

  private remember(recordId: string, key: Buffer) {
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(recordId, key);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
