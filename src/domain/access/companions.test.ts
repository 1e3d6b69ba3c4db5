/** Companion rules: TD0.2 status, access history, writing, sharing, flags, clocks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCarnetError } from '../errors.ts';
import { authorizationStatus, consentState } from './authorization.ts';
import { canChangeLifecycle, canManageSharing, canReadHistory, decideWrite } from './companions.ts';
import { emergencySessionState, emergencyWindowEnd } from './emergency.ts';
import type { ReasonCode } from './reasons.ts';
import type { AccessMode, Actor, AuthorizationStatus, DocumentView, RecordView, Relationship } from './types.ts';
import { invisibleStage, validateVisibilityFlags, type InvisibleStage } from './visibility.ts';

const NOW = new Date('2025-06-15T12:00:00Z');
const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000).toISOString();

const doctor: Actor = { kind: 'professional', id: '10101010101', name: 'Dr Martin', professionCode: '10' };
const kine: Actor = { kind: 'professional', id: '70707070707', name: 'M. Kiné', professionCode: '70' };
const holder: Actor = { kind: 'holder', id: 'h1', name: 'Marie Durand' };
const rep: Actor = { kind: 'legal_representative', id: 'lr1', name: 'Paul Durand' };
const caregiver: Actor = { kind: 'caregiver', id: 'cg1', name: 'Jeanne Aidante' };
const app: Actor = { kind: 'app', id: 'app1', name: 'App', allowedCategories: ['BIOLOGIE'] };
const insurer: Actor = { kind: 'forbidden', id: 'x', name: 'Assureur', role: 'insurer' };
const operator: Actor = { kind: 'operator', id: 'op', name: 'Opérateur' };
const system: Actor = { kind: 'system', id: 'sys', name: 'Carnet' };
const active: RecordView = { id: 'r1', state: 'active' };
const HOLDER: Relationship = { personLink: 'holder' };

// ---------------------------------------------------------------- TD0.2
const statusCases: Array<[string, Actor, Relationship, AuthorizationStatus, RecordView?]> = [
  ['valid consent is VALIDE', doctor, { consent: { grantedAt: at(-48) } }, 'VALIDE'],
  ['care team not objected is VALIDE', kine, { careTeam: true }, 'VALIDE'],
  ['médecin traitant is VALIDE', doctor, { medecinTraitant: true }, 'VALIDE'],
  ['administrateur is VALIDE', kine, { administrateur: true }, 'VALIDE'],
  ['expired consent is EXPIRE', doctor, { consent: { grantedAt: at(-48), expiresAt: at(-1) } }, 'EXPIRE'],
  ['expired consent but care team is VALIDE', doctor, { careTeam: true, consent: { grantedAt: at(-48), expiresAt: at(-1) } }, 'VALIDE'],
  ['blocked is INTERDIT, even with consent', doctor, { blockedAt: at(-1), consent: { grantedAt: at(-48) } }, 'INTERDIT'],
  ['blocked médecin traitant is INTERDIT', doctor, { blockedAt: at(-1), medecinTraitant: true }, 'INTERDIT'],
  ['revoked consent is NON_EXISTE', doctor, { consent: { grantedAt: at(-48), revokedAt: at(-2) } }, 'NON_EXISTE'],
  ['revoked consent also for a care-team member is NON_EXISTE', doctor, { careTeam: true, consent: { grantedAt: at(-48), revokedAt: at(-2) } }, 'NON_EXISTE'],
  ['care team with objection is NON_EXISTE', doctor, { careTeam: true, careTeamObjected: true }, 'NON_EXISTE'],
  ['nothing at all is NON_EXISTE', doctor, {}, 'NON_EXISTE'],
  ['consent on a deleted record is NON_EXISTE', doctor, { consent: { grantedAt: at(-48) } }, 'NON_EXISTE', { id: 'r1', state: 'deleted' }],
  ['consent on a closed record stays VALIDE (state reported beside)', doctor, { consent: { grantedAt: at(-48) } }, 'VALIDE', { id: 'r1', state: 'closed' }],
  ['forbidden actors are INTERDIT', insurer, { consent: { grantedAt: at(-48) } }, 'INTERDIT'],
  ['the operator is INTERDIT', operator, {}, 'INTERDIT'],
  ['the linked holder is VALIDE', holder, HOLDER, 'VALIDE'],
  ['an unlinked holder actor is NON_EXISTE', holder, {}, 'NON_EXISTE'],
  ['caregiver with read delegation is VALIDE', caregiver, { personLink: 'caregiver', delegation: { read: true } }, 'VALIDE'],
  ['caregiver without delegation is NON_EXISTE', caregiver, { personLink: 'caregiver' }, 'NON_EXISTE'],
  ['app with scopes is VALIDE', app, {}, 'VALIDE'],
];
for (const [name, actor, rel, expected, record] of statusCases) {
  test(`TD0.2 ${name}`, () => assert.equal(authorizationStatus(actor, record ?? active, rel, NOW), expected));
}

test('consentState covers none, not yet, valid, expired, revoked and unparsable dates', () => {
  assert.equal(consentState(undefined, NOW), 'none');
  assert.equal(consentState({ grantedAt: at(1) }, NOW), 'not_yet');
  assert.equal(consentState({ grantedAt: 'garbage' }, NOW), 'not_yet');
  assert.equal(consentState({ grantedAt: at(-1) }, NOW), 'valid');
  assert.equal(consentState({ grantedAt: at(-1), expiresAt: at(1) }, NOW), 'valid');
  assert.equal(consentState({ grantedAt: at(-1), expiresAt: at(0) }, NOW), 'expired');
  assert.equal(consentState({ grantedAt: at(-1), expiresAt: 'garbage' }, NOW), 'expired');
  assert.equal(consentState({ grantedAt: at(-1), revokedAt: at(-0.5) }, NOW), 'revoked');
});

// ---------------------------------------------------------------- history
const historyCases: Array<[string, Actor, Relationship, string | undefined, boolean, ReasonCode]> = [
  ['§5.12 holder sees the whole history', holder, HOLDER, undefined, true, 'ALLOW_HOLDER'],
  ['§5.12 legal representative sees the whole history', rep, { personLink: 'legal_representative' }, undefined, true, 'ALLOW_LEGAL_REPRESENTATIVE'],
  ['§5.12 médecin traitant sees the whole history', doctor, { medecinTraitant: true }, undefined, true, 'ALLOW_MEDECIN_TRAITANT'],
  ['§5.12 administrateur sees entries of others', kine, { administrateur: true }, 'someone-else', true, 'ALLOW_ADMINISTRATEUR'],
  ['§5.12 a blocked médecin traitant does not see the history', doctor, { medecinTraitant: true, blockedAt: at(-1) }, undefined, false, 'DENY_BLOCKED'],
  ['§5.12 a consented professional does not see the whole history', doctor, { consent: { grantedAt: at(-2) } }, undefined, false, 'DENY_HISTORY_NOT_OWN'],
  ["§5.12 a professional does not see another actor's entry", doctor, { careTeam: true }, 'someone-else', false, 'DENY_HISTORY_NOT_OWN'],
  ['§5.12 a professional sees their own entry', doctor, {}, '10101010101', true, 'ALLOW_OWN_ENTRY'],
  ['§5.12 a blocked professional still sees their own entry', doctor, { blockedAt: at(-1) }, '10101010101', true, 'ALLOW_OWN_ENTRY'],
  ['§5.12 a caregiver sees their own entry only', caregiver, { personLink: 'caregiver', delegation: { read: true } }, 'cg1', true, 'ALLOW_OWN_ENTRY'],
  ['§5.12 a caregiver does not see the whole history', caregiver, { personLink: 'caregiver', delegation: { read: true } }, undefined, false, 'DENY_HISTORY_NOT_OWN'],
  ['§5.12 an app sees its own entry', app, {}, 'app1', true, 'ALLOW_OWN_ENTRY'],
  ['§5.12 an unlinked holder actor does not see the history', holder, {}, undefined, false, 'DENY_NOT_LINKED'],
  ['§5.12 forbidden actors never see the history', insurer, {}, 'x', false, 'DENY_FORBIDDEN_ACTOR'],
  ['§5.12 the operator never sees an individual history', operator, {}, 'op', false, 'DENY_NO_CONTENT_ACCESS'],
];
for (const [name, actor, rel, entry, allow, reason] of historyCases) {
  test(name, () => {
    const d = canReadHistory(actor, rel, entry);
    assert.equal(d.reason, reason);
    assert.equal(d.allow, allow);
    assert.ok(d.explanation.fr.includes("l'historique") && d.explanation.en.includes('history'));
  });
}

// ---------------------------------------------------------------- write
const c = (code: string) => ({ code });
const writeCases: Array<[string, Actor, Relationship, string, boolean, ReasonCode, (RecordView | undefined)?, AccessMode?]> = [
  ['§5.11 a blocked professional may still add documents', doctor, { blockedAt: at(-1) }, '10', true, 'ALLOW_PROFESSIONAL_WRITE'],
  ['§5.11 a professional may add a document outside their matrix', kine, {}, '60', true, 'ALLOW_PROFESSIONAL_WRITE'],
  ['§5.11 a professional may add in an emergency mode', doctor, {}, '10', true, 'ALLOW_PROFESSIONAL_WRITE', undefined, 'bris_de_glace'],
  ['§5.11 nothing is added to a closed record', doctor, { medecinTraitant: true }, '10', false, 'DENY_RECORD_STATE', { id: 'r1', state: 'closed' }],
  ['§5.11 nothing is added to a pending record', holder, HOLDER, '90', false, 'DENY_RECORD_STATE', { id: 'r1', state: 'pending' }],
  ['§5.11 the holder adds a personal document (class 90)', holder, HOLDER, '90', true, 'ALLOW_HOLDER'],
  ['§5.11 the holder cannot add a professional class', holder, HOLDER, '10', false, 'DENY_PATIENT_CLASS_ONLY'],
  ['§5.11 a legal representative adds a class 90 document', rep, { personLink: 'legal_representative' }, '90', true, 'ALLOW_LEGAL_REPRESENTATIVE'],
  ['§5.11 a caregiver delegated to add documents adds class 90', caregiver, { personLink: 'caregiver', delegation: { read: false, addDocuments: true } }, '90', true, 'ALLOW_CAREGIVER'],
  ['§5.11 a read-only caregiver cannot add', caregiver, { personLink: 'caregiver', delegation: { read: true } }, '90', false, 'DENY_NO_DELEGATION'],
  ['§5.11 an app adds a class 90 document', app, {}, '90', true, 'ALLOW_APP'],
  ['§5.11 an app cannot add a professional class', app, {}, '11', false, 'DENY_PATIENT_CLASS_ONLY'],
  ['§5.11 an unlinked holder actor cannot add', holder, {}, '90', false, 'DENY_NOT_LINKED'],
  ['§5.11 the holder cannot use an emergency mode', holder, HOLDER, '90', false, 'DENY_EMERGENCY_NOT_PROFESSIONAL', undefined, 'centre_15'],
  ['§5.11 forbidden actors never add', insurer, {}, '90', false, 'DENY_FORBIDDEN_ACTOR'],
  ['§5.11 the operator never adds content', operator, {}, '60', false, 'DENY_NO_CONTENT_ACCESS'],
  ["§5.11 Carnet's own feed (system) files into an active record", system, {}, '60', true, 'ALLOW_SYSTEM'],
  ["§5.11 Carnet's own feed does not file into a closed record", system, {}, '60', false, 'DENY_RECORD_STATE', { id: 'r1', state: 'closed' }],
];
for (const [name, actor, rel, cls, allow, reason, record, mode] of writeCases) {
  test(name, () => {
    const d = decideWrite(actor, record ?? active, rel, c(cls), mode);
    assert.equal(d.reason, reason);
    assert.equal(d.allow, allow);
    assert.match(d.explanation.fr, allow ? / peut ajouter / : / ne peut pas ajouter /);
  });
}

// ---------------------------------------------------------------- sharing
const sharingCases: Array<[string, Actor, Relationship, boolean, ReasonCode]> = [
  ['§1 the holder manages sharing', holder, HOLDER, true, 'ALLOW_HOLDER'],
  ['§1 a legal representative manages sharing', rep, { personLink: 'legal_representative' }, true, 'ALLOW_LEGAL_REPRESENTATIVE'],
  ['§1 a caregiver never manages sharing, even with every delegation', caregiver, { personLink: 'caregiver', delegation: { read: true, addDocuments: true } }, false, 'DENY_CAREGIVER_LIMITS'],
  ['§1 the médecin traitant does not manage sharing', doctor, { medecinTraitant: true }, false, 'DENY_NOT_HOLDER'],
  ['§1 an app does not manage sharing', app, {}, false, 'DENY_NOT_HOLDER'],
  ['§1 the operator does not manage sharing', operator, {}, false, 'DENY_NOT_HOLDER'],
  ['§1 forbidden actors do not manage sharing', insurer, {}, false, 'DENY_FORBIDDEN_ACTOR'],
  ['§1 an unlinked holder actor does not manage sharing', holder, { personLink: 'caregiver' }, false, 'DENY_NOT_LINKED'],
];
for (const [name, actor, rel, allow, reason] of sharingCases) {
  test(name, () => {
    const d = canManageSharing(actor, rel);
    assert.equal(d.reason, reason);
    assert.equal(d.allow, allow);
    assert.ok(d.explanation.fr.length > 0 && d.explanation.en.length > 0);
  });
}

// ---------------------------------------------------------------- flags and clocks
test('§5.7 MASQUE_PS and INVISIBLE_PATIENT cannot be combined', () => {
  assert.throws(
    () => validateVisibilityFlags(['INVISIBLE_PATIENT', 'MASQUE_PS']),
    (e: unknown) => isCarnetError(e) && e.code === 'FLAGS_NOT_COMBINABLE' && e.kind === 'invalid',
  );
  assert.deepEqual(validateVisibilityFlags(['MASQUE_PS', 'INVISIBLE_REPRESENTANTS_LEGAUX']), ['MASQUE_PS', 'INVISIBLE_REPRESENTANTS_LEGAUX']);
  assert.deepEqual(validateVisibilityFlags(['INVISIBLE_PATIENT', 'INVISIBLE_PATIENT']), ['INVISIBLE_PATIENT']);
  assert.deepEqual(validateVisibilityFlags([]), []);
});

const inv = (extra: Partial<DocumentView> = {}): Pick<DocumentView, 'flags' | 'invisibleSince' | 'announcedAt' | 'submittedAt'> => ({
  flags: ['INVISIBLE_PATIENT'],
  invisibleSince: '2025-01-31T10:00:00Z',
  submittedAt: '2025-01-31T10:00:00Z',
  ...extra,
});
const stageCases: Array<[string, ReturnType<typeof inv>, string, InvisibleStage]> = [
  ['no flag: none', { ...inv(), flags: ['MASQUE_PS'] }, '2025-02-01T00:00:00Z', 'none'],
  ['just set: pending', inv(), '2025-01-31T10:00:00Z', 'pending'],
  ['one minute before 2 weeks: pending', inv(), '2025-02-14T09:59:00Z', 'pending'],
  ['2 weeks: notice due', inv(), '2025-02-14T10:00:00Z', 'notice_due'],
  ['31 Jan + 1 month is 28 Feb: still notice due a minute before', inv(), '2025-02-28T09:59:00Z', 'notice_due'],
  ['31 Jan + 1 month is 28 Feb: visible', inv(), '2025-02-28T10:00:00Z', 'visible'],
  ['announced: visible at once', inv({ announcedAt: '2025-02-01T08:00:00Z' }), '2025-02-01T09:00:00Z', 'visible'],
  ['announcement in the future: still pending', inv({ announcedAt: '2025-02-05T08:00:00Z' }), '2025-02-01T09:00:00Z', 'pending'],
  ['no invisibleSince: the clock starts at submission', inv({ invisibleSince: undefined, submittedAt: '2025-03-01T00:00:00Z' }), '2025-04-01T00:00:00Z', 'visible'],
  ['no usable date: stays pending (conservative)', inv({ invisibleSince: 'garbage', submittedAt: 'garbage' }), '2030-01-01T00:00:00Z', 'pending'],
];
for (const [name, d, now, expected] of stageCases) {
  test(`§5.7 invisibleStage: ${name}`, () => assert.equal(invisibleStage(d, new Date(now)), expected));
}

test('§5.8 emergencyWindowEnd: 24 hours by default, configurable, positive only', () => {
  const start = new Date('2025-06-15T12:00:00Z');
  assert.equal(emergencyWindowEnd(start).toISOString(), '2025-06-16T12:00:00.000Z');
  assert.equal(emergencyWindowEnd(start, 120).toISOString(), '2025-06-20T12:00:00.000Z');
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => emergencyWindowEnd(start, bad), (e: unknown) => isCarnetError(e) && e.code === 'EMERGENCY_WINDOW_INVALID');
  }
});

test('§5.8 emergencySessionState: end is the earlier of expiresAt and the window', () => {
  const s = { mode: 'bris_de_glace' as const, startedAt: at(-2), expiresAt: at(1), justification: 'x' };
  const ok = emergencySessionState(s, 'bris_de_glace', NOW);
  assert.ok(ok.ok && ok.endsAt.toISOString() === at(1));
  const capped = emergencySessionState({ ...s, expiresAt: at(100) }, 'bris_de_glace', NOW, 1);
  assert.ok(!capped.ok && capped.problem === 'expired' && capped.endsAt?.toISOString() === at(-1));
  assert.deepEqual(emergencySessionState({ ...s, startedAt: 'garbage' }, 'bris_de_glace', NOW), { ok: false, problem: 'none' });
  assert.equal(emergencySessionState({ ...s, justification: '' }, 'centre_15', NOW).ok, false);
  assert.equal(emergencySessionState({ ...s, mode: 'centre_15', justification: '' }, 'centre_15', NOW).ok, true);
});

// --- who may change the record's lifecycle (DOMAIN §3) -------------------------------------------

const lc = (actor: Parameters<typeof canChangeLifecycle>[0], rel: Parameters<typeof canChangeLifecycle>[1], ev: Parameters<typeof canChangeLifecycle>[2]) =>
  canChangeLifecycle(actor, rel, ev);

test('§3 the holder closes, reopens and asks for early deletion of their own record', () => {
  const holder = { kind: 'holder' as const, id: 'r1', name: 'Jeanne' };
  for (const ev of ['close', 'reopen', 'request_deletion', 'activate', 'oppose', 'lift_suspension'] as const) {
    const d = lc(holder, { personLink: 'holder' }, ev);
    assert.equal(d.allow, true, ev);
    assert.equal(d.reason, 'ALLOW_HOLDER');
  }
});

test('§3 only the operator suspends for fraud or carries out a deletion', () => {
  const holder = { kind: 'holder' as const, id: 'r1', name: 'Jeanne' };
  const op = { kind: 'operator' as const, id: 'op', name: 'Opérateur' };
  assert.equal(lc(holder, { personLink: 'holder' }, 'delete').reason, 'DENY_NOT_OPERATOR');
  assert.equal(lc(holder, { personLink: 'holder' }, 'suspend').reason, 'DENY_NOT_OPERATOR');
  assert.equal(lc(op, {}, 'delete').reason, 'ALLOW_OPERATOR');
  assert.equal(lc(op, {}, 'suspend').reason, 'ALLOW_OPERATOR');
  assert.equal(lc(op, {}, 'close').allow, false);
});

test('§3 a professional, a caregiver or a stranger never closes a record; the daily job applies what is due', () => {
  const dr = { kind: 'professional' as const, id: '10000000009', name: 'Dr Martin', professionCode: '10' };
  assert.equal(lc(dr, { medecinTraitant: true }, 'close').reason, 'DENY_NOT_HOLDER');
  assert.equal(lc({ kind: 'caregiver', id: 'c', name: 'Aidant' }, { personLink: 'caregiver', delegation: { read: true } }, 'close').reason, 'DENY_CAREGIVER_LIMITS');
  assert.equal(lc({ kind: 'holder', id: 'r2', name: 'Autre' }, {}, 'close').reason, 'DENY_NOT_LINKED');
  assert.equal(lc({ kind: 'system', id: 'jobs', name: 'Carnet' }, {}, 'delete').reason, 'ALLOW_SYSTEM');
});
