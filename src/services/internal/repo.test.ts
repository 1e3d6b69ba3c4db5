/**
 * `recordForActor` reads the record, the holder's settings and a professional's relationship in
 * one query; it must give exactly what the separate reads give (`recordById`, `settingsOf`,
 * `relationshipOf`), whatever the mix of access rows and emergency sessions. Runs on both engines.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, DAY } from '../../store/testing.ts';
import { TEST_OID, freshIns, holderOf, newRecord, professional } from '../testkit.ts';
import {
  blockPractitioner, grantConsent, joinCareTeam, objectToCareTeam, promoteAdministrateur, revokeConsent, setMedecinTraitant,
  updateSettings,
} from '../rights.ts';
import { startEmergency } from '../emergency.ts';
import { recordById, recordForActor, relationshipOf, settingsOf } from './repo.ts';

test('recordForActor = recordById + settingsOf + relationshipOf, for every kind of relationship', async () => {
  const c = await openTestCarnet();
  try {
    const { recordId } = await newRecord(c);
    const holder = holderOf(recordId);
    const pros = Array.from({ length: 7 }, (_, i) => professional(`1000000000${i}`, { name: `Dr ${i}` }));
    const [none, consented, revoked, blocked, mt, team, emergency] = pros;
    await grantConsent(c.ctx, holder, recordId, consented.id, new Date(Date.now() + 30 * DAY).toISOString());
    await grantConsent(c.ctx, holder, recordId, revoked.id);
    c.advance(1000);
    await revokeConsent(c.ctx, holder, recordId, revoked.id);
    await blockPractitioner(c.ctx, holder, recordId, blocked.id);
    await setMedecinTraitant(c.ctx, holder, recordId, mt.id);
    await promoteAdministrateur(c.ctx, holder, recordId, mt.id);
    await joinCareTeam(c.ctx, holder, recordId, team.id);
    await objectToCareTeam(c.ctx, holder, recordId, team.id);
    await startEmergency(c.ctx, emergency, recordId, 'bris_de_glace', 'Patient inconscient aux urgences');
    c.advance(1000);
    await startEmergency(c.ctx, emergency, recordId, 'bris_de_glace', 'Second passage aux urgences');
    await updateSettings(c.ctx, holder, recordId, { maskedInEmergency: true });

    const seen = new Set<string>();
    for (const actor of [...pros, holder, holderOf('someone-else')]) {
      const merged = await recordForActor(c.ctx, recordId, actor);
      const record = await recordById(c.ctx, recordId);
      const settings = await settingsOf(c.ctx, recordId);
      const relationship = await relationshipOf(c.ctx, recordId, actor);
      assert.deepEqual(merged, { record, settings, relationship }, `actor ${actor.id}`);
      // designated by INS instead of id: the same answer
      assert.deepEqual(await recordForActor(c.ctx, { ins: record.ins, oid: record.ins_oid }, actor), merged, `actor ${actor.id} by INS`);
      seen.add(JSON.stringify(Object.keys(relationship).sort()));
    }
    // the cases really differ (the comparison is not between empty relationships)
    const mtRel = (await recordForActor(c.ctx, recordId, mt)).relationship;
    assert.equal(mtRel.medecinTraitant, true);
    assert.equal(mtRel.administrateur, true);
    assert.ok((await recordForActor(c.ctx, recordId, blocked)).relationship.blockedAt);
    assert.ok((await recordForActor(c.ctx, recordId, revoked)).relationship.consent?.revokedAt);
    assert.equal((await recordForActor(c.ctx, recordId, emergency)).relationship.emergency?.justification, 'given');
    assert.deepEqual((await recordForActor(c.ctx, recordId, none)).relationship, {});
    assert.equal((await recordForActor(c.ctx, recordId, consented)).settings.maskedInEmergency, true);
    assert.ok(seen.size >= 6, `distinct relationship shapes: ${seen.size}`);
  } finally {
    await c.cleanup();
  }
});

test('recordForActor: an unknown record is RECORD_UNKNOWN (by id) or PATIENT_UNKNOWN (by INS), a malformed INS its own error', async () => {
  const c = await openTestCarnet();
  try {
    const code = (expected: string) => (e: Error & { code?: string }) => e.code === expected;
    for (const actor of [professional('10000000001'), holderOf('nope')]) {
      await assert.rejects(recordForActor(c.ctx, '00000000-0000-4000-8000-000000000000', actor), code('RECORD_UNKNOWN'));
      await assert.rejects(recordForActor(c.ctx, { ins: freshIns(), oid: TEST_OID }, actor), code('PATIENT_UNKNOWN'));
      await assert.rejects(recordForActor(c.ctx, { ins: '279035121518900', oid: TEST_OID }, actor), code('INS_KEY'));
    }
  } finally {
    await c.cleanup();
  }
});
