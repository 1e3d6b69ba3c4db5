/**
 * Password hashing with Node's scrypt (RFC 7914): N = 2^15, r = 8, p = 1 (32 MiB of memory and
 * about a tenth of a second per hash on one core), a 16-byte random salt and a 32-byte key. The
 * parameters are stored with each hash (`scrypt$N$r$p$salt$hash`), so they can be raised later and
 * older hashes still verify. Hashing is asynchronous: it runs on libuv's pool, not the event loop.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { invalid } from '../../domain/errors.ts';

export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

function scrypt(password: string, salt: Buffer, keyLength: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

// 128 · N · r bytes are needed; Node's default ceiling (32 MiB) is exactly that, so leave room
const maxmem = (N: number, r: number) => 256 * N * r;

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = SCRYPT_PARAMS;
  const salt = randomBytes(saltLength);
  const key = await scrypt(password, salt, keyLength, { N, r, p, maxmem: maxmem(N, r) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await scrypt(password, Buffer.from(parts[4], 'base64'), expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(actual, expected);
}

/** A hash that verifies nothing, computed once: unknown accounts cost the same time as known ones. */
let decoy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await decoy);
}

/**
 * The password rules (ANSSI / NIST SP 800-63B spirit): 12 to 128 characters, any characters, no
 * composition rules, and not the person's own INS.
 */
export function checkPasswordPolicy(password: unknown, ins?: string): asserts password is string {
  if (typeof password !== 'string') throw invalid('PASSWORD_MISSING', 'A password is required');
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw invalid('PASSWORD_POLICY', `The password must have ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`, {
      details: { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH },
    });
  }
  if (ins && password.replace(/\s/g, '').includes(ins)) throw invalid('PASSWORD_POLICY', 'The password must not contain the INS');
}
