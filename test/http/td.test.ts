/**
 * The DMP transactions and the door's own contract, black-box: TD0.2 statuses, TD0.3 consent,
 * TD3.3 PATCH rules, the CapabilityStatement (exactly what is served), SMART discovery and JWKS,
 * ITI-66, ITI-67 paging and the professionals' 2-year default, security headers and request ids.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { blockPractitioner, grantConsent, setMedecinTraitant } from '../../src/services/rights.ts';
import { DAY } from '../../src/store/testing.ts';
import {
  assertAuditIntact, assertOutcome, call, clientAssertion, clientCredentials, filedIds, freshIns, iua, miniCda, newPatient,
  newPractitioner, provideBundle, recordSnapshot, registerClient, startServer, token, tokenRequest, type Server,
} from './helpers.ts';

const AUTHOR = '10011111111';
const CONSENTED = '10022222222';
const STRANGER = '10033333333';
const BLOCKED = '10044444444';
const EXPIRING = '10055555555';
const MT = '10066666666';
const READER = '10077777777'; // consented, not the médecin traitant
const HOSPITAL = '750712184';
const VIS = 'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
const ARCHIVED = 'http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived';
const EXT = 'https://carnet.example.org/fhir/StructureDefinition/';

let s: Server;
let p: { recordId: string; ins: string; oid: string };
const tk: Record<string, string> = {};
let holderToken: string;

const ident = (x: { ins: string; oid: string }) => encodeURIComponent(`urn:oid:${x.oid}|${x.ins}`);
const holder = (recordId: string) => ({ kind: 'holder' as const, id: recordId, name: 'Titulaire' });
const consentBody = (x: { ins: string; oid: string }, end?: string) => ({
  resourceType: 'Consent', status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: `Patient?identifier=urn:oid:${x.oid}|${x.ins}` },
  ...(end ? { provision: { period: { end } } } : {}),
});

async function file(x: { ins: string; oid: string }, opts: { author?: string; effectiveTime?: string; text?: string } = {}): Promise<string> {
  const author = opts.author ?? AUTHOR;
  const bytes = miniCda({ ins: x.ins, authorRpps: author, effectiveTime: opts.effectiveTime, text: opts.text ?? `${Math.random()}` });
  const [id] = filedIds(await call(s, 'POST', '/fhir', { token: tk[author] ?? (await token(s, { as: `practitioner:${author}` })), body: provideBundle(bytes, { patient: x }).bundle }));
  return id;
}
const labelCodes = (dr: any): string[] => dr.securityLabel.flatMap((c: any) => c.coding.map((x: any) => x.code));
const addLabel = (code: string) => [{ op: 'add', path: '/securityLabel/-', value: { coding: [{ system: VIS, code }] } }];
const patch = (id: string, ops: unknown, who: string) =>
  call(s, 'PATCH', `/fhir/DocumentReference/${id}`, { token: who, body: ops, contentType: 'application/json-patch+json' });
const listIds = async (x: { ins: string; oid: string }, who: string, extra = '') => {
  const r = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(x)}${extra}`, { token: who });
  assert.equal(r.status, 200, r.text);
  return r.json.entry.map((e: any) => e.resource.id) as string[];
};

before(async () => {
  s = await startServer();
  for (const rpps of [AUTHOR, CONSENTED, STRANGER, BLOCKED, EXPIRING, MT, READER]) {
    await newPractitioner(s, rpps, { professionCode: '10', finess: rpps === AUTHOR ? HOSPITAL : undefined });
    tk[rpps] = await token(s, { as: `practitioner:${rpps}` });
  }
  p = await newPatient(s);
  holderToken = await token(s, { as: `holder:${p.recordId}` });
  await setMedecinTraitant(s.carnet.ctx, holder(p.recordId), p.recordId, MT);
  await blockPractitioner(s.carnet.ctx, holder(p.recordId), p.recordId, BLOCKED);
  await grantConsent(s.carnet.ctx, holder(p.recordId), p.recordId, READER);
});
after(async () => s?.close());

describe('TD0.2 Patient?identifier=…', () => {
  const status = async (who: string, x: { ins: string; oid: string } = p) => {
    const r = await call(s, 'GET', `/fhir/Patient?identifier=${ident(x)}`, { token: who });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.resourceType, 'Bundle');
    assert.equal(r.json.type, 'searchset');
    const pt = r.json.entry[0]?.resource;
    const ext = (name: string) => pt?.extension.find((e: any) => e.url === `${EXT}${name}`);
    return { bundle: r.json, pt, auth: ext('authorization-status')?.valueCode, mt: ext('caller-is-medecin-traitant')?.valueBoolean, state: ext('record-state')?.valueCode };
  };

  test('NON_EXISTE for a professional with no standing; no identity traits disclosed', async () => {
    const r = await status(tk[STRANGER]);
    assert.equal(r.bundle.total, 1);
    assert.equal(r.auth, 'NON_EXISTE');
    assert.equal(r.mt, false);
    assert.equal(r.state, 'active');
    assert.equal(r.pt.name, undefined);
    assert.equal(r.pt.birthDate, undefined);
    assert.equal(r.pt.identifier[0].value, p.ins);
  });

  test('INTERDIT for a professional the holder blocked', async () => {
    assert.equal((await status(tk[BLOCKED])).auth, 'INTERDIT');
  });

  test('médecin traitant: VALIDE and flagged, with the traits to check identity', async () => {
    const r = await status(tk[MT]);
    assert.equal(r.auth, 'VALIDE');
    assert.equal(r.mt, true);
    assert.equal(r.pt.name[0].family, 'TESTNOM');
  });

  test('TD0.3 POST Consent, then VALIDE and reading allowed', async () => {
    const id = await file(p);
    assert.equal((await status(tk[CONSENTED])).auth, 'NON_EXISTE');
    assert.equal((await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: tk[CONSENTED] })).status, 403);
    assert.equal((await call(s, 'GET', `/fhir/Binary/${id}`, { token: tk[CONSENTED], headers: { accept: '*/*' } })).status, 403);
    const c = await call(s, 'POST', '/fhir/Consent', { token: tk[CONSENTED], body: consentBody(p) });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.resourceType, 'Consent');
    assert.ok(c.headers.get('location'));
    // the Location answers: the holder reads the consent back, and so does the professional it names
    const path = new URL(c.headers.get('location')!).pathname;
    for (const t of [holderToken, tk[CONSENTED]]) {
      const back = await call(s, 'GET', path, { token: t });
      assert.equal(back.status, 200, back.text);
      assert.equal(back.json.id, c.json.id);
      assert.equal(back.json.provision.actor[0].reference.identifier.value, `8${CONSENTED}`);
    }
    // a professional the consent is not about does not see it
    assert.equal((await call(s, 'GET', path, { token: tk[EXPIRING] })).status, 404);
    const r = await status(tk[CONSENTED]);
    assert.equal(r.auth, 'VALIDE');
    assert.equal(r.mt, false);
    assert.ok((await listIds(p, tk[CONSENTED])).includes(id));
    assert.equal((await call(s, 'GET', `/fhir/Binary/${id}`, { token: tk[CONSENTED], headers: { accept: '*/*' } })).status, 200);
    // the refused reads before the consent are in the history the holder reads
    const history = await call(s, 'GET', `/fhir/AuditEvent?patient=Patient/${p.recordId}`, { token: holderToken });
    const denied = history.json.entry.map((e: any) => e.resource)
      .filter((a: any) => a.agent[0].who.identifier?.value === `8${CONSENTED}` && a.outcome === '4').map((a: any) => a.subtype[0].code);
    assert.ok(denied.includes('document.read') && denied.includes('document.list'), JSON.stringify(denied));
    // a professional may record a consent for themself only
    const forOther = await call(s, 'POST', '/fhir/Consent', {
      token: tk[STRANGER],
      body: { ...consentBody(p), provision: { actor: [{ role: { coding: [{ code: 'IRCP' }] }, reference: { identifier: { system: 'urn:oid:1.2.250.1.71.4.2.1', value: `8${BLOCKED}` } } }] } },
    });
    assert.equal(forOther.status, 403, forOther.text);
    assert.equal((await status(tk[BLOCKED])).auth, 'INTERDIT');
    // the holder sees the consent among their authorizations
    const mine = await call(s, 'GET', `/fhir/Consent?patient=Patient/${p.recordId}`, { token: holderToken });
    assert.ok(mine.json.entry.some((e: any) => e.resource.provision.actor?.[0]?.reference?.identifier?.value === `8${CONSENTED}` && e.resource.status === 'active'));
  });

  test('EXPIRE once a time-limited consent has run out', async () => {
    const end = new Date(s.carnet.ctx.clock().getTime() + DAY).toISOString();
    assert.equal((await call(s, 'POST', '/fhir/Consent', { token: tk[EXPIRING], body: consentBody(p, end) })).status, 201);
    assert.equal((await status(tk[EXPIRING])).auth, 'VALIDE');
    s.carnet.advance(2 * DAY);
    try {
      const fresh = await token(s, { as: `practitioner:${EXPIRING}` });
      assert.equal((await status(fresh)).auth, 'EXPIRE');
      assert.equal((await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: fresh })).status, 403);
    } finally {
      s.carnet.advance(-2 * DAY);
    }
  });

  test('unknown INS → an empty searchset', async () => {
    const r = await status(tk[STRANGER], { ins: freshIns(), oid: p.oid });
    assert.equal(r.bundle.total, 0);
    assert.deepEqual(r.bundle.entry, []);
  });

  test('malformed INS → 400 INS_KEY / INS_LENGTH; no system|value → 400', async () => {
    const bad = p.ins.slice(0, 13) + String((Number(p.ins.slice(13)) % 97) + 1).padStart(2, '0');
    assertOutcome(await call(s, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:oid:${p.oid}|${bad}`)}`, { token: tk[STRANGER] }), 400, 'INS_KEY');
    assertOutcome(await call(s, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:oid:${p.oid}|${p.ins}0`)}`, { token: tk[STRANGER] }), 400, 'INS_LENGTH');
    assertOutcome(await call(s, 'GET', `/fhir/Patient?identifier=${p.ins}`, { token: tk[STRANGER] }), 400, 'SEARCH_BAD_VALUE');
    assertOutcome(await call(s, 'GET', `/fhir/Patient?identifier=${encodeURIComponent(`urn:oid:1.2.3|${p.ins}`)}`, { token: tk[STRANGER] }), 400, 'SEARCH_BAD_VALUE');
  });
});

describe('TD3.3 PATCH DocumentReference', () => {
  test('MASQUE_PS by the holder: consented professionals no longer see it; the médecin traitant, the author and the holder do', async () => {
    const id = await file(p);
    assert.ok((await listIds(p, tk[READER])).includes(id));
    const r = await patch(id, addLabel('MASQUE_PS'), holderToken);
    assert.equal(r.status, 200, r.text);
    assert.ok(labelCodes(r.json).includes('MASQUE_PS'));
    assert.ok(!(await listIds(p, tk[READER])).includes(id));
    assertOutcome(await call(s, 'GET', `/fhir/Binary/${id}`, { token: tk[READER], headers: { accept: '*/*' } }), 404, 'DOCUMENT_UNKNOWN');
    assert.ok((await listIds(p, tk[MT])).includes(id));
    assert.ok((await listIds(p, tk[AUTHOR])).includes(id));
    assert.ok((await listIds(p, holderToken)).includes(id));
    // a professional who is neither the author nor on the holder's side may not mask or unmask
    assertOutcome(await patch(id, [{ op: 'remove', path: `/securityLabel/${labelCodes(r.json).indexOf('MASQUE_PS')}` }], tk[MT]), 403, 'NOT_AUTHOR');
    // unmask
    const back = await patch(id, [{ op: 'remove', path: `/securityLabel/${labelCodes(r.json).indexOf('MASQUE_PS')}` }], holderToken);
    assert.equal(back.status, 200, back.text);
    assert.ok((await listIds(p, tk[READER])).includes(id));
  });

  test('INVISIBLE_PATIENT by the author: hidden from the holder, not from professionals', async () => {
    const id = await file(p);
    const r = await patch(id, addLabel('INVISIBLE_PATIENT'), tk[AUTHOR]);
    assert.equal(r.status, 200, r.text);
    assert.ok(!(await listIds(p, holderToken)).includes(id));
    assert.ok((await listIds(p, tk[MT])).includes(id));
    // the holder may not set it, nor another professional
    const id2 = await file(p);
    assertOutcome(await patch(id2, addLabel('INVISIBLE_PATIENT'), holderToken), 403, 'NOT_AUTHOR');
    assertOutcome(await patch(id2, addLabel('INVISIBLE_PATIENT'), tk[MT]), 403, 'NOT_AUTHOR');
  });

  test('MASQUE_PS and INVISIBLE_PATIENT together → 422 FLAGS_NOT_COMBINABLE, nothing changed', async () => {
    const id = await file(p);
    const before = await recordSnapshot(s, p.recordId);
    assertOutcome(await patch(id, [...addLabel('MASQUE_PS'), ...addLabel('INVISIBLE_PATIENT')], tk[AUTHOR]), 422, 'FLAGS_NOT_COMBINABLE');
    assert.deepEqual(await recordSnapshot(s, p.recordId), before);
    const dr = await call(s, 'GET', `/fhir/DocumentReference/${id}`, { token: tk[AUTHOR] });
    assert.deepEqual(labelCodes(dr.json), ['N']);
    // one already set, the other added
    assert.equal((await patch(id, addLabel('INVISIBLE_PATIENT'), tk[AUTHOR])).status, 200);
    assertOutcome(await patch(id, addLabel('MASQUE_PS'), tk[AUTHOR]), 422, 'FLAGS_NOT_COMBINABLE');
    await assertAuditIntact(s);
  });

  test('entered-in-error by the author only; then 410 on read', async () => {
    const id = await file(p);
    const before = await recordSnapshot(s, p.recordId);
    assertOutcome(await patch(id, [{ op: 'replace', path: '/status', value: 'entered-in-error' }], tk[MT]), 403, 'NOT_AUTHOR');
    assertOutcome(await patch(id, [{ op: 'replace', path: '/status', value: 'entered-in-error' }], holderToken), 403, 'NOT_AUTHOR');
    assert.deepEqual(await recordSnapshot(s, p.recordId), before);
    // a deletion does not ride along with other changes
    assertOutcome(await patch(id, [{ op: 'replace', path: '/status', value: 'entered-in-error' }, ...addLabel('MASQUE_PS')], tk[AUTHOR]), 400, 'PATCH_UNSUPPORTED_CHANGE');
    const r = await patch(id, [{ op: 'replace', path: '/status', value: 'entered-in-error' }], tk[AUTHOR]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'entered-in-error');
    assertOutcome(await call(s, 'GET', `/fhir/Binary/${id}`, { token: tk[MT], headers: { accept: '*/*' } }), 410, 'DOCUMENT_DELETED');
    assert.ok(!(await listIds(p, tk[MT])).includes(id));
  });

  test('archive: out of the default listing, back with isArchived=true; other changes refused', async () => {
    const id = await file(p);
    const r = await patch(id, [{ op: 'add', path: '/extension', value: [{ url: ARCHIVED, valueBoolean: true }] }], holderToken);
    assert.equal(r.status, 200, r.text);
    assert.ok(!(await listIds(p, tk[MT])).includes(id));
    assert.ok((await listIds(p, tk[MT], '&isArchived=true')).includes(id));
    assertOutcome(await patch(id, [{ op: 'replace', path: '/type/coding/0/code', value: '11502-2' }], tk[AUTHOR]), 400, 'PATCH_UNSUPPORTED_CHANGE');
    assertOutcome(await patch(id, [{ op: 'replace', path: '/status', value: 'superseded' }], tk[AUTHOR]), 400, 'PATCH_UNSUPPORTED_CHANGE');
    assertOutcome(await patch(id, { op: 'add' }, tk[AUTHOR]), 400, 'PATCH_INVALID');
  });
});

describe('CapabilityStatement: exactly what is served', () => {
  test('each declared interaction answers; undeclared ones do not exist', async () => {
    const cs = (await call(s, 'GET', '/fhir/metadata')).json;
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.deepEqual(cs.format.filter((f: string) => /xml/.test(f)), []);
    const rest = cs.rest[0];
    assert.deepEqual(rest.interaction.map((i: any) => i.code), ['transaction']);
    const declared = new Map<string, Set<string>>(rest.resource.map((r: any) => [r.type, new Set(r.interaction.map((i: any) => i.code))]));
    assert.deepEqual([...declared.keys()].sort(), ['AuditEvent', 'Binary', 'Consent', 'DocumentReference', 'List', 'Patient']);
    const id = await file(p);
    let consentId = 'none';
    const probes: Record<string, Record<string, () => Promise<{ status: number; json: any }>>> = {
      Patient: {
        'search-type': () => call(s, 'GET', `/fhir/Patient?identifier=${ident(p)}`, { token: tk[MT] }),
        read: () => call(s, 'GET', `/fhir/Patient/${p.recordId}`, { token: tk[MT] }),
      },
      DocumentReference: {
        'search-type': () => call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: tk[MT] }),
        read: () => call(s, 'GET', `/fhir/DocumentReference/${id}`, { token: tk[MT] }),
        patch: () => patch(id, [{ op: 'add', path: '/extension', value: [{ url: ARCHIVED, valueBoolean: false }] }], tk[AUTHOR]),
        update: () => call(s, 'PUT', `/fhir/DocumentReference/${id}`, { token: tk[AUTHOR], body: { resourceType: 'DocumentReference' } }),
        delete: () => call(s, 'DELETE', `/fhir/DocumentReference/${id}`, { token: tk[AUTHOR] }),
        create: () => call(s, 'POST', '/fhir/DocumentReference', { token: tk[AUTHOR], body: { resourceType: 'DocumentReference' } }),
      },
      Binary: {
        read: () => call(s, 'GET', `/fhir/Binary/${id}`, { token: tk[MT] }),
        'search-type': () => call(s, 'GET', '/fhir/Binary', { token: tk[MT] }),
      },
      List: {
        'search-type': () => call(s, 'GET', `/fhir/List?patient.identifier=${ident(p)}`, { token: tk[MT] }),
        read: () => call(s, 'GET', `/fhir/List/${id}`, { token: tk[MT] }),
      },
      Consent: {
        create: async () => {
          const r = await call(s, 'POST', '/fhir/Consent', { token: tk[CONSENTED], body: consentBody(p) });
          consentId = r.json?.id;
          return r;
        },
        'search-type': () => call(s, 'GET', `/fhir/Consent?patient=Patient/${p.recordId}`, { token: holderToken }),
        read: () => call(s, 'GET', `/fhir/Consent/${consentId}`, { token: holderToken }),
      },
      AuditEvent: {
        'search-type': () => call(s, 'GET', `/fhir/AuditEvent?patient=Patient/${p.recordId}`, { token: holderToken }),
        read: () => call(s, 'GET', '/fhir/AuditEvent/1', { token: holderToken }),
      },
    };
    const noRoute = (r: { status: number; json: any }) => r.status === 404 && /^No route/.test(r.json?.issue?.[0]?.diagnostics ?? '');
    for (const [type, byInteraction] of Object.entries(probes)) {
      for (const [interaction, probe] of Object.entries(byInteraction)) {
        const r = await probe();
        const isDeclared = declared.get(type)!.has(interaction);
        assert.equal(!noRoute(r), isDeclared, `${type} ${interaction}: declared ${isDeclared}, got ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
        if (isDeclared) assert.ok(r.status < 300, `${type} ${interaction}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
      }
      for (const i of declared.get(type)!) assert.ok(i in byInteraction, `${type} ${i} declared but not probed`);
    }
    // the transaction (ITI-65) is declared and served
    assert.equal(typeof (await file(p)), 'string');
  });

  test('every declared search parameter is understood (Prefer: handling=strict) and typed', async () => {
    const cs = (await call(s, 'GET', '/fhir/metadata')).json;
    const byType: Record<string, string> = { token: 'x', date: 'ge2000-01-01', string: 'x', number: '10', reference: 'x', special: '-date' };
    const special: Record<string, string> = { status: 'current', code: 'submissionset', isArchived: 'false', _offset: '0' };
    const dateNames = new Set(['date', 'period', 'creation']);
    let checked = 0;
    for (const res of cs.rest[0].resource) {
      if (!res.interaction.some((i: any) => i.code === 'search-type')) continue;
      const who = res.type === 'AuditEvent' || res.type === 'Consent' ? holderToken : tk[MT];
      for (const sp of res.searchParam ?? []) {
        if (dateNames.has(sp.name)) assert.equal(sp.type, 'date', `${res.type}.${sp.name}`);
        if (sp.name === 'patient') assert.equal(sp.type, 'reference');
        if (sp.name === '_count') assert.equal(sp.type, 'number');
        const base = res.type === 'Patient' ? '/fhir/Patient?' : `/fhir/${res.type}?patient.identifier=${ident(p)}&`;
        let q: string;
        if (res.type === 'Patient') q = `identifier=${ident(p)}`;
        else if (sp.name === 'patient') q = `patient=Patient/${p.recordId}`;
        else if (sp.name === 'patient.identifier') q = `patient.identifier=${ident(p)}`;
        else q = `${sp.name}=${encodeURIComponent(special[sp.name] ?? byType[sp.type] ?? 'x')}`;
        const url = sp.name.startsWith('patient') || res.type === 'Patient' ? `/fhir/${res.type}?${q}` : `${base}${q}`;
        const r = await call(s, 'GET', url, { token: who, headers: { prefer: 'handling=strict' } });
        assert.equal(r.status, 200, `${res.type}?${sp.name}: ${r.status} ${r.text.slice(0, 300)}`);
        checked++;
      }
    }
    assert.ok(checked > 30, `only ${checked} parameters checked`);
    // and one that is not declared is refused under strict handling
    assertOutcome(await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}&unknown-param=1`, { token: tk[MT], headers: { prefer: 'handling=strict' } }), 400, 'SEARCH_UNKNOWN_PARAMETER');
  });
});

describe('SMART discovery and keys', () => {
  test('smart-configuration names the token endpoint and JWKS that are served', async () => {
    const r = await call(s, 'GET', '/fhir/.well-known/smart-configuration', { headers: { accept: 'application/json' } });
    assert.equal(r.status, 200, r.text);
    const c = r.json;
    assert.equal(c.token_endpoint, `${s.baseUrl}/oauth2/token`);
    assert.equal(c.jwks_uri, `${s.baseUrl}/oauth2/jwks`);
    assert.ok(c.grant_types_supported.includes('client_credentials'));
    assert.ok(c.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    assert.deepEqual([...c.token_endpoint_auth_signing_alg_values_supported].sort(), ['ES384', 'RS384']);
    assert.ok(c.capabilities.includes('client-confidential-asymmetric'));
    assert.ok(c.scopes_supported.includes('system/DocumentReference.crus'));
  });

  test('the JWKS holds public keys only, and verifies the access tokens the token endpoint issues', async () => {
    const jwks = await call(s, 'GET', '/oauth2/jwks', { headers: { accept: 'application/json' } });
    assert.equal(jwks.status, 200);
    assert.ok(jwks.json.keys.length >= 1);
    for (const k of jwks.json.keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(k[priv], undefined);
    const c = await registerClient(s, { alg: 'ES384', finess: HOSPITAL });
    const t = await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(AUTHOR) })));
    assert.equal(t.status, 200, t.text);
    const { payload, protectedHeader } = await jwtVerify(t.json.access_token, createLocalJWKSet(jwks.json), {
      issuer: s.baseUrl, audience: s.fhir, currentDate: s.carnet.ctx.clock(),
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal((payload.carnet_actor as any).rpps, AUTHOR);
    assert.equal((payload.carnet_actor as any).organisation, HOSPITAL);
    assert.ok(t.json.expires_in <= 300);
  });
});

describe('ITI-66 and ITI-67 paging and default period', () => {
  test('ITI-66: the submission sets, with the documents the caller may see', async () => {
    const q = await newPatient(s);
    const id = await file(q);
    const r = await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}&code=submissionset`, { token: tk[AUTHOR] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.total, 1);
    const list = r.json.entry[0].resource;
    assert.equal(list.resourceType, 'List');
    assert.equal(list.code.coding[0].code, 'submissionset');
    assert.ok(list.extension.some((e: any) => /ihe-sourceId$/.test(e.url) && e.valueIdentifier.value === 'urn:oid:1.2.250.1.999.1'));
    assert.deepEqual(list.entry.map((e: any) => e.item.reference), [`DocumentReference/${id}`]);
    assert.equal(list.subject.identifier.value, q.ins);
    // the ITI-66 parameters are applied: identifier, date, paging
    const id2 = await file(q);
    const both = await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}`, { token: tk[AUTHOR] });
    assert.equal(both.json.total, 2);
    const uid = both.json.entry[0].resource.identifier.find((i: any) => i.use === 'usual').value;
    const one = await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}&identifier=${encodeURIComponent(uid)}`, { token: tk[AUTHOR] });
    assert.equal(one.json.total, 1);
    assert.equal(one.json.entry[0].resource.identifier.find((i: any) => i.use === 'usual').value, uid);
    assert.equal((await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}&identifier=urn:oid:1.2.3.4`, { token: tk[AUTHOR] })).json.total, 0);
    assert.equal((await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}&date=lt2000-01-01`, { token: tk[AUTHOR] })).json.total, 0);
    const page1 = await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}&_count=1`, { token: tk[AUTHOR] });
    assert.equal(page1.json.entry.length, 1);
    const next = page1.json.link.find((l: any) => l.relation === 'next')?.url;
    assert.ok(next, JSON.stringify(page1.json.link));
    const page2 = await call(s, 'GET', next, { token: tk[AUTHOR] });
    assert.deepEqual(
      [...page1.json.entry, ...page2.json.entry].flatMap((e: any) => e.resource.entry.map((x: any) => x.item.reference)).sort(),
      [`DocumentReference/${id}`, `DocumentReference/${id2}`].sort(),
    );
    // a professional with no standing sees no submission set (and learns nothing of the documents)
    const stranger = await call(s, 'GET', `/fhir/List?patient.identifier=${ident(q)}`, { token: tk[STRANGER] });
    assert.ok(stranger.status === 403 || stranger.json.total === 0, stranger.text);
  });

  test('_count pages with a next link until every match was served once', async () => {
    const q = await newPatient(s);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add(await file(q));
    const seen: string[] = [];
    let url: string | undefined = `/fhir/DocumentReference?patient.identifier=${ident(q)}&_count=2`;
    let pages = 0;
    while (url) {
      const r = await call(s, 'GET', url, { token: tk[AUTHOR] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.total, 5);
      assert.ok(r.json.entry.length <= 2);
      seen.push(...r.json.entry.map((e: any) => e.resource.id));
      url = r.json.link.find((l: any) => l.relation === 'next')?.url;
      if (url) assert.ok(url.startsWith(s.fhir), url);
      pages++;
      assert.ok(pages <= 3);
    }
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  test('professionals list the last 2 years by default; an explicit period or the holder see older ones', async () => {
    const q = await newPatient(s);
    const old = await file(q, { effectiveTime: '20230115100000+0100' });
    const recent = await file(q, { effectiveTime: '20250615100000+0200' });
    assert.deepEqual(await listIds(q, tk[AUTHOR]), [recent]);
    assert.deepEqual((await listIds(q, tk[AUTHOR], '&creation=ge2020-01-01')).sort(), [old, recent].sort());
    const h = await token(s, { as: `holder:${q.recordId}` });
    assert.deepEqual((await listIds(q, h)).sort(), [old, recent].sort());
  });
});

describe('headers on every response', () => {
  test('security headers and x-request-id (given one echoed, a bad one replaced)', async () => {
    const responses = [
      await call(s, 'GET', '/fhir/metadata'),
      await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`),
      await call(s, 'GET', '/fhir/Nothing'),
      await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: tk[MT] }),
    ];
    for (const r of responses) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.ok(r.headers.get('x-frame-options'));
      assert.match(r.headers.get('x-request-id') ?? '', /^[A-Za-z0-9._-]{1,64}$/);
    }
    assert.notEqual(responses[0].headers.get('x-request-id'), responses[1].headers.get('x-request-id'));
    const echoed = await call(s, 'GET', '/fhir/metadata', { headers: { 'x-request-id': 'hospital-req-42' } });
    assert.equal(echoed.headers.get('x-request-id'), 'hospital-req-42');
    const replaced = await call(s, 'GET', '/fhir/metadata', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    assert.notEqual(replaced.headers.get('x-request-id'), 'bad id\twith spaces');
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const bin = await call(s, 'GET', `/fhir/Binary/${await file(p)}`, { token: tk[MT], headers: { accept: '*/*' } });
    assert.equal(bin.headers.get('cache-control'), 'no-store');
    assert.equal(bin.headers.get('x-content-type-options'), 'nosniff');
  });
});
