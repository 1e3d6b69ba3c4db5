/**
 * RecordKeys remembers what it opened with a record's key (document metadata on every listing):
 * a changed sealed value is opened again, nothing opened outlives the record's key, shared values
 * cannot be changed by one caller behind the others' backs, and the memory stays bounded.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RecordKeys } from './record-keys.ts';
import { StaticKeyProvider } from './keys.ts';
import { newDataKey, openJson, sealJson } from './envelope.ts';

const keysWith = (openedSize?: number) => new RecordKeys(new StaticKeyProvider(randomBytes(32)), 10, openedSize);

function counter<T>(key: Buffer, sealed: Buffer, aad: string) {
  const calls = { n: 0 };
  return { calls, open: () => { calls.n++; return openJson<T>(key, sealed, aad); } };
}

test('the same sealed value is opened once; a re-sealed value (new tag) is opened again', () => {
  const keys = keysWith();
  const key = newDataKey();
  const v1 = sealJson(key, { title: 'CR biologie' }, 'doc-meta:r1:d1');
  const c = counter<{ title: string }>(key, v1, 'doc-meta:r1:d1');
  assert.equal(keys.openedValue('r1', 'doc-meta:d1', v1, c.open).title, 'CR biologie');
  assert.equal(keys.openedValue('r1', 'doc-meta:d1', Buffer.from(v1), c.open).title, 'CR biologie');
  assert.equal(c.calls.n, 1);
  const v2 = sealJson(key, { title: 'CR biologie (corrigé)' }, 'doc-meta:r1:d1');
  const c2 = counter<{ title: string }>(key, v2, 'doc-meta:r1:d1');
  assert.equal(keys.openedValue('r1', 'doc-meta:d1', v2, c2.open).title, 'CR biologie (corrigé)');
  assert.equal(c2.calls.n, 1);
});

test('forgetting or destroying a record key drops what was opened with it', () => {
  const keys = keysWith();
  const key = newDataKey();
  const v = sealJson(key, { title: 'x' }, 'a');
  const c = counter(key, v, 'a');
  keys.openedValue('r1', 'p', v, c.open);
  keys.forget('r1');
  keys.openedValue('r1', 'p', v, c.open);
  assert.equal(c.calls.n, 2);
  keys.forgetAll();
  keys.openedValue('r1', 'p', v, c.open);
  assert.equal(c.calls.n, 3);
});

test('a remembered value is deep-frozen: a caller cannot change what the next one gets', () => {
  const keys = keysWith();
  const key = newDataKey();
  const v = sealJson(key, { authors: [{ name: 'Dr A' }] }, 'a');
  const got = keys.openedValue<{ authors: { name: string }[] }>('r1', 'p', v, () => openJson(key, v, 'a'));
  assert.throws(() => { got.authors[0].name = 'Dr B'; }, TypeError);
  assert.throws(() => { got.authors.push({ name: 'Dr C' }); }, TypeError);
  assert.equal(keys.openedValue<{ authors: { name: string }[] }>('r1', 'p', v, () => assert.fail('reopened')).authors[0].name, 'Dr A');
});

test('bounded: past the limit the oldest records are forgotten first', () => {
  const keys = keysWith(4);
  const key = newDataKey();
  const v = sealJson(key, { n: 1 }, 'a');
  const c = counter(key, v, 'a');
  for (const r of ['r1', 'r2', 'r3', 'r4', 'r5']) keys.openedValue(r, 'p', v, c.open);
  assert.equal(c.calls.n, 5);
  keys.openedValue('r5', 'p', v, c.open); // still there
  assert.equal(c.calls.n, 5);
  keys.openedValue('r1', 'p', v, c.open); // the oldest went
  assert.equal(c.calls.n, 6);
});
