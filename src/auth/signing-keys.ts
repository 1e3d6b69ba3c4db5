/**
 * Carnet's own token-signing key: the key every access token is signed with, and whose public half
 * resource servers (Carnet itself, or anyone reading `publicJwks()`) verify against.
 *
 * ES256 (ECDSA P-256, SHA-256) rather than EdDSA: it is the algorithm every JWT stack a hospital
 * runs can verify today (Java, .NET, older OpenSSL builds, HSMs and cloud KMS all do P-256; Ed25519
 * JWS support is still missing or recent in several of them), it is the algorithm IHE IUA
 * recommends, and keys are small, so tokens stay short.
 *
 * On disk: one private JWK in `<dir>/signing-key.json`, created with mode 0600 through a temporary
 * file and an exclusive `link`, so two processes starting at once end up with the same key and a
 * crash never leaves a half-written key behind. A key file readable by group or others is refused.
 */
import { mkdir, open, link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { CarnetError } from '../domain/errors.ts';

export const TOKEN_SIGNING_ALG = 'ES256' as const;
export const SIGNING_KEY_FILE = 'signing-key.json';

export interface TokenSigner {
  /** JWK thumbprint (RFC 7638) of the public key; goes into every token's `kid` header. */
  readonly kid: string;
  readonly alg: typeof TOKEN_SIGNING_ALG;
  /** Signs `claims` as a compact JWS with header `{ alg, kid, typ }`. Claims are used as given. */
  sign(claims: JWTPayload, typ: string): Promise<string>;
}

export interface SigningKey extends TokenSigner {
  /** The public JWK Set to publish (no private members). */
  publicJwks(): { keys: JWK[] };
  /** Key resolver for `verifyAccessToken` (jose `JWTVerifyGetKey` over `publicJwks()`). */
  readonly verifier: JWTVerifyGetKey;
}

/** Loads `<dir>/signing-key.json`, creating it (mode 0600) on first start. */
export async function loadOrCreateSigningKey(dir: string): Promise<SigningKey> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, SIGNING_KEY_FILE);
  try {
    return await loadKeyFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { privateKey } = await generateKeyPair(TOKEN_SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const stored: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: TOKEN_SIGNING_ALG, use: 'sig' };

  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(stored, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, file); // fails with EEXIST if another process created the key meanwhile
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }
  await unlink(tmp).catch(() => {});
  await syncDir(dir);
  return loadKeyFile(file);
}

/** A fresh key that lives only in memory (tests, one-off tools). */
export async function createInMemorySigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_SIGNING_ALG);
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return makeSigningKey(privateKey, { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: TOKEN_SIGNING_ALG, use: 'sig' });
}

async function loadKeyFile(file: string): Promise<SigningKey> {
  const fh = await open(file, 'r');
  let text: string;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw keyInvalid('the signing key path is not a regular file', file);
    // Windows has no POSIX modes to check; everywhere else group/other access is refused.
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new CarnetError(
        'SIGNING_KEY_INSECURE',
        'invalid',
        `refusing to use ${file}: its mode is ${(st.mode & 0o777).toString(8).padStart(3, '0')}, it must be 600 (chmod 600 ${file})`,
        { details: { file, mode: (st.mode & 0o777).toString(8) } },
      );
    }
    text = await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw keyInvalid('the signing key file is not JSON', file);
  }
  if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'EC' || jwk.crv !== 'P-256' ||
      typeof jwk.d !== 'string' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw keyInvalid('the signing key file does not hold a private P-256 (ES256) JWK', file);
  }
  const pub: JWK = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  const kid = await calculateJwkThumbprint(pub);
  if (jwk.kid !== undefined && jwk.kid !== kid) {
    throw keyInvalid('the signing key file `kid` is not the thumbprint of its key', file);
  }
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, d: jwk.d }, TOKEN_SIGNING_ALG)) as CryptoKey;
  } catch (cause) {
    throw keyInvalid('the signing key file holds an unusable key', file, cause);
  }
  return makeSigningKey(privateKey, { ...pub, kid, alg: TOKEN_SIGNING_ALG, use: 'sig' });
}

function makeSigningKey(privateKey: CryptoKey, publicJwk: JWK): SigningKey {
  const kid = publicJwk.kid!;
  const jwks = { keys: [publicJwk] };
  return {
    kid,
    alg: TOKEN_SIGNING_ALG,
    sign: (claims, typ) => new SignJWT(claims).setProtectedHeader({ alg: TOKEN_SIGNING_ALG, kid, typ }).sign(privateKey),
    publicJwks: () => ({ keys: jwks.keys.map((k) => ({ ...k })) }),
    verifier: createLocalJWKSet(jwks),
  };
}

function keyInvalid(message: string, file: string, cause?: unknown): CarnetError {
  return new CarnetError('SIGNING_KEY_INVALID', 'invalid', `${message}: ${file}`, { details: { file }, cause });
}

/** fsync the directory so the new link survives a power cut (best effort: not all platforms allow it). */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* not supported here (Windows); the key file itself was synced */
  }
}
