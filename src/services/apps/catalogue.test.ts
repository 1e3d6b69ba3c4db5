/**
 * The catalogue (`carnet app add`): what an app may be registered with, and what the holder is
 * shown of it. Runs on both engines.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openTestCarnet, type TestCarnet } from '../../store/testing.ts';
import { addClient } from '../clients.ts';
import { rejectsWith } from '../testkit.ts';
import { addApp, consentedReads, describeReads, getApp, listApps, parsePurposeSpec, publicView, type AddAppInput } from './catalogue.ts';

let c: TestCarnet;
before(async () => {
  c = await openTestCarnet();
});
after(() => c.cleanup());

const base = (extra: Partial<AddAppInput> = {}): AddAppInput => ({
  name: 'Mon Suivi',
  redirectUris: ['https://app.example/cb'],
  purposes: [
    { id: 'bio', label: 'Suivre vos analyses', types: [], categories: ['BIOLOGIE'] },
    { id: 'cr', label: 'Lire vos comptes rendus', labelEn: 'Read your reports', types: ['11488-4'], categories: ['10'] },
  ],
  ...extra,
});

test('a public app is registered with default read-only scopes and shown without keys', async () => {
  const app = await addApp(c.ctx, base({ launchUrl: 'https://app.example/launch', description: 'Suivi' }));
  assert.equal(app.clientType, 'public');
  assert.match(app.clientId, /^app-/);
  assert.ok(app.scopes.includes('patient/DocumentReference.rs'));
  assert.ok(app.scopes.every((s) => !/\.(c|u|d|cruds|write|\*)$/.test(s)));
  assert.deepEqual(await getApp(c.ctx, app.clientId), app);
  assert.ok((await listApps(c.ctx)).some((a) => a.clientId === app.clientId));
  const view = publicView(app);
  assert.ok(!('jwks' in view));
  assert.deepEqual(view.purposes.map((p) => p.label.en), ['Suivre vos analyses', 'Read your reports']);
  assert.deepEqual(view.purposes[0].reads, [{ kind: 'category', code: 'BIOLOGIE', label: { fr: 'Biologie', en: 'Laboratory' } }]);
  // class codes and LOINC types are named from the habilitation matrix
  const cr = describeReads(['11488-4'], ['10']);
  assert.equal(cr[0].label.fr, 'Compte rendu');
  assert.equal(cr[1].label.fr, 'CR de consultation ou de visite');
  assert.deepEqual(consentedReads(app, ['cr']), { allowedTypes: ['11488-4'], allowedCategories: ['10'] });
  assert.deepEqual(consentedReads(app, ['bio', 'cr']), { allowedTypes: ['11488-4'], allowedCategories: ['10', 'BIOLOGIE'] });
  assert.deepEqual(consentedReads(app, []), { allowedTypes: [], allowedCategories: [] });
});

test('scopes: read-only, patient context, documents only, no unknown tokens', async () => {
  await rejectsWith(addApp(c.ctx, base({ scopes: ['patient/DocumentReference.cruds'] })), 'APP_SCOPE_NOT_READ_ONLY');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['patient/DocumentReference.write'] })), 'APP_SCOPE_NOT_READ_ONLY');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['user/DocumentReference.rs'] })), 'APP_SCOPE_NOT_PATIENT');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['system/*.rs'] })), 'APP_SCOPE_NOT_PATIENT');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['patient/AuditEvent.rs'] })), 'APP_SCOPE_RESOURCE');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['patient/DocumentReference.rs', 'launch'] })), 'APP_SCOPE_INVALID');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['openid', 'fhirUser'] })), 'APP_SCOPE_INVALID');
  await rejectsWith(addApp(c.ctx, base({ scopes: ['patient/DocumentReference.dus'] })), 'APP_SCOPE_INVALID');
  const v1 = await addApp(c.ctx, base({ scopes: ['patient/DocumentReference.read', 'launch/patient'] }));
  assert.deepEqual(v1.scopes, ['patient/DocumentReference.read', 'launch/patient']);
});

test('redirect URIs: https, loopback http, or a private-use scheme; compared exactly later', async () => {
  for (const bad of ['http://app.example/cb', 'https://app.example/cb#frag', 'javascript:alert(1)', 'cb', 'data:text/html,x', 'myapp:/cb']) {
    await rejectsWith(addApp(c.ctx, base({ redirectUris: [bad] })), 'APP_REDIRECT_URI_INVALID');
  }
  await rejectsWith(addApp(c.ctx, base({ redirectUris: [] })), 'APP_REDIRECT_URI_MISSING');
  const ok = await addApp(c.ctx, base({ redirectUris: ['http://127.0.0.1:8000/cb', 'http://localhost/cb', 'org.example.suivi:/oauth'] }));
  assert.equal(ok.redirectUris.length, 3);
});

test('purposes: at least one, each with a French label and something to read, ids unique', async () => {
  await rejectsWith(addApp(c.ctx, base({ purposes: [] })), 'APP_PURPOSES_MISSING');
  await rejectsWith(addApp(c.ctx, base({ purposes: [{ id: 'x', label: '', types: ['1'], categories: [] }] })), 'APP_PURPOSE_INVALID');
  await rejectsWith(addApp(c.ctx, base({ purposes: [{ id: 'x', label: 'Rien', types: [], categories: [] }] })), 'APP_PURPOSE_INVALID');
  await rejectsWith(addApp(c.ctx, base({ purposes: [{ id: 'Bad Id', label: 'A', types: ['1'], categories: [] }] })), 'APP_PURPOSE_INVALID');
  await rejectsWith(
    addApp(c.ctx, base({ purposes: [{ id: 'a', label: 'A', types: ['1'], categories: [] }, { id: 'a', label: 'B', types: ['2'], categories: [] }] })),
    'APP_PURPOSE_INVALID',
  );
  await rejectsWith(addApp(c.ctx, base({ purposes: [{ id: 'a', label: 'A', types: ['<script>'], categories: [] }] })), 'APP_PURPOSE_INVALID');
});

test('confidential apps need public keys; public apps have none; ids are unique across apps and systems', async () => {
  await rejectsWith(addApp(c.ctx, base({ clientType: 'confidential' })), 'APP_KEYS_MISSING');
  await rejectsWith(addApp(c.ctx, base({ clientType: 'public', jwksUrl: 'https://app.example/jwks' })), 'APP_CLIENT_TYPE');
  await rejectsWith(addApp(c.ctx, base({ jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'a', y: 'b', d: 'secret' }] } })), 'APP_JWKS_PRIVATE');
  await rejectsWith(addApp(c.ctx, base({ jwksUrl: 'http://app.example/jwks' })), 'APP_JWKS_URL');
  const conf = await addApp(c.ctx, base({ jwksUrl: 'https://app.example/jwks' }));
  assert.equal(conf.clientType, 'confidential');
  await rejectsWith(addApp(c.ctx, base({ clientId: conf.clientId })), 'APP_EXISTS', 'conflict');
  await addClient(c.ctx, { clientId: 'dpi-hopital', name: 'DPI', finess: '750712184', jwksUrl: 'https://dpi.example/jwks' });
  await rejectsWith(addApp(c.ctx, base({ clientId: 'dpi-hopital' })), 'APP_EXISTS', 'conflict');
  await rejectsWith(addApp(c.ctx, base({ clientId: 'connected' })), 'APP_CLIENT_ID_INVALID');
  await rejectsWith(addApp(c.ctx, base({ name: ' ' })), 'APP_NAME_INVALID');
  // registration is audited
  const rows = await c.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'app.add').execute();
  assert.ok(rows.some((r) => JSON.parse(r.detail!).clientId === conf.clientId));
});

test('purposes as written on the command line (carnet app add --purpose)', async () => {
  assert.deepEqual(parsePurposeSpec('id=bio;label=Suivre vos analyses, résultats;categories=BIOLOGIE, CPT_REND;label-en=Lab results'), {
    id: 'bio', label: 'Suivre vos analyses, résultats', labelEn: 'Lab results', types: [], categories: ['BIOLOGIE', 'CPT_REND'],
  });
  assert.deepEqual(parsePurposeSpec('{"id":"cr","label":"CR","types":["11488-4"],"categories":[]}'), { id: 'cr', label: 'CR', types: ['11488-4'], categories: [] });
  assert.throws(() => parsePurposeSpec('just a label'), /id=/);
  assert.throws(() => parsePurposeSpec('{not json'), /JSON/);
  // what it parses still goes through the registration checks
  await rejectsWith(addApp(c.ctx, base({ purposes: [parsePurposeSpec('id=x;label=Rien')] })), 'APP_PURPOSE_INVALID');
});
