/**
 * The database blob store gives back exactly the bytes it was given, on both engines (PostgreSQL
 * sends them base64-encoded, with line breaks, which Node decodes), and nothing for an unknown id.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openTestCarnet } from './testing.ts';
import { newRecord } from '../services/testkit.ts';

test('blobs: every byte value and a 300 KB value round-trip exactly; an unknown id is undefined', async () => {
  const c = await openTestCarnet();
  try {
    const { recordId } = await newRecord(c);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const big = randomBytes(300 * 1024);
    const empty = Buffer.alloc(0);
    for (const [id, bytes] of [['b-all', all], ['b-big', big], ['b-empty', empty]] as const) {
      await c.ctx.blobs.put(c.ctx.db, recordId, id, bytes);
      const back = await c.ctx.blobs.get(c.ctx.db, recordId, id);
      assert.ok(back && back.equals(bytes), `${id}: ${back?.length} bytes back for ${bytes.length}`);
    }
    assert.equal(await c.ctx.blobs.get(c.ctx.db, recordId, 'b-none'), undefined);
    assert.equal(await c.ctx.blobs.get(c.ctx.db, 'other-record', 'b-all'), undefined);
  } finally {
    await c.cleanup();
  }
});
