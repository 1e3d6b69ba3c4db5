import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from 'jose';
import { createInMemorySigningKey, loadOrCreateSigningKey, SIGNING_KEY_FILE } from './signing-keys.ts';
import { CarnetError } from '../domain/errors.ts';

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'carnet-auth-'));
  try {
    await fn(join(dir, 'keys'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const posix = process.platform !== 'win32';

test('first start creates a 0600 private JWK whose kid is its thumbprint; next start loads the same key', async () => {
  await withDir(async (dir) => {
    const a = await loadOrCreateSigningKey(dir);
    const file = join(dir, SIGNING_KEY_FILE);
    if (posix) assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(stored.kty, 'EC');
    assert.equal(stored.crv, 'P-256');
    assert.equal(typeof stored.d, 'string');
    assert.equal(stored.kid, await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: stored.x, y: stored.y }));
    assert.equal(a.kid, stored.kid);

    const b = await loadOrCreateSigningKey(dir);
    assert.equal(b.kid, a.kid);
    // A token signed after the restart verifies with the key published before it.
    const jwt = await b.sign({ sub: 'x' }, 'at+jwt');
    assert.equal(decodeProtectedHeader(jwt).kid, a.kid);
    assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
    const { payload } = await jwtVerify(jwt, a.verifier);
    assert.equal(payload.sub, 'x');
  });
});

test('publicJwks publishes the public half only', async () => {
  await withDir(async (dir) => {
    const k = await loadOrCreateSigningKey(dir);
    const jwks = k.publicJwks();
    assert.equal(jwks.keys.length, 1);
    const [pub] = jwks.keys;
    assert.equal(pub.d, undefined);
    assert.equal(pub.kid, k.kid);
    assert.equal(pub.alg, 'ES256');
    assert.equal(pub.use, 'sig');
    // Callers cannot alter the key set through the returned object.
    pub.kid = 'tampered';
    assert.equal(k.publicJwks().keys[0].kid, k.kid);
  });
});

test('two processes starting at once end with one key', async () => {
  await withDir(async (dir) => {
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateSigningKey(dir)));
    assert.equal(new Set(keys.map((k) => k.kid)).size, 1);
  });
});

test('a key file readable by others is refused', { skip: !posix && 'POSIX modes only' }, async () => {
  await withDir(async (dir) => {
    await loadOrCreateSigningKey(dir);
    const file = join(dir, SIGNING_KEY_FILE);
    for (const mode of [0o644, 0o640, 0o604]) {
      await chmod(file, mode);
      await assert.rejects(loadOrCreateSigningKey(dir), (e: unknown) => {
        assert.ok(e instanceof CarnetError);
        assert.equal(e.code, 'SIGNING_KEY_INSECURE');
        assert.match(e.message, /chmod 600/);
        return true;
      });
    }
    await chmod(file, 0o600);
    await loadOrCreateSigningKey(dir);
  });
});

test('a corrupted or mislabelled key file is refused, not replaced', async () => {
  await withDir(async (dir) => {
    const k = await loadOrCreateSigningKey(dir);
    const file = join(dir, SIGNING_KEY_FILE);
    const stored = JSON.parse(await readFile(file, 'utf8'));

    await writeFile(file, JSON.stringify({ ...stored, kid: 'not-the-thumbprint' }), { mode: 0o600 });
    await assert.rejects(loadOrCreateSigningKey(dir), { code: 'SIGNING_KEY_INVALID' });

    await writeFile(file, JSON.stringify({ ...stored, d: undefined }), { mode: 0o600 });
    await assert.rejects(loadOrCreateSigningKey(dir), { code: 'SIGNING_KEY_INVALID' });

    await writeFile(file, '{ not json', { mode: 0o600 });
    await assert.rejects(loadOrCreateSigningKey(dir), { code: 'SIGNING_KEY_INVALID' });

    // The broken file is still there: Carnet never silently mints a new key over it.
    assert.equal(await readFile(file, 'utf8'), '{ not json');
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
    assert.equal((await loadOrCreateSigningKey(dir)).kid, k.kid);
  });
});

test('in-memory keys are distinct and verify only their own tokens', async () => {
  const a = await createInMemorySigningKey();
  const b = await createInMemorySigningKey();
  assert.notEqual(a.kid, b.kid);
  const jwt = await a.sign({ sub: 'y' }, 'at+jwt');
  await jwtVerify(jwt, a.verifier);
  await assert.rejects(jwtVerify(jwt, b.verifier));
});
