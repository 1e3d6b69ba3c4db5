/**
 * Properties of the access decision over generated actors, records, relationships, documents,
 * settings, modes and times (DESIGN: "no generated combination may leak a masked, invisible or
 * out-of-matrix document"). Runs: CARNET_PROPERTY_RUNS (default 10,000) per property.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import rawMatrix from './data/habilitation-matrix.2023.json' with { type: 'json' };
import { authorizationStatus } from './authorization.ts';
import { decide } from './decide.ts';
import { defaultMatrix, matrixAllows } from './matrix.ts';
import { REASON_CODES } from './reasons.ts';
import {
  ACCESS_MODES,
  type AccessMode,
  type Actor,
  type DocumentView,
  type HolderSettings,
  type RecordState,
  type RecordView,
  type Relationship,
} from './types.ts';
import { VISIBILITY_FLAGS, type VisibilityFlag } from '../document.ts';

const numRuns = Number(process.env.CARNET_PROPERTY_RUNS ?? 10000);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const PRO_IDS = ['10000000001', '10000000002', '10000000003'];
const ORGS = ['130000001', '750000001', '690000001'];
const PROFESSION_CODES = [...Object.keys(rawMatrix.professions), '99', '31', ''];
const CLASS_CODES = [...Object.keys(rawMatrix.classes), '77', ''];
const TYPE_CODES = [...Object.keys(rawMatrix.types), 'UNKNOWN-TYPE', '11488-4'];
const STATES: RecordState[] = ['pending', 'active', 'opposed', 'closed', 'deleted', 'suspended'];
const NAMES = ['Dr Martin', 'Marie Durand', 'Zoé', 'Ω'];

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** A time relative to `now`, in minutes: ±120 days, with the boundaries well represented. */
const offset = fc.oneof(
  fc.integer({ min: -120 * 24 * 60, max: 120 * 24 * 60 }),
  fc.constantFrom(0, -1, 1, -14 * 24 * 60, -28 * 24 * 60, -31 * 24 * 60, -24 * 60, 24 * 60),
);

const arbProfessional = fc.record({
  kind: fc.constant('professional' as const),
  id: fc.constantFrom(...PRO_IDS),
  name: fc.constantFrom(...NAMES),
  professionCode: fc.constantFrom(...PROFESSION_CODES),
  organisation: opt(fc.constantFrom(...ORGS)),
});
const arbHolderSide: fc.Arbitrary<Actor> = fc.oneof(
  fc.record({ kind: fc.constant('holder' as const), id: fc.constant('h1'), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('legal_representative' as const), id: fc.constant('lr1'), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('caregiver' as const), id: fc.constant('cg1'), name: fc.constantFrom(...NAMES) }),
  fc.record({
    kind: fc.constant('app' as const),
    id: fc.constant('app1'),
    name: fc.constantFrom(...NAMES),
    allowedTypes: opt(fc.subarray(TYPE_CODES, { maxLength: 4 })),
    allowedCategories: opt(fc.subarray([...CLASS_CODES, 'BIOLOGIE', 'CPT_REND', 'SYNTHESE'], { maxLength: 4 })),
  }),
);
const arbNeverReader: fc.Arbitrary<Actor> = fc.oneof(
  fc.record({
    kind: fc.constant('forbidden' as const),
    id: fc.constantFrom(...PRO_IDS),
    name: fc.constantFrom(...NAMES),
    role: fc.constantFrom('insurer', 'mutuelle', 'employer', 'occupational_doctor', 'other') as fc.Arbitrary<
      'insurer' | 'mutuelle' | 'employer' | 'occupational_doctor' | 'other'
    >,
  }),
  fc.record({ kind: fc.constant('operator' as const), id: fc.constant('op'), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('system' as const), id: fc.constant('sys'), name: fc.constantFrom(...NAMES) }),
);
const arbActor: fc.Arbitrary<Actor> = fc.oneof(
  { arbitrary: arbProfessional, weight: 4 },
  { arbitrary: arbHolderSide, weight: 3 },
  { arbitrary: arbNeverReader, weight: 1 },
);

interface Scenario {
  actor: Actor;
  record: RecordView;
  rel: Relationship;
  doc: DocumentView;
  settings: HolderSettings;
  mode: AccessMode;
  now: Date;
}

interface Overrides {
  actor?: fc.Arbitrary<Actor>;
  state?: fc.Arbitrary<RecordState>;
  flags?: fc.Arbitrary<VisibilityFlag[]>;
  mode?: fc.Arbitrary<AccessMode>;
  blocked?: fc.Arbitrary<boolean>;
}

function arbScenario(o: Overrides = {}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      nowMs: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 11, 31) }),
      actor: o.actor ?? arbActor,
      state: o.state ?? fc.oneof({ arbitrary: fc.constant('active' as RecordState), weight: 3 }, { arbitrary: fc.constantFrom(...STATES), weight: 1 }),
      minor: fc.boolean(),
      rel: fc.record({
        careTeam: fc.boolean(),
        careTeamObjected: fc.boolean(),
        consent: opt(fc.record({ grantedAt: offset, expiresAt: opt(offset), revokedAt: opt(offset) })),
        blocked: o.blocked ?? fc.boolean(),
        blockedAt: offset,
        medecinTraitant: fc.boolean(),
        administrateur: fc.boolean(),
        personLink: opt(fc.constantFrom('holder', 'legal_representative', 'caregiver') as fc.Arbitrary<NonNullable<Relationship['personLink']>>),
        delegation: opt(fc.record({ read: fc.boolean(), addDocuments: fc.boolean() })),
        emergency: opt(
          fc.record({
            mode: fc.constantFrom('bris_de_glace', 'centre_15') as fc.Arbitrary<'bris_de_glace' | 'centre_15'>,
            startedAt: offset,
            length: fc.integer({ min: -60, max: 200 * 60 }),
            justification: fc.constantFrom('', '   ', 'Patient inconscient'),
          }),
        ),
      }),
      doc: fc.record({
        category: fc.constantFrom(...CLASS_CODES),
        type: fc.constantFrom(...TYPE_CODES),
        status: fc.constantFrom('current', 'current', 'superseded', 'entered-in-error') as fc.Arbitrary<DocumentView['status']>,
        archived: fc.boolean(),
        flags: o.flags ?? fc.subarray([...VISIBILITY_FLAGS]),
        authorIds: fc.subarray(PRO_IDS, { maxLength: 2 }),
        authorOrganisations: fc.subarray(ORGS, { maxLength: 2 }),
        submittedAt: offset,
        invisibleSince: opt(offset),
        announcedAt: opt(offset),
      }),
      settings: fc.record({
        samuAllowed: fc.boolean(),
        breakGlassAllowed: fc.boolean(),
        maskedInEmergency: fc.boolean(),
        maskNewByDefault: fc.boolean(),
      }),
      mode: o.mode ?? fc.constantFrom(...ACCESS_MODES),
    })
    .map(({ nowMs, actor, state, minor, rel, doc, settings, mode }) => {
      const iso = (minutes: number) => new Date(nowMs + minutes * 60_000).toISOString();
      const relationship: Relationship = {
        careTeam: rel.careTeam,
        careTeamObjected: rel.careTeamObjected,
        consent: rel.consent && {
          grantedAt: iso(rel.consent.grantedAt),
          expiresAt: rel.consent.expiresAt === undefined ? undefined : iso(rel.consent.expiresAt),
          revokedAt: rel.consent.revokedAt === undefined ? undefined : iso(rel.consent.revokedAt),
        },
        blockedAt: rel.blocked ? iso(rel.blockedAt) : undefined,
        medecinTraitant: rel.medecinTraitant,
        administrateur: rel.administrateur,
        personLink: rel.personLink,
        delegation: rel.delegation,
        emergency: rel.emergency && {
          mode: rel.emergency.mode,
          startedAt: iso(rel.emergency.startedAt),
          expiresAt: iso(rel.emergency.startedAt + rel.emergency.length),
          justification: rel.emergency.justification,
        },
      };
      const document: DocumentView = {
        id: 'd1',
        category: { code: doc.category },
        type: { code: doc.type },
        status: doc.status,
        archived: doc.archived,
        flags: doc.flags,
        authorIds: doc.authorIds,
        authorOrganisations: doc.authorOrganisations,
        submittedAt: iso(doc.submittedAt),
        invisibleSince: doc.invisibleSince === undefined ? undefined : iso(doc.invisibleSince),
        announcedAt: doc.announcedAt === undefined ? undefined : iso(doc.announcedAt),
      };
      return { actor, record: { id: 'r1', state, minor }, rel: relationship, doc: document, settings, mode, now: new Date(nowMs) };
    });
}

const run = (s: Scenario) => decide(s.actor, s.record, s.rel, s.doc, s.settings, s.mode, s.now);
const prop = (arb: fc.Arbitrary<Scenario>, check: (s: Scenario) => void) =>
  fc.assert(
    fc.property(arb, (s) => {
      check(s);
    }),
    { numRuns },
  );

test('a forbidden actor, the operator and the system are never allowed', () => {
  prop(arbScenario({ actor: arbNeverReader }), (s) => {
    assert.equal(run(s).allow, false);
  });
});

test('a blocked professional never reads, in any mode', () => {
  prop(arbScenario({ actor: arbProfessional, blocked: fc.constant(true) }), (s) => {
    const d = run(s);
    assert.equal(d.allow, false);
  });
});

test('a masked document is only shown to its author/organisation, médecin traitant, administrateurs, or in an emergency with the switch on', () => {
  prop(
    arbScenario({
      actor: arbProfessional,
      state: fc.constant('active'),
      blocked: fc.constant(false),
      flags: fc.subarray([...VISIBILITY_FLAGS]).map((f) => [...new Set<VisibilityFlag>(['MASQUE_PS', ...f])]),
    }),
    (s) => {
      const d = run(s);
      if (!d.allow || s.actor.kind !== 'professional') return;
      const a = s.actor;
      const privileged =
        s.doc.authorIds.includes(a.id) ||
        (a.organisation !== undefined && s.doc.authorOrganisations.includes(a.organisation)) ||
        s.rel.medecinTraitant === true ||
        s.rel.administrateur === true;
      const emergencyOverride = s.mode !== 'normal' && s.settings.maskedInEmergency;
      assert.ok(privileged || emergencyOverride, `leaked masked document: ${d.reason}`);
    },
  );
});

/** Independent of the implementation's calendar arithmetic: one month is never less than 28 days. */
const surelyStillHidden = (doc: DocumentView, now: Date) => {
  if (!doc.flags.includes('INVISIBLE_PATIENT')) return false;
  if (doc.announcedAt !== undefined && Date.parse(doc.announcedAt) <= now.getTime()) return false;
  const start = Date.parse(doc.invisibleSince ?? doc.submittedAt);
  return now.getTime() - start < 28 * DAY;
};

test('an invisible document is never shown to the holder, representatives, caregivers or apps before announcement or one month', () => {
  prop(
    arbScenario({
      actor: arbHolderSide,
      flags: fc.subarray([...VISIBILITY_FLAGS]).map((f) => [...new Set<VisibilityFlag>(['INVISIBLE_PATIENT', ...f])]),
    }),
    (s) => {
      if (surelyStillHidden(s.doc, s.now)) assert.equal(run(s).allow, false);
    },
  );
});

test('an invisible document becomes visible to the linked holder after 31 days or once announced', () => {
  prop(
    arbScenario({
      actor: fc.constant<Actor>({ kind: 'holder', id: 'h1', name: 'Marie Durand' }),
      state: fc.constant('active'),
      flags: fc.constant<VisibilityFlag[]>(['INVISIBLE_PATIENT']),
      mode: fc.constant('normal'),
    }),
    (s) => {
      if (s.rel.personLink !== 'holder' || s.doc.status === 'entered-in-error') return;
      const start = Date.parse(s.doc.invisibleSince ?? s.doc.submittedAt);
      const announced = s.doc.announcedAt !== undefined && Date.parse(s.doc.announcedAt) <= s.now.getTime();
      if (announced || s.now.getTime() - start >= 31 * DAY) assert.equal(run(s).allow, true);
    },
  );
});

test('nothing outside the matrix is ever allowed to a professional', () => {
  const professions = rawMatrix.professions as Record<string, { deniedTypes: string[] }>;
  prop(arbScenario({ actor: arbProfessional, state: fc.constant('active'), blocked: fc.constant(false) }), (s) => {
    const d = run(s);
    if (!d.allow || s.actor.kind !== 'professional') return;
    const code = s.actor.professionCode;
    assert.ok(code in professions, `profession ${code} is not in the matrix file`);
    assert.ok(!professions[code].deniedTypes.includes(s.doc.type.code), 'explicitly refused type leaked');
    assert.ok(matrixAllows(defaultMatrix, code, s.doc.category, s.doc.type));
  });
});

test('a non-active record is never read by a professional', () => {
  prop(
    arbScenario({ actor: arbProfessional, state: fc.constantFrom<RecordState>('pending', 'opposed', 'closed', 'deleted', 'suspended') }),
    (s) => {
      assert.equal(run(s).allow, false);
    },
  );
});

test('an entered-in-error document is never read by anyone', () => {
  prop(arbScenario(), (s) => {
    if (s.doc.status === 'entered-in-error') assert.equal(run(s).allow, false);
  });
});

test('legal representatives never read a document hidden from them', () => {
  prop(
    arbScenario({
      actor: fc.constant<Actor>({ kind: 'legal_representative', id: 'lr1', name: 'Paul' }),
      flags: fc.subarray([...VISIBILITY_FLAGS]).map((f) => [...new Set<VisibilityFlag>(['INVISIBLE_REPRESENTANTS_LEGAUX', ...f])]),
    }),
    (s) => {
      assert.equal(run(s).allow, false);
    },
  );
});

test('emergency grants need the switch, a usable session of that mode, and (centre 15) a physician', () => {
  prop(arbScenario({ actor: arbProfessional, state: fc.constant('active'), mode: fc.constantFrom<AccessMode>('bris_de_glace', 'centre_15') }), (s) => {
    const d = run(s);
    if (!d.allow) return;
    const e = s.rel.emergency;
    assert.ok(e !== undefined && e.mode === s.mode, 'no session of that mode');
    const start = Date.parse(e.startedAt);
    const end = Math.min(Date.parse(e.expiresAt), start + 24 * HOUR);
    assert.ok(s.now.getTime() >= start && s.now.getTime() < end, 'session not open at that time');
    if (s.mode === 'bris_de_glace') {
      assert.equal(d.reason, 'ALLOW_BRIS_DE_GLACE');
      assert.ok(s.settings.breakGlassAllowed);
      assert.ok(e.justification.trim() !== '');
    } else {
      assert.equal(d.reason, 'ALLOW_CENTRE_15');
      assert.ok(s.settings.samuAllowed);
      assert.equal(s.actor.kind === 'professional' && s.actor.professionCode, '10');
    }
  });
});

test('normal-mode record-level grants agree with the TD0.2 status', () => {
  prop(arbScenario({ actor: arbProfessional, mode: fc.constant('normal') }), (s) => {
    const d = run(s);
    const status = authorizationStatus(s.actor, s.record, s.rel, s.now);
    if (d.allow && d.reason !== 'ALLOW_AUTHOR') assert.equal(status, 'VALIDE', d.reason);
    if (status === 'INTERDIT') assert.equal(d.allow, false);
  });
});

test('every decision has a known reason, a matching allow flag and both explanations', () => {
  prop(arbScenario(), (s) => {
    const d = run(s);
    assert.ok((REASON_CODES as readonly string[]).includes(d.reason), d.reason);
    assert.equal(d.allow, d.reason.startsWith('ALLOW_'));
    assert.ok(d.explanation.fr.trim().length > 0 && d.explanation.en.trim().length > 0);
    assert.ok(d.explanation.fr.includes(s.actor.name) && d.explanation.en.includes(s.actor.name));
    assert.notEqual(d.explanation.fr, d.explanation.en);
  });
});

test('decide is deterministic and does not mutate its inputs', () => {
  prop(arbScenario(), (s) => {
    const snapshot = () => JSON.stringify({ ...s, now: s.now.getTime() });
    const before = snapshot();
    const a = run(s);
    const b = run(s);
    assert.deepEqual(a, b);
    assert.equal(snapshot(), before);
  });
});
