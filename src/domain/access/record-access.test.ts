/**
 * The record-level decision: what `decide` says before any document is looked at. Each case names
 * the rule of DOMAIN §5 it proves, and checks it agrees with `decide` on a plain document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, decideRecordAccess } from './index.ts';
import { DEFAULT_HOLDER_SETTINGS, type Actor, type DocumentView, type RecordView, type Relationship } from './types.ts';

const now = new Date('2026-06-01T10:00:00Z');
const rec: RecordView = { id: 'r1', state: 'active' };
const dr: Actor = { kind: 'professional', id: '10000000009', name: 'Dr Martin', professionCode: '10' };
const plainDoc: DocumentView = {
  id: 'd1', category: { code: '10' }, type: { code: '11488-4' }, status: 'current', flags: [],
  authorIds: ['19999999999'], authorOrganisations: [], submittedAt: '2026-05-01T00:00:00Z',
};
const S = DEFAULT_HOLDER_SETTINGS;

const cases: Array<[string, Actor, RecordView, Relationship, 'normal' | 'bris_de_glace' | 'centre_15', boolean, string]> = [
  ['§5.4 a professional with no authorization is refused at record level', dr, rec, {}, 'normal', false, 'DENY_NO_AUTHORIZATION'],
  ['§5.4 a consented professional may read the record', dr, rec, { consent: { grantedAt: '2026-01-01T00:00:00Z' } }, 'normal', true, 'ALLOW_CONSENT'],
  ['§5.4 an expired consent is refused at record level', dr, rec, { consent: { grantedAt: '2026-01-01T00:00:00Z', expiresAt: '2026-02-01T00:00:00Z' } }, 'normal', false, 'DENY_CONSENT_EXPIRED'],
  ['§5.3 a blocked professional is refused even with consent', dr, rec, { blockedAt: '2026-01-02T00:00:00Z', consent: { grantedAt: '2026-01-01T00:00:00Z' } }, 'normal', false, 'DENY_BLOCKED'],
  ['§5.1 a professional reads only an active record', dr, { ...rec, state: 'closed' }, { medecinTraitant: true }, 'normal', false, 'DENY_RECORD_STATE'],
  ['§5.8 break-glass without a session is refused', dr, rec, {}, 'bris_de_glace', false, 'DENY_EMERGENCY_NO_SESSION'],
  ['§5.8 break-glass within its session is allowed', dr, rec, { emergency: { mode: 'bris_de_glace', startedAt: '2026-06-01T09:00:00Z', expiresAt: '2026-06-02T09:00:00Z', justification: 'given' } }, 'bris_de_glace', true, 'ALLOW_BRIS_DE_GLACE'],
  ['§5.2 an insurer is refused', { kind: 'forbidden', id: 'x', name: 'Mutuelle', role: 'mutuelle' }, rec, {}, 'normal', false, 'DENY_FORBIDDEN_ACTOR'],
  ['§5.10 the holder reads their record', { kind: 'holder', id: 'r1', name: 'Jeanne' }, rec, { personLink: 'holder' }, 'normal', true, 'ALLOW_HOLDER'],
  ['§5.10 a holder of another record is not linked', { kind: 'holder', id: 'r2', name: 'Paul' }, rec, {}, 'normal', false, 'DENY_NOT_LINKED'],
  ['§1 a caregiver without a read delegation is refused', { kind: 'caregiver', id: '2', name: 'Aidant' }, rec, { personLink: 'caregiver', delegation: { read: false } }, 'normal', false, 'DENY_NO_DELEGATION'],
];

for (const [name, actor, record, rel, mode, allow, reason] of cases) {
  test(name, () => {
    const d = decideRecordAccess(actor, record, rel, S, mode, now);
    assert.equal(d.allow, allow);
    assert.equal(d.reason, reason);
    assert.ok(d.explanation.fr && d.explanation.en);
    // on a plain, unflagged, in-matrix document written by someone else, decide agrees
    const onDoc = decide(actor, record, rel, plainDoc, S, mode, now);
    assert.equal(onDoc.allow, allow);
    assert.equal(onDoc.reason, reason);
  });
}
