/**
 * AES-256-GCM sealing with Node's crypto. A sealed value is `v1 | iv(12) | tag(16) | ciphertext`;
 * the associated data binds it to its place (record id, purpose), so a sealed value moved to
 * another record or column does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CarnetError } from '../domain/errors.ts';

const VERSION = 1;
const IV_LEN = 12;
const TAG_LEN = 16;

export function seal(key: Buffer, plaintext: Buffer | string, aad: string): Buffer {
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 1 + IV_LEN + TAG_LEN || sealed[0] !== VERSION) {
    throw new CarnetError('CRYPTO_BAD_CIPHERTEXT', 'conflict', 'Sealed value has an unknown format');
  }
  const iv = sealed.subarray(1, 1 + IV_LEN);
  const tag = sealed.subarray(1 + IV_LEN, 1 + IV_LEN + TAG_LEN);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_LEN + TAG_LEN)), decipher.final()]);
  } catch (cause) {
    throw new CarnetError('CRYPTO_OPEN_FAILED', 'conflict', 'Sealed value does not open with this key', { cause });
  }
}

/**
 * The GCM authentication tag of a sealed value: it identifies the ciphertext (two different sealed
 * values never share it in practice), without opening anything. Undefined when not a v1 value.
 */
export function sealedTag(sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < 1 + IV_LEN + TAG_LEN || sealed[0] !== VERSION) return undefined;
  return sealed.subarray(1 + IV_LEN, 1 + IV_LEN + TAG_LEN);
}

export const sealJson = (key: Buffer, value: unknown, aad: string) => seal(key, JSON.stringify(value), aad);
export const openJson = <T>(key: Buffer, sealed: Buffer, aad: string): T =>
  JSON.parse(open(key, sealed, aad).toString('utf8')) as T;

export const newDataKey = () => randomBytes(32);
