/**
 * Strict base64 (FHIR base64Binary): the character scan accepts exactly what the reference
 * pattern accepts, on random strings over the alphabet, its padding and junk.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBase64, isBase64 } from './read.ts';

const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const chars = fc.constantFrom(...'AZaz09+/====-_.* é\u0000'.split(''));

test('isBase64 accepts exactly the reference pattern\'s language', () => {
  fc.assert(fc.property(fc.array(chars, { maxLength: 14 }).map((a) => a.join('')), (s) => isBase64(s) === REFERENCE.test(s)), { numRuns: 20_000 });
  for (const s of ['', 'QQ==', 'QUI=', 'QUJD', 'Q===', 'QQ=A', 'QUJ', '=QQQ', 'QU-D', 'QU_D']) assert.equal(isBase64(s), REFERENCE.test(s), s);
});

test('decodeBase64: whitespace is ignored, junk refused, bytes exact', () => {
  const bytes = Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"/>\n', 'utf8');
  const b64 = bytes.toString('base64');
  assert.deepEqual(decodeBase64(b64, 'Binary.data'), bytes);
  assert.deepEqual(decodeBase64(` ${b64.slice(0, 8)}\n${b64.slice(8)}\t`, 'Binary.data'), bytes);
  assert.throws(() => decodeBase64(b64.replace('+', '-') + '-', 'Binary.data'), (e: Error & { code?: string }) => /base64/.test(e.message));
  assert.throws(() => decodeBase64('QQ=A', 'Binary.data'), /base64/);
});
