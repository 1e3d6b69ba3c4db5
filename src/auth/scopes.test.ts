import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allows, covers, formatScope, narrow, parseScope, parseScopes, type Interaction, type Scope } from './scopes.ts';

const p = (s: string): Scope => {
  const r = parseScope(s);
  assert.ok(r, `expected ${s} to parse`);
  return r;
};

test('parseScope: v1 and v2 forms', () => {
  const table: Array<[string, string, string, string, 1 | 2]> = [
    // raw, context, type, interactions, version
    ['system/DocumentReference.crus', 'system', 'DocumentReference', 'crus', 2],
    ['system/*.rs', 'system', '*', 'rs', 2],
    ['patient/Observation.r', 'patient', 'Observation', 'r', 2],
    ['user/*.cruds', 'user', '*', 'cruds', 2],
    ['system/DocumentReference.read', 'system', 'DocumentReference', 'rs', 1],
    ['system/DocumentReference.write', 'system', 'DocumentReference', 'cud', 1],
    ['system/*.*', 'system', '*', 'cruds', 1],
    ['patient/Patient.*', 'patient', 'Patient', 'cruds', 1],
  ];
  for (const [raw, context, type, letters, version] of table) {
    const s = p(raw);
    assert.equal(s.context, context, raw);
    assert.equal(s.resourceType, type, raw);
    assert.equal(s.interactions.join(''), letters, raw);
    assert.equal(s.version, version, raw);
    assert.equal(s.raw, raw);
  }
});

test('parseScope: search-parameter constraints are kept', () => {
  const s = p('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
  assert.equal(s.params, 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
  assert.equal(formatScope(s), s.raw);
});

test('parseScope: malformed scopes are refused, not guessed', () => {
  for (const bad of [
    'system/Observation.dus', // out of order
    'system/Observation.rr', // repeated
    'system/Observation.x',
    'system/Observation.',
    'system/Observation',
    'admin/Observation.rs',
    'system/observation.rs', // resource types start upper-case
    'system/Observation.read?category=x', // v1 had no constraints
    'system/Observation.rs?',
    'system/Observation.rs?nokey',
    'system/*.r*',
    'openid',
  ]) {
    assert.equal(parseScope(bad), undefined, bad);
  }
});

test('parseScopes splits, deduplicates and sorts into clinical / other / invalid', () => {
  const r = parseScopes('  system/DocumentReference.rs openid system/DocumentReference.rs system/Observation.sr launch ');
  assert.deepEqual(r.scopes.map((s) => s.raw), ['system/DocumentReference.rs']);
  assert.deepEqual(r.other, ['openid', 'launch']);
  assert.deepEqual(r.invalid, ['system/Observation.sr']);
  assert.deepEqual(parseScopes(['a"b']).invalid, ['a"b']);
});

test('allows: table', () => {
  const granted = parseScopes(
    'system/DocumentReference.crus system/Patient.read user/Observation.r patient/Binary.rs?_id=1',
  ).scopes;
  const table: Array<[ 'system' | 'user' | 'patient', string, Interaction, boolean]> = [
    ['system', 'DocumentReference', 'c', true],
    ['system', 'DocumentReference', 'r', true],
    ['system', 'DocumentReference', 'u', true],
    ['system', 'DocumentReference', 'd', false],
    ['system', 'DocumentReference', 's', true],
    ['system', 'Patient', 'r', true], // v1 read ⇒ rs
    ['system', 'Patient', 's', true],
    ['system', 'Patient', 'u', false],
    ['system', 'Observation', 'r', false], // only user/ granted
    ['user', 'Observation', 'r', true],
    ['user', 'Observation', 's', false],
    ['user', 'DocumentReference', 'r', false], // context must match
    ['patient', 'Binary', 'r', false], // constrained scopes grant nothing here
    ['system', 'Consent', 'c', false],
  ];
  for (const [ctx, type, i, want] of table) {
    assert.equal(allows(granted, ctx, type, i), want, `${ctx}/${type}.${i}`);
  }
  const wildcard = parseScopes('system/*.rs system/DocumentReference.write').scopes;
  assert.equal(allows(wildcard, 'system', 'Consent', 'r'), true);
  assert.equal(allows(wildcard, 'system', 'Consent', 'c'), false);
  assert.equal(allows(wildcard, 'system', 'DocumentReference', 'd'), true); // v1 write ⇒ cud
  assert.equal(allows([], 'system', 'Patient', 'r'), false);
});

test('covers: requested within allowed', () => {
  const allowed = parseScopes('system/DocumentReference.crus system/*.rs patient/Observation.rs?category=lab').scopes;
  const table: Array<[string, boolean]> = [
    ['system/DocumentReference.crus', true],
    ['system/DocumentReference.read', true],
    ['system/DocumentReference.cruds', false],
    ['system/DocumentReference.write', false], // cud, no d
    ['system/Consent.rs', true], // through system/*.rs
    ['system/Consent.c', false],
    ['system/*.rs', true],
    ['system/*.crs', false],
    ['system/Patient.rs?identifier=x', true], // constrained request, unconstrained grant
    ['patient/Observation.rs?category=lab', true], // same constraint
    ['patient/Observation.rs?category=vital', false],
    ['patient/Observation.rs', false], // wider than the constrained grant
    ['user/DocumentReference.r', false],
  ];
  for (const [raw, want] of table) assert.equal(covers(allowed, p(raw)), want, raw);
});

test('narrow: keeps what is granted, reduces the rest', () => {
  const allowed = parseScopes('system/DocumentReference.crus system/Patient.rs').scopes;
  const out = (req: string) => narrow(parseScopes(req).scopes, allowed).map((s) => s.raw).sort();
  assert.deepEqual(out('system/DocumentReference.read'), ['system/DocumentReference.read']); // granted as written
  assert.deepEqual(out('system/DocumentReference.cruds'), ['system/DocumentReference.crus']);
  assert.deepEqual(out('system/*.rs'), ['system/DocumentReference.rs', 'system/Patient.rs']);
  assert.deepEqual(out('system/*.d'), []);
  assert.deepEqual(out('system/Consent.rs user/Patient.rs'), []);
  // Scopes on the same type are merged into one.
  assert.deepEqual(out('system/DocumentReference.c system/DocumentReference.d system/DocumentReference.s'), [
    'system/DocumentReference.cs',
  ]);
  const constrained = parseScopes('patient/Observation.rs?category=lab').scopes;
  assert.deepEqual(narrow(parseScopes('patient/*.cruds').scopes, constrained).map((s) => s.raw), [
    'patient/Observation.rs?category=lab',
  ]);
  assert.deepEqual(narrow(parseScopes('patient/Observation.r?category=vital').scopes, constrained), []);
});
