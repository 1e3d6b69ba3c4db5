/** One-time codes: generated with a CSPRNG, stored only as scrypt hashes, compared in constant time. */
import { randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';

// No 0/O, 1/I/L: codes are typed from a letter.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function newActivationCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

const normalise = (code: string) => code.replace(/[\s-]/g, '').toUpperCase();

export function hashSecret(code: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(normalise(code), salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifySecret(code: string, stored: string | null | undefined): boolean {
  if (!stored) return false;
  const [scheme, saltB64, hashB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = scryptSync(normalise(code), Buffer.from(saltB64, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}
