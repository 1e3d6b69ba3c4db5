import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findIuaClaims, IuaClaimError, normaliseFiness, normaliseRpps, parseIuaActor } from './iua.ts';

test('RPPS and idNat_PS', () => {
  assert.equal(normaliseRpps('10100997245'), '10100997245');
  assert.equal(normaliseRpps('810100997245'), '10100997245');
  assert.equal(normaliseRpps('899700218896'), '99700218896');
  for (const bad of ['1010099724', '910100997245', '1010099724X', '', 10100997245, undefined]) {
    assert.equal(normaliseRpps(bad), undefined, String(bad));
  }
});

test('FINESS and idNat_Struct', () => {
  assert.equal(normaliseFiness('750712184'), '750712184');
  assert.equal(normaliseFiness('2A0000012'), '2A0000012');
  assert.equal(normaliseFiness('1750712184'), '750712184');
  for (const bad of ['75071218', '7507121845', '2C0000012', '3750712184', 'urn:oid:1.2.3', 750712184]) {
    assert.equal(normaliseFiness(bad), undefined, String(bad));
  }
});

test('role and purpose forms', () => {
  const base = { subject_id: '10100997245', subject_name: 'Dr X' };
  const role = (subject_role: unknown) => parseIuaActor({ ...base, subject_role });
  assert.equal(role('60').professionCode, '60');
  assert.equal(role('G15_21').professionCode, '21');
  assert.deepEqual([role('G15_10/SM26').professionCode, role('G15_10/SM26').specialty], ['10', 'SM26']);
  assert.equal(role({ system: 'x', code: '40', display: 'Chirurgien-dentiste' }).professionCode, '40');
  assert.equal(role([{ code: 'G15_10' }, { code: 'G15_10/SM26' }]).professionCode, '10');
  assert.equal(role('10').purposeOfUse, 'normal'); // absent purpose = normal mode
  assert.throws(() => role(''), IuaClaimError);
  assert.throws(() => role([]), IuaClaimError);
  assert.throws(() => role(42), IuaClaimError);

  const purpose = (purpose_of_use: unknown, justification?: string) =>
    parseIuaActor({ ...base, subject_role: '10', purpose_of_use, justification }).purposeOfUse;
  assert.equal(purpose('centre_15'), 'centre_15');
  assert.equal(purpose([{ code: 'bris_de_glace' }], 'Arrêt cardiaque'), 'bris_de_glace');
  assert.equal(purpose([{ code: 'normal' }, { code: 'normal' }]), 'normal');
  assert.throws(() => purpose('NORMAL'), /purpose_of_use/);
  assert.throws(() => purpose([{ code: 'normal' }, { code: 'TREAT' }]), /purpose_of_use/);
});

test('where the claims are', () => {
  const iua = { subject_id: '10100997245' };
  assert.deepEqual(findIuaClaims({ extensions: { ihe_iua: iua } }), iua);
  assert.deepEqual(findIuaClaims({ ihe_iua: iua }), iua);
  assert.equal(findIuaClaims({ extensions: { other: {} } }), undefined);
  assert.throws(() => findIuaClaims({ extensions: { ihe_iua: 'x' } }), IuaClaimError);
  assert.throws(() => findIuaClaims({ extensions: { ihe_iua: iua }, ihe_iua: iua }), IuaClaimError);
});
