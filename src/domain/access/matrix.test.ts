import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import rawMatrix from './data/habilitation-matrix.2023.json' with { type: 'json' };
import { isCarnetError } from '../errors.ts';
import { defaultMatrix, loadMatrix, matrixAllows, mesCategoryOf, professionLabel, type HabilitationMatrix } from './matrix.ts';
import { MATRIX_DOC_PATH, renderMatrixDoc } from './matrix-doc.ts';
import { FIXTURES_ROOT } from '../../fixtures.ts';

const FIXTURES = FIXTURES_ROOT;
const clone = (): Record<string, any> => JSON.parse(JSON.stringify(rawMatrix));
const c = (code: string) => ({ code });

function rejects(json: unknown, path: RegExp) {
  assert.throws(
    () => loadMatrix(json),
    (e: unknown) => isCarnetError(e) && e.code === 'MATRIX_INVALID' && e.kind === 'invalid' && path.test(String(e.details?.path)),
  );
}

test('the default matrix loads with a version, a source and the professions of DOMAIN §1', () => {
  assert.match(defaultMatrix.version, /^2023-10-26/);
  assert.match(defaultMatrix.source, /26 octobre 2023/);
  for (const p of ['10', '21', '26', '28', '40', '50', '60', '70', '80', '86', '91', '92', '94', '95', '96', '98']) {
    assert.ok(p in defaultMatrix.professions, `profession ${p}`);
  }
  assert.equal(Object.keys(defaultMatrix.professions).length, 19, 'the 2023 matrix covers 19 professions');
});

test('loadMatrix refuses malformed files with MATRIX_INVALID and the faulty path', () => {
  rejects(null, /^\$$/);
  rejects([], /^\$$/);
  rejects({ ...clone(), version: '' }, /^version$/);
  rejects({ ...clone(), source: undefined }, /^source$/);
  const m1 = clone();
  m1.professions['60'].classes.push('99');
  rejects(m1, /^professions\.60\.classes$/);
  const m2 = clone();
  m2.professions['21'].deniedTypes.push('NO-SUCH-TYPE');
  rejects(m2, /^professions\.21\.deniedTypes$/);
  const m3 = clone();
  m3.classes['10'].mes = 'NOT_A_CATEGORY';
  rejects(m3, /^classes\.10\.mes$/);
  const m4 = clone();
  m4.unknownClassReaders = ['99'];
  rejects(m4, /^unknownClassReaders$/);
  const m5 = clone();
  m5.professions['70'].label = { fr: 'x' };
  rejects(m5, /^professions\.70\.label$/);
  const m6 = clone();
  m6.professions['70'].classes = 'all';
  rejects(m6, /^professions\.70\.classes$/);
  rejects({ ...clone(), professions: {} }, /^professions$/);
  assert.doesNotThrow(() => loadMatrix(clone()));
});

test('matrixAllows: refused types beat classes, extra types beat classes, unknown classes go to physicians', () => {
  const m = defaultMatrix;
  // physician: every known class, but not residence certificates
  for (const cls of Object.keys(m.classes)) assert.equal(matrixAllows(m, '10', c(cls), c('11488-4')), true, cls);
  assert.equal(matrixAllows(m, '10', c('95'), c('ATTEST-RESID')), false);
  // physiotherapist: class 10 allowed, lab type refused even within class 10
  assert.equal(matrixAllows(m, '70', c('10'), c('11488-4')), true);
  assert.equal(matrixAllows(m, '70', c('10'), c('11502-2')), false);
  // pharmacist: class 10 not allowed, but the lab-report type is
  assert.equal(matrixAllows(m, '21', c('10'), c('11488-4')), false);
  assert.equal(matrixAllows(m, '21', c('10'), c('11502-2')), true);
  // unknown class or none: physicians only
  assert.equal(matrixAllows(m, '10', c('77'), c('XYZ')), true);
  assert.equal(matrixAllows(m, '60', c('77'), c('XYZ')), false);
  assert.equal(matrixAllows(m, '10', undefined, undefined), true);
  assert.equal(matrixAllows(m, '60', undefined, undefined), false);
  // absent profession, including a prototype key
  assert.equal(matrixAllows(m, '99', c('10'), c('11488-4')), false);
  assert.equal(matrixAllows(m, 'constructor', c('10'), c('11488-4')), false);
});

test('a modified matrix changes the answers (the rules are data, not code)', () => {
  const m = clone();
  m.professions['70'].classes = ['31'];
  const custom: HabilitationMatrix = loadMatrix(m);
  assert.equal(matrixAllows(defaultMatrix, '70', c('10'), c('11488-4')), true);
  assert.equal(matrixAllows(custom, '70', c('10'), c('11488-4')), false);
});

test('mesCategoryOf: the type decides before the class, unknown falls under AUTR_DOC', () => {
  assert.equal(mesCategoryOf(c('10'), c('11502-2')), 'BIOLOGIE');
  assert.equal(mesCategoryOf(c('10'), c('18748-4')), 'RADIO_SC');
  assert.equal(mesCategoryOf(c('10'), c('11369-6')), 'CAR_VAC');
  assert.equal(mesCategoryOf(c('10'), c('75492-9')), 'DEPISTAG');
  assert.equal(mesCategoryOf(c('42'), c('57833-6')), 'ORD_SOIN');
  assert.equal(mesCategoryOf(c('43'), c('60593-1')), 'ORD_SOIN');
  assert.equal(mesCategoryOf(c('52'), c('CERT_DECL')), 'CERT_MED');
  assert.equal(mesCategoryOf(c('60'), c('REMB')), 'REMB');
  assert.equal(mesCategoryOf(c('90'), c('EXPPAT_3')), 'DIR_ANT');
  assert.equal(mesCategoryOf(c('90'), c('DOCPAT08')), 'QUEST_SANTE');
  assert.equal(mesCategoryOf(c('95'), c('ATTEST-RESID')), 'DOC_ADM');
  assert.equal(mesCategoryOf(c('11'), c('60591-5')), 'SYNTHESE');
  assert.equal(mesCategoryOf(c('31'), c('UNKNOWN')), 'RADIO_SC');
  assert.equal(mesCategoryOf(c('77'), c('UNKNOWN')), 'AUTR_DOC');
  assert.equal(mesCategoryOf(undefined, undefined), 'AUTR_DOC');
});

test('every document type of the CDA fixtures and every class of the FHIR fixtures is known to the matrix', () => {
  const cdaDir = join(FIXTURES, 'cda');
  const types = new Set<string>();
  for (const f of readdirSync(cdaDir).filter((n) => n.endsWith('.xml'))) {
    const xml = readFileSync(join(cdaDir, f), 'utf8');
    const m = /<ClinicalDocument\b[\s\S]*?<code\b[^>]*?\bcode="([^"]+)"/.exec(xml);
    if (m) types.add(m[1]);
  }
  assert.ok(types.size >= 20, `${types.size} types found`);
  const unknown = [...types].filter((t) => !(t in defaultMatrix.types));
  assert.deepEqual(unknown, []);

  const classes = new Set<string>();
  for (const f of readdirSync(join(FIXTURES, 'fhir')).filter((n) => n.startsWith('pdsm4dmp-'))) {
    const text = readFileSync(join(FIXTURES, 'fhir', f), 'utf8');
    for (const m of text.matchAll(/TRE-A03-ClasseDocument",\s*"code"\s*:\s*"([^"]+)"/g)) classes.add(m[1]);
  }
  assert.ok(classes.size >= 1);
  for (const cls of classes) assert.ok(cls in defaultMatrix.classes, cls);
});

test('professionLabel names known professions and falls back to the code', () => {
  assert.deepEqual(professionLabel('70'), { fr: 'masseur-kinésithérapeute', en: 'physiotherapist' });
  assert.deepEqual(professionLabel('12'), { fr: 'profession 12', en: 'profession 12' });
});

test('docs/habilitation-matrix.md is up to date with the JSON', () => {
  const current = readFileSync(MATRIX_DOC_PATH, 'utf8');
  assert.equal(current, renderMatrixDoc(), 'run: node --import tsx src/domain/access/matrix-doc.ts');
});

test('the generated doc follows the data: version, rows and ticks', () => {
  const m = clone();
  m.version = 'test-9';
  m.professions['60'].classes = ['44'];
  const text = renderMatrixDoc(loadMatrix(m), 'x.json');
  assert.match(text, /`test-9`/);
  const nurseRow = text.split('\n').find((l) => l.startsWith('| 60 |'));
  assert.ok(nurseRow);
  assert.equal((nurseRow.match(/✓/g) ?? []).length, 1);
  const doctorRow = text.split('\n').find((l) => l.startsWith('| 10 |'));
  assert.equal((doctorRow?.match(/✓/g) ?? []).length, Object.keys(m.classes).length);
  assert.notEqual(text, renderMatrixDoc());
});
