import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IDENTITY_STATUSES,
  PROFESSIONS,
  assertQualified,
  checkFiness,
  profession,
  insContradictsTraits,
  isCalendarDate,
  isHealthProfession,
  isHighTrustDocument,
  isPhysician,
  isQualified,
  isSocialProfession,
  luhnValid,
  parseAuthorSpecialty,
  parseFiness,
  parseProfessionCode,
  parseRpps,
  parseSpecialty,
  parseStructureId,
  professionLabel,
  qualify,
  validateTraits,
  type IdentityStatus,
  type Traits,
} from './identity.ts';
import { parseIns, INS_OIDS } from './ins.ts';
import { CarnetError } from './errors.ts';
import { FIXTURES_ROOT } from '../fixtures.ts';

const FIXTURES = FIXTURES_ROOT;

function codeOf(fn: () => unknown): { code: string; kind: string; details?: Record<string, unknown>; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof CarnetError) return { code: e.code, kind: e.kind, details: e.details, message: e.message };
    throw e;
  }
  throw new Error('expected a CarnetError');
}

/** Textbook Luhn, written independently of the module: append the check digit to a payload. */
function withLuhn(payload: string): string {
  let sum = 0;
  const digits = payload.split('').reverse().map(Number);
  digits.forEach((d, i) => {
    // the check digit will sit at position 0, so payload digits at even i are doubled
    let x = i % 2 === 0 ? d * 2 : d;
    if (x > 9) x -= 9;
    sum += x;
  });
  return payload + String((10 - (sum % 10)) % 10);
}

const traits = (over: Partial<Traits> = {}): Traits => ({
  birthName: 'MARTIN',
  firstNames: ['Jeanne', 'Marie'],
  sex: 'F',
  birthDate: '1979-03-12',
  birthPlaceCode: '51454',
  ...over,
});

describe('validateTraits', () => {
  test('valid traits are returned normalised', () => {
    const t = validateTraits(traits({ birthName: '  DE  LA   FONTAINE ', firstNames: [' Jean-Pierre', "Zoé"], birthPlaceCode: '2a004' }));
    assert.equal(t.birthName, 'DE LA FONTAINE');
    assert.deepEqual(t.firstNames, ['Jean-Pierre', 'Zoé']);
    assert.equal(t.birthPlaceCode, '2A004');
  });

  test('apostrophes, hyphens, accents and other scripts are letters', () => {
    for (const name of ["N'DIAYE", 'O’BRIEN', 'ÉLODIE-ANNE', 'Müller', 'Ngô', 'Łukasz']) {
      assert.doesNotThrow(() => validateTraits(traits({ birthName: name })), name);
    }
  });

  test('birth place is optional; foreign country codes 99xxx accepted', () => {
    const { birthPlaceCode, ...rest } = traits();
    void birthPlaceCode;
    assert.equal(validateTraits(rest as Traits).birthPlaceCode, undefined);
    assert.equal(validateTraits(traits({ birthPlaceCode: '99350' })).birthPlaceCode, '99350');
  });

  const bad: Array<[string, Partial<Traits>, string]> = [
    ['empty birth name', { birthName: '  ' }, 'TRAITS_BIRTH_NAME'],
    ['digits in birth name', { birthName: 'MARTIN2' }, 'TRAITS_BIRTH_NAME'],
    ['leading hyphen', { birthName: '-MARTIN' }, 'TRAITS_BIRTH_NAME'],
    ['too long', { birthName: 'A'.repeat(101) }, 'TRAITS_BIRTH_NAME'],
    ['no first names', { firstNames: [] }, 'TRAITS_FIRST_NAMES'],
    ['blank first name', { firstNames: ['Jeanne', ' '] }, 'TRAITS_FIRST_NAMES'],
    ['sex X', { sex: 'X' as Traits['sex'] }, 'TRAITS_SEX'],
    ['date format', { birthDate: '12/03/1979' }, 'TRAITS_BIRTH_DATE'],
    ['31 February', { birthDate: '1979-02-31' }, 'TRAITS_BIRTH_DATE'],
    ['month 13', { birthDate: '1979-13-01' }, 'TRAITS_BIRTH_DATE'],
    ['partial date', { birthDate: '1979-03' }, 'TRAITS_BIRTH_DATE'],
    ['birth place 4 digits', { birthPlaceCode: '7505' }, 'TRAITS_BIRTH_PLACE'],
    ['birth place 2C', { birthPlaceCode: '2C004' }, 'TRAITS_BIRTH_PLACE'],
  ];
  for (const [name, over, code] of bad) {
    test(`refuses ${name} with ${code}`, () => {
      const e = codeOf(() => validateTraits(traits(over)));
      assert.equal(e.code, code);
      assert.equal(e.kind, 'invalid');
      assert.ok(!e.message.includes('MARTIN') && !e.message.includes('Jeanne'), 'no names in messages');
    });
  }

  test('a birth date after now is refused only when now is given', () => {
    const now = new Date('2026-01-15T10:00:00Z');
    assert.equal(codeOf(() => validateTraits(traits({ birthDate: '2026-01-16' }), now)).code, 'TRAITS_BIRTH_DATE');
    assert.doesNotThrow(() => validateTraits(traits({ birthDate: '2026-01-15' }), now));
    assert.doesNotThrow(() => validateTraits(traits({ birthDate: '2026-01-16' })));
  });

  test('isCalendarDate knows leap years', () => {
    assert.equal(isCalendarDate('2024-02-29'), true);
    assert.equal(isCalendarDate('2023-02-29'), false);
    assert.equal(isCalendarDate('1900-02-29'), false);
    assert.equal(isCalendarDate('2000-02-29'), true);
  });
});

describe('insContradictsTraits', () => {
  const ins = parseIns('279035121518989', INS_OIDS.TEST); // F, 1979, March
  test('consistent traits', () => {
    assert.deepEqual(insContradictsTraits(ins, traits()), []);
    assert.deepEqual(insContradictsTraits(ins, traits({ sex: 'U' })), []);
  });
  test('sex, year and month contradictions', () => {
    assert.deepEqual(insContradictsTraits(ins, traits({ sex: 'M', birthDate: '1980-04-01' })), ['sex', 'birthYear', 'birthMonth']);
    assert.deepEqual(insContradictsTraits(ins, traits({ birthDate: '1879-03-01' })), [], 'same 2-digit year');
  });
});

describe('qualification', () => {
  test('the four statuses from the two components', () => {
    assert.equal(qualify('provisoire', {}), 'provisoire');
    assert.equal(qualify('provisoire', { insi: 'retrieved' }), 'recuperee');
    assert.equal(qualify('provisoire', { document: 'passeport' }), 'validee');
    assert.equal(qualify('provisoire', { insi: 'verified', document: 'carte_nationale_identite' }), 'qualifiee');
    assert.equal(qualify('recuperee', { document: 'titre_de_sejour' }), 'qualifiee');
    assert.equal(qualify('validee', { insi: 'verified' }), 'qualifiee');
  });

  test('low-trust documents never qualify', () => {
    for (const d of ['carte_vitale', 'permis_de_conduire', 'autre'] as const) {
      assert.equal(qualify('recuperee', { document: d }), 'recuperee', d);
      assert.equal(qualify('provisoire', { document: d, minor: true }), 'provisoire', d);
    }
  });

  test('family record book and birth extract count for minors only', () => {
    assert.equal(isHighTrustDocument('livret_de_famille'), false);
    assert.equal(isHighTrustDocument('livret_de_famille', { minor: true }), true);
    assert.equal(qualify('recuperee', { document: 'extrait_acte_naissance' }), 'recuperee');
    assert.equal(qualify('recuperee', { document: 'extrait_acte_naissance', minor: true }), 'qualifiee');
  });

  test('INSi failure and doubt remove a component', () => {
    assert.equal(qualify('qualifiee', { insi: 'failed' }), 'validee');
    assert.equal(qualify('recuperee', { insi: 'failed' }), 'provisoire');
    assert.equal(qualify('qualifiee', { doubtful: true }), 'recuperee');
    assert.equal(qualify('provisoire', { doubtful: true, document: 'passeport', insi: 'retrieved' }), 'recuperee');
  });

  test('only qualifiee is qualified; assertQualified is a 409', () => {
    for (const s of IDENTITY_STATUSES) {
      assert.equal(isQualified(s), s === 'qualifiee');
      if (s === 'qualifiee') assert.doesNotThrow(() => assertQualified(s));
      else {
        const e = codeOf(() => assertQualified(s as IdentityStatus));
        assert.equal(e.code, 'INS_NOT_QUALIFIED');
        assert.equal(e.kind, 'conflict');
      }
    }
  });
});

describe('luhnValid', () => {
  test('agrees with an independent check-digit computation', () => {
    for (const p of ['7508034', '12345678', '0000000', '99700218', '1', '4992739871']) {
      const full = withLuhn(p);
      assert.equal(luhnValid(full), true, full);
      const wrong = full.slice(0, -1) + String((Number(full.at(-1)) + 1) % 10);
      assert.equal(luhnValid(wrong), false, wrong);
    }
    assert.equal(luhnValid('79927398713'), true); // the Wikipedia example
    assert.equal(luhnValid(''), false);
    assert.equal(luhnValid('12a4'), false);
  });
});

describe('parseRpps', () => {
  test('11 digits and idNat_PS 8 + RPPS give both forms', () => {
    assert.deepEqual(parseRpps('10100997245'), { rpps: '10100997245', idNatPs: '810100997245', checkDigitValid: true });
    const b = parseRpps('899700218896'); // the PDSm4DMP FHIR examples' author
    assert.equal(b.rpps, '99700218896');
    assert.equal(b.idNatPs, '899700218896');
    assert.equal(parseRpps(' 101 009 972 45 ').rpps, '10100997245');
  });

  test('a wrong check digit is reported, refused only in strict mode', () => {
    const r = parseRpps('801234534765'); // from the CDA fixtures, key does not verify
    assert.equal(r.checkDigitValid, false);
    const e = codeOf(() => parseRpps('801234534765', { strict: true }));
    assert.equal(e.code, 'RPPS_INVALID');
    assert.equal(e.details?.reason, 'check_digit');
    assert.equal(parseRpps(withLuhn('1010099724'), { strict: true }).checkDigitValid, true);
  });

  const bad: Array<[string, string]> = [
    ['', 'empty'],
    ['1010099724', 'length'],
    ['101009972451', 'not_rpps'],
    ['8101009972451', 'length'],
    ['0751234567', 'adeli'],
    ['1010099724X', 'characters'],
  ];
  for (const [v, reason] of bad) {
    test(`RPPS_INVALID (${reason}) for ${JSON.stringify(v)}`, () => {
      const e = codeOf(() => parseRpps(v));
      assert.equal(e.code, 'RPPS_INVALID');
      assert.equal(e.details?.reason, reason);
    });
  }

  test('every idNat_PS 8 + RPPS in the CDA fixtures parses', () => {
    const re = /<id\s+(?:root="1\.2\.250\.1\.71\.4\.2\.1"\s+extension="(8\d{11})"|extension="(8\d{11})"\s+root="1\.2\.250\.1\.71\.4\.2\.1")/g;
    let n = 0;
    for (const f of readdirSync(join(FIXTURES, 'cda')).filter((x) => x.endsWith('.xml'))) {
      for (const m of readFileSync(join(FIXTURES, 'cda', f), 'utf8').matchAll(re)) {
        const v = m[1] ?? m[2];
        assert.equal(parseRpps(v).idNatPs, v);
        n++;
      }
    }
    assert.ok(n > 50, `saw ${n}`);
  });
});

describe('professions', () => {
  test('DOMAIN §1 codes with their labels', () => {
    const expected: Record<string, string> = {
      '10': 'Médecin', '21': 'Pharmacien', '26': 'Audioprothésiste', '28': 'Opticien-Lunetier', '40': 'Chirurgien-Dentiste',
      '50': 'Sage-Femme', '60': 'Infirmier', '70': 'Masseur-Kinésithérapeute', '80': 'Pédicure-Podologue',
      '86': 'Technicien de laboratoire médical', '91': 'Orthophoniste', '92': 'Orthoptiste', '94': 'Ergothérapeute',
      '95': 'Diététicien', '96': 'Psychomotricien',
    };
    for (const [code, label] of Object.entries(expected)) {
      assert.equal(parseProfessionCode(code), code);
      const p = profession(code);
      assert.equal(p?.label, label);
      assert.equal(p?.system, 'TRE_G15');
    }
    assert.match(profession('98')!.label, /^Manipulateur/);
  });

  test('table is consistent: keys equal codes, labels in both languages', () => {
    for (const [k, p] of Object.entries(PROFESSIONS)) {
      assert.equal(p.code, k);
      assert.ok(p.label.length > 2 && p.labelEn.length > 2);
    }
  });

  test('CI-SIS prefixed and author-specialty forms', () => {
    assert.equal(parseProfessionCode('G15_10'), '10');
    assert.equal(parseProfessionCode(' G15_10/SM26 '), '10');
    assert.equal(parseProfessionCode('R94_41'), '41');
    assert.equal(profession('R94_41')?.label, 'Assistant de service social');
    assert.deepEqual(parseAuthorSpecialty('G15_10/SM26'), {
      professionCode: '10', system: 'TRE_G15', specialty: 'SM26', profession: PROFESSIONS['10'],
    });
    assert.deepEqual(parseAuthorSpecialty('G15_60'), { professionCode: '60', system: 'TRE_G15', profession: PROFESSIONS['60'] });
    assert.equal(parseAuthorSpecialty('G15_21/A').specialty, 'A');
    const unknown = parseAuthorSpecialty('G15_99/X1');
    assert.equal(unknown.professionCode, '99');
    assert.equal(unknown.profession, undefined, 'unknown codes kept, not rejected');
  });

  test('errors', () => {
    assert.equal(codeOf(() => parseProfessionCode('99')).code, 'PROFESSION_UNKNOWN');
    assert.equal(codeOf(() => parseProfessionCode('G15_41')).code, 'PROFESSION_UNKNOWN', '41 is social (R94), not G15');
    assert.equal(codeOf(() => parseProfessionCode('R94_10')).code, 'PROFESSION_UNKNOWN');
    assert.equal(codeOf(() => parseProfessionCode('médecin')).code, 'PROFESSION_INVALID');
    assert.equal(codeOf(() => parseProfessionCode('')).code, 'PROFESSION_INVALID');
    assert.equal(codeOf(() => parseAuthorSpecialty('SM26')).code, 'PROFESSION_INVALID');
  });

  test('helpers', () => {
    assert.equal(isPhysician('10'), true);
    assert.equal(isPhysician('G15_10/SM26'), true);
    assert.equal(isPhysician('21'), false);
    assert.equal(isPhysician('R94_10'), false);
    assert.equal(isSocialProfession('41'), true);
    assert.equal(isSocialProfession('60'), false);
    assert.equal(isHealthProfession('60'), true);
    assert.equal(isHealthProfession('72'), false);
    assert.equal(professionLabel('60'), 'Infirmier');
    assert.equal(professionLabel('60', 'en'), 'Nurse');
    assert.equal(professionLabel('999'), undefined);
  });

  test('specialty codes', () => {
    assert.equal(parseSpecialty(' sm26 '), 'SM26');
    assert.equal(parseSpecialty('DSM205'), 'DSM205');
    assert.equal(codeOf(() => parseSpecialty('SM 26')).code, 'SPECIALTY_INVALID');
    assert.equal(codeOf(() => parseSpecialty('')).code, 'SPECIALTY_INVALID');
  });
});

describe('FINESS', () => {
  test('real FINESS numbers verify their Luhn key', () => {
    for (const f of ['750803447', '750100125', '920008059', '490000049', '060021920']) {
      assert.deepEqual(checkFiness(f), { value: f, checkDigit: 'valid' });
      assert.equal(parseFiness(f, { strict: true }), f);
    }
  });

  test('made-up numbers are accepted, their key reported invalid; strict refuses them', () => {
    assert.equal(parseFiness('120 456 789'), '120456789');
    assert.equal(checkFiness('120456789').checkDigit, 'invalid');
    const e = codeOf(() => parseFiness('120456789', { strict: true }));
    assert.equal(e.code, 'FINESS_INVALID');
    assert.equal(e.details?.reason, 'check_digit');
    assert.equal(checkFiness(withLuhn('12045678'), { strict: true }).checkDigit, 'valid');
  });

  test('Corsica', () => {
    assert.deepEqual(checkFiness('2a0000123'), { value: '2A0000123', checkDigit: 'unknown' });
    assert.equal(parseFiness('2B0001234'), '2B0001234');
    assert.equal(parseFiness('2B0001234', { strict: true }), '2B0001234', 'unknown key is not a wrong key');
    assert.equal(codeOf(() => parseFiness('2C0000123')).details?.reason, 'characters');
  });

  const bad: Array<[string, string]> = [
    ['', 'empty'],
    ['75080344', 'length'],
    ['7508034470', 'length'],
    ['75080344X', 'characters'],
    ['A20000123', 'characters'],
  ];
  for (const [v, reason] of bad) {
    test(`FINESS_INVALID (${reason}) for ${JSON.stringify(v)}`, () => {
      const e = codeOf(() => parseFiness(v));
      assert.equal(e.code, 'FINESS_INVALID');
      assert.equal(e.kind, 'invalid');
      assert.equal(e.details?.reason, reason);
    });
  }

  test('every FINESS-based structure id in the CDA fixtures passes', () => {
    const re = /<id\s+(?:root="1\.2\.250\.1\.71\.4\.2\.2"\s+extension="([^"]*)"|extension="([^"]*)"\s+root="1\.2\.250\.1\.71\.4\.2\.2")/g;
    let finess = 0;
    for (const f of readdirSync(join(FIXTURES, 'cda')).filter((x) => x.endsWith('.xml'))) {
      for (const m of readFileSync(join(FIXTURES, 'cda', f), 'utf8').matchAll(re)) {
        const v = m[1] ?? m[2];
        // idNat_Struct "1" + FINESS (10 characters) or a bare 9-character FINESS
        if (!((v.length === 10 && v[0] === '1') || v.length === 9)) continue;
        const s = parseStructureId(v);
        assert.equal(s.kind, 'finess');
        assert.equal(s.finess?.value.length, 9);
        finess++;
      }
    }
    assert.ok(finess > 100, `saw ${finess}`);
  });
});

describe('parseStructureId', () => {
  test('the five prefixes', () => {
    assert.deepEqual(parseStructureId('1750803447'), {
      kind: 'finess', value: '750803447', idNatStruct: '1750803447', finess: { value: '750803447', checkDigit: 'valid' },
    });
    assert.equal(parseStructureId('750803447').idNatStruct, '1750803447', 'bare FINESS gets its prefix');
    assert.deepEqual(parseStructureId('2801234567'), { kind: 'siren', value: '801234567', idNatStruct: '2801234567' });
    assert.equal(parseStructureId('318003502400041').kind, 'siret');
    assert.equal(parseStructureId('00B105729400').kind, 'adeli_cabinet');
    assert.equal(parseStructureId('4101009972450001').kind, 'rpps_cabinet');
  });

  test('errors', () => {
    assert.equal(codeOf(() => parseStructureId('')).code, 'STRUCTURE_ID_INVALID');
    assert.equal(codeOf(() => parseStructureId('200911160123')).code, 'STRUCTURE_ID_INVALID');
    assert.equal(codeOf(() => parseStructureId('31800350240004')).code, 'STRUCTURE_ID_INVALID');
    assert.equal(codeOf(() => parseStructureId('9750803447')).code, 'STRUCTURE_ID_INVALID');
    assert.equal(codeOf(() => parseStructureId('10004000922005')).code, 'FINESS_INVALID');
  });
});
