import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIns, insFacts, insKey, insKindOfOid, insSystem, isValidIns, parseIns, INS_OIDS } from './ins.ts';
import { CarnetError } from './errors.ts';
import { FIXTURES_ROOT } from '../fixtures.ts';

const FIXTURES = FIXTURES_ROOT;

/** Independent reference for the key: Corsica handled as in the INSEE note (A/B read as 0, then
 *  subtract 1 000 000 for 2A and 2 000 000 for 2B), not by the 19/18 substitution the code uses. */
function referenceKey(body13: string): string {
  const b = body13.toUpperCase();
  let n = BigInt(b.replace(/[AB]/, '0'));
  if (b.slice(5, 7) === '2A') n -= 1_000_000n;
  if (b.slice(5, 7) === '2B') n -= 2_000_000n;
  return String(97n - (n % 97n)).padStart(2, '0');
}

function assertCode(fn: () => unknown, code: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CarnetError, 'expected a CarnetError');
    assert.equal(e.code, code);
    assert.equal(e.kind, 'invalid');
    return true;
  });
}

function errorOf(fn: () => unknown): CarnetError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CarnetError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('insKey', () => {
  test('published examples', () => {
    // 2 55 08 14 168 025 38 (the classic Wikipedia example), 1 89 12 75 125 012 82 (mathweb.fr)
    assert.equal(insKey('2550814168025'), '38');
    assert.equal(insKey('1891275125012'), '82');
  });

  test('pads keys below 10 with a zero', () => {
    // Find a body whose key is a single digit by walking the order number; the key is 2 digits.
    let found = false;
    for (let i = 0; i < 200 && !found; i++) {
      const body = `1800175001${String(i).padStart(3, '0')}`;
      const k = insKey(body);
      assert.equal(k.length, 2);
      assert.equal(k, referenceKey(body));
      if (k.startsWith('0')) found = true;
    }
    assert.ok(found, 'some key below 10 should appear within 200 consecutive order numbers');
  });

  test('Corsica 2A and 2B agree with the subtract-a-million formulation', () => {
    for (const body of ['185052A004123', '185052B004123', '299092A000101', '192112B033045']) {
      assert.equal(body.length, 13);
      assert.equal(insKey(body), referenceKey(body));
    }
    assert.notEqual(insKey('185052A004123'), insKey('185052B004123'));
    assert.equal(insKey('185052a004123'), insKey('185052A004123'));
  });

  test('random bodies agree with the reference', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      let body = String(1 + Math.floor(rnd() * 2));
      while (body.length < 13) body += Math.floor(rnd() * 10);
      assert.equal(insKey(body), referenceKey(body));
    }
  });

  test('rejects malformed bodies', () => {
    assertCode(() => insKey('123'), 'INS_LENGTH');
    assertCode(() => insKey('18505X2004123'), 'INS_CHARACTERS');
  });
});

describe('parseIns: valid numbers', () => {
  test('fixture test INS (OID .4.10) and NIR (.4.8) with verified keys', () => {
    const a = parseIns('279035121518989', '1.2.250.1.213.1.4.10');
    assert.deepEqual(a, { value: '279035121518989', oid: '1.2.250.1.213.1.4.10', kind: 'TEST' });
    const b = parseIns('277076322082910', '1.2.250.1.213.1.4.8');
    assert.equal(b.kind, 'NIR');
    const c = parseIns('277076322082910');
    assert.equal(c.oid, INS_OIDS.NIR, 'default OID is the NIR');
  });

  test('accepts the urn:oid: prefix and normalises the OID', () => {
    const i = parseIns('279035121518989', 'urn:oid:1.2.250.1.213.1.4.10');
    assert.equal(i.oid, '1.2.250.1.213.1.4.10');
    assert.equal(insSystem(i), 'urn:oid:1.2.250.1.213.1.4.10');
    assert.equal(parseIns('279035121518989', 'urn:oid:1.2.250.1.213.1.4.11').kind, 'DEMO');
  });

  test('spaces are removed, lower-case 2a/2b upper-cased', () => {
    const body = '185052A004123';
    const key = referenceKey(body);
    const spaced = `1 85 05 2a 004 123 ${key}`;
    const i = parseIns(spaced);
    assert.equal(i.value, body + key);
    assert.equal(i.value.length, 15);
    assert.equal(formatIns(i), `1 85 05 2A 004 123 ${key}`);
    assert.equal(parseIns(` ${body}${key}\t`).value, body + key);
  });

  test('Corsica 2A and 2B with correct keys', () => {
    for (const body of ['185052A004123', '185052B004123']) {
      assert.equal(parseIns(body + referenceKey(body)).value, body + referenceKey(body));
    }
  });

  test('pseudo-months accepted', () => {
    for (const mm of ['20', '30', '35', '42', '50', '99']) {
      const body = `175${mm}99350001`;
      assert.doesNotThrow(() => parseIns(body + referenceKey(body)), `month ${mm}`);
    }
  });

  test('NIA accepts provisional sex digits 3, 4, 7, 8; NIR does not', () => {
    for (const s of ['3', '4', '7', '8']) {
      const body = `${s}800399123045`;
      const ins = body + referenceKey(body);
      assert.equal(parseIns(ins, INS_OIDS.NIA).kind, 'NIA');
      assertCode(() => parseIns(ins, INS_OIDS.NIR), 'INS_SEX');
      assertCode(() => parseIns(ins, INS_OIDS.TEST), 'INS_SEX');
    }
  });

  test('isValidIns mirrors parseIns', () => {
    assert.equal(isValidIns('279035121518989', INS_OIDS.TEST), true);
    assert.equal(isValidIns('279035121518988', INS_OIDS.TEST), false);
  });

  test('insFacts reads sex, year, month and department', () => {
    const f = insFacts(parseIns('279035121518989', INS_OIDS.TEST));
    assert.deepEqual(f, { sex: 'F', yearOfBirth2: '79', monthOfBirth: 3, department: '51' });
    const body = '175209935000';
    const p = parseIns(`${body}1${referenceKey(body + '1')}`);
    assert.equal(insFacts(p).monthOfBirth, undefined, 'pseudo-month has no real month');
    assert.equal(insFacts(p).sex, 'M');
  });

  test('insKindOfOid', () => {
    assert.equal(insKindOfOid('1.2.250.1.213.1.4.9'), 'NIA');
    assert.equal(insKindOfOid('urn:oid:1.2.250.1.213.1.4.8'), 'NIR');
    assert.equal(insKindOfOid('1.2.250.1.213.1.4.12'), undefined);
  });
});

describe('parseIns: invalid numbers', () => {
  test('the three fixture INS with a wrong key fail with INS_KEY', () => {
    for (const v of ['221042545611404', '223042545611404', '222127505611201']) {
      assertCode(() => parseIns(v, '1.2.250.1.213.1.4.8'), 'INS_KEY');
      assertCode(() => parseIns(v, '1.2.250.1.213.1.4.10'), 'INS_KEY');
    }
  });

  test('fixture VAC_2023.01 carries a fourth wrong key the README does not list', () => {
    // 2760592050628 → 97 − (n mod 97) = 83, the document says 65.
    assert.equal(referenceKey('2760592050628'), '83');
    assertCode(() => parseIns('276059205062865', INS_OIDS.NIR), 'INS_KEY');
  });

  test('every INS found in the CDA fixtures passes, except the wrong keys', () => {
    const dir = join(FIXTURES, 'cda');
    const wrong = new Set(['221042545611404', '223042545611404', '222127505611201', '276059205062865']);
    const re = /<id\s+(?:extension="([^"]*)"\s+root="(1\.2\.250\.1\.213\.1\.4\.(?:8|9|10|11))"|root="(1\.2\.250\.1\.213\.1\.4\.(?:8|9|10|11))"\s+extension="([^"]*)")/g;
    let seen = 0;
    const failures: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.xml'))) {
      const xml = readFileSync(join(dir, f), 'utf8');
      for (const m of xml.matchAll(re)) {
        const ext = m[1] ?? m[4];
        const root = m[2] ?? m[3];
        seen++;
        const ok = isValidIns(ext, root);
        if (ok === wrong.has(ext)) failures.push(`${f}: ${ext} ok=${ok}`);
        if (wrong.has(ext)) assertCode(() => parseIns(ext, root), 'INS_KEY');
      }
    }
    assert.ok(seen > 50, `expected many INS in the fixtures, saw ${seen}`);
    assert.deepEqual(failures, []);
  });

  test('Corsica with a wrong key', () => {
    const body = '185052A004123';
    const good = Number(referenceKey(body));
    const bad = String(good === 97 ? 1 : good + 1).padStart(2, '0');
    assertCode(() => parseIns(body + bad), 'INS_KEY');
    // 2A and 2B do not share a key: the 2B key on a 2A number fails.
    assertCode(() => parseIns(body + referenceKey('185052B004123')), 'INS_KEY');
  });

  test('a single changed digit breaks the key', () => {
    const v = '279035121518989';
    for (let i = 0; i < 13; i++) {
      const d = (Number(v[i]) + 1) % 10;
      const changed = v.slice(0, i) + d + v.slice(i + 1);
      const e = errorOf(() => parseIns(changed, INS_OIDS.TEST));
      assert.ok(['INS_KEY', 'INS_SEX', 'INS_MONTH'].includes(e.code), `${i}: ${e.code}`);
    }
  });

  test('empty', () => {
    assertCode(() => parseIns(''), 'INS_EMPTY');
    assertCode(() => parseIns('   '), 'INS_EMPTY');
  });

  test('14 and 16 characters', () => {
    const e14 = errorOf(() => parseIns('27903512151898'));
    assert.equal(e14.code, 'INS_LENGTH');
    assert.deepEqual(e14.details, { expectedLength: 15, actualLength: 14 });
    const e16 = errorOf(() => parseIns('2790351215189890'));
    assert.equal(e16.code, 'INS_LENGTH');
    assert.equal(e16.details?.actualLength, 16);
  });

  test('letters elsewhere than Corsica positions', () => {
    const e = errorOf(() => parseIns('2790351X1518989', INS_OIDS.TEST));
    assert.equal(e.code, 'INS_CHARACTERS');
    assert.equal(e.details?.position, 8);
    assertCode(() => parseIns('2A9035121518989'), 'INS_CHARACTERS');
    assertCode(() => parseIns('18505A2004123' + '00'), 'INS_CHARACTERS'); // A2 is not 2A
    assertCode(() => parseIns('185052C004123' + '00'), 'INS_CHARACTERS'); // 2C does not exist
    assertCode(() => parseIns('1850520041234A'.padEnd(15, 'B')), 'INS_CHARACTERS'); // letters in the key
    assertCode(() => parseIns('279.035121518989'.replace('.', '-').slice(0, 15)), 'INS_CHARACTERS');
  });

  test('bad sex digit', () => {
    for (const s of ['0', '5', '9']) {
      const body = `${s}790351215189`;
      const e = errorOf(() => parseIns(body + referenceKey(body)));
      assert.equal(e.code, 'INS_SEX');
      assert.equal(e.details?.position, 1);
    }
    const body = '9790351215189';
    assertCode(() => parseIns(body + referenceKey(body), INS_OIDS.NIA), 'INS_SEX');
  });

  test('bad month', () => {
    for (const mm of ['00', '13', '19', '43', '49', '51', '98']) {
      const body = `279${mm}51215189`;
      assertCode(() => parseIns(body + referenceKey(body)), 'INS_MONTH');
    }
  });

  test('unknown OID', () => {
    assertCode(() => parseIns('279035121518989', '1.2.250.1.213.1.4.12'), 'INS_OID');
    assertCode(() => parseIns('279035121518989', '1.2.250.1.71.4.2.1'), 'INS_OID');
    assertCode(() => parseIns('279035121518989', ''), 'INS_OID');
  });

  test('messages never echo the number', () => {
    const cases = ['279035121518988', '27903512151898', '2790351X1518989', '279135121518989'];
    for (const v of cases) {
      const e = errorOf(() => parseIns(v, INS_OIDS.TEST));
      assert.ok(!e.message.includes(v), e.message);
      assert.ok(!e.message.includes(v.slice(0, 13)), e.message);
      assert.ok(!JSON.stringify(e.details ?? {}).includes(v.slice(0, 10)));
    }
  });
});

test('formatIns', () => {
  assert.equal(formatIns(parseIns('279035121518989', INS_OIDS.TEST)), '2 79 03 51 215 189 89');
  assert.equal(formatIns('279035121518989'), '2 79 03 51 215 189 89');
});
