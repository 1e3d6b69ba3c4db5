/**
 * What the door refuses, over real HTTP: each case with its status and OperationOutcome code (RFC
 * 6749 errors at the token endpoint), and after each the record unchanged (documents, submission
 * sets and blobs as before, nothing found by ITI-67) and every audit chain intact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { mintToken } from '../../src/auth/access-token.ts';
import { createInMemorySigningKey } from '../../src/auth/signing-keys.ts';
import {
  assertAuditIntact, assertOutcome, call, cdaFixture, clientAssertion, clientCredentials, freshIns, iua, miniCda, newPatient,
  newPractitioner, provideBundle, recordSnapshot, registerClient, startServer, token, tokenRequest, type Reply, type Server,
  type TestClient,
} from './helpers.ts';

const DR = '10004567891';
const FINESS = '750712184';

let s: Server;
let t: string;
let p: { recordId: string; ins: string; oid: string };
let other: { recordId: string; ins: string; oid: string };

before(async () => {
  s = await startServer();
  p = await newPatient(s);
  other = await newPatient(s);
  await newPractitioner(s, DR, { finess: FINESS });
  t = await token(s, { as: `practitioner:${DR}` });
});
after(async () => s?.close());

const ident = (x: { ins: string; oid: string }) => encodeURIComponent(`urn:oid:${x.oid}|${x.ins}`);
const goodCda = (text = randomUUID()) => miniCda({ ins: p.ins, authorRpps: DR, text });
const bundleFor = (bytes: Buffer, opts: Partial<Parameters<typeof provideBundle>[1]> = {}) => provideBundle(bytes, { patient: p, ...opts }).bundle;

/** Runs `act`, then checks nothing changed on the record and the audit chains verify. */
async function unchanged(act: () => Promise<void>, record = p) {
  const before = await recordSnapshot(s, record.recordId);
  await act();
  assert.deepEqual(await recordSnapshot(s, record.recordId), before);
  // through ITI-67 too, as the holder (who sees every document filed here)
  const holderToken = await token(s, { as: `holder:${record.recordId}` });
  const listed = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(record)}&status=current,superseded,entered-in-error&date=ge2000`, { token: holderToken });
  assert.equal(listed.status, 200);
  assert.equal(listed.json.total, before.docs.length);
  await assertAuditIntact(s);
}

const post = (body: unknown, opts: { token?: string; contentType?: string; headers?: Record<string, string> } = {}) =>
  call(s, 'POST', '/fhir', { token: opts.token ?? t, body, contentType: opts.contentType, headers: opts.headers });

describe('the baseline is accepted (so each refusal below is about its one defect)', () => {
  test('a well-formed submission files one document', async () => {
    const r = await post(bundleFor(goodCda()));
    assert.equal(r.status, 200, r.text);
    assert.equal((await recordSnapshot(s, p.recordId)).docs.length, 1);
  });
});

describe('ITI-65 refusals', () => {
  const cases: Array<[string, number, string, (b: any) => void]> = [
    ['bad patient link', 400, 'MHD_BAD_PATIENT_LINK', (b) => {
      for (const e of b.entry) if (e.resource.subject) e.resource.subject = { reference: 'Patient?name=TESTNOM' };
    }],
    ['missing sourceId', 400, 'MHD_MISSING_SOURCE_ID', (b) => {
      b.entry[0].resource.extension = [];
    }],
    ['missing submission time', 400, 'MHD_MISSING_SUBMISSION_TIME', (b) => {
      delete b.entry[0].resource.date;
    }],
    ['missing MIME type', 400, 'MHD_MISSING_CONTENT_TYPE', (b) => {
      delete b.entry[1].resource.content[0].attachment.contentType;
    }],
    ['wrong profile', 400, 'MHD_WRONG_PROFILE', (b) => {
      b.meta.profile = ['http://hl7.org/fhir/StructureDefinition/Bundle-not-mhd'];
    }],
    ['bad entryUUID', 400, 'MHD_BAD_ENTRY_UUID', (b) => {
      b.entry[1].resource.identifier = [{ use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:not-a-uuid' }];
    }],
    ['hash mismatch', 400, 'MHD_HASH_MISMATCH', (b) => {
      b.entry[1].resource.content[0].attachment.hash = createHash('sha1').update('other bytes').digest('base64');
    }],
    ['size mismatch', 400, 'MHD_SIZE_MISMATCH', (b) => {
      b.entry[1].resource.content[0].attachment.size += 1;
    }],
    ['not a transaction', 400, 'MHD_NOT_A_TRANSACTION', (b) => {
      b.type = 'batch';
    }],
    ['no SubmissionSet', 400, 'MHD_MISSING_SUBMISSION_SET', (b) => {
      b.entry.shift();
    }],
  ];
  for (const [name, status, code, edit] of cases) {
    test(`${name} → ${status} ${code}`, () => unchanged(async () => assertOutcome(await post(bundleFor(goodCda(), { edit })), status, code)));
  }

  test('atomic: two documents, the second one wrong → 422, and the first one is not filed either', () =>
    unchanged(async () => {
      const a = provideBundle(goodCda(), { patient: p }).bundle;
      const b = provideBundle(miniCda({ ins: other.ins, authorRpps: DR }), { patient: p }).bundle;
      a.entry.push(b.entry[1], b.entry[2]);
      a.entry[0].resource.entry.push({ item: { reference: b.entry[1].fullUrl } });
      const r = await post(a);
      assertOutcome(r, 422, 'CDA_PATIENT_MISMATCH');
      assert.ok(r.json.issue[0].expression.some((e: string) => e.startsWith('documents[1]')), JSON.stringify(r.json.issue[0].expression));
    }));

  test('unqualified INS (identity provisoire) → 422 INS_NOT_QUALIFIED', async () => {
    const prov = await newPatient(s, { identityStatus: 'provisoire' });
    await unchanged(async () => {
      const r = await post(provideBundle(miniCda({ ins: prov.ins, authorRpps: DR }), { patient: prov }).bundle);
      assertOutcome(r, 422, 'INS_NOT_QUALIFIED');
    }, prov);
  });

  test('CDA header naming another patient → 422 CDA_PATIENT_MISMATCH', () =>
    unchanged(async () => {
      const r = await post(bundleFor(miniCda({ ins: other.ins, authorRpps: DR })));
      assertOutcome(r, 422, 'CDA_PATIENT_MISMATCH');
    }));

  test('CDA header with another type than the metadata → 422 CDA_TYPE_MISMATCH', () =>
    unchanged(async () => {
      const bytes = miniCda({ ins: p.ins, authorRpps: DR, typeCode: '11502-2' });
      const r = await post(bundleFor(bytes, { metadata: { type: { system: 'http://loinc.org', code: '11488-4' } } }));
      assertOutcome(r, 422, 'CDA_TYPE_MISMATCH');
    }));

  test('CDA header with no author in common with the metadata → 422 CDA_AUTHOR_MISMATCH', () =>
    unchanged(async () => {
      const bytes = goodCda();
      const r = await post(bundleFor(bytes, { metadata: { authors: [{ kind: 'practitioner', rpps: '10009999999' }] } }));
      assertOutcome(r, 422, 'CDA_AUTHOR_MISMATCH');
    }));

  test('a real fixture filed for the wrong patient → 422 CDA_PATIENT_MISMATCH', () =>
    unchanged(async () => {
      const r = await post(bundleFor(cdaFixture('VAC-NOTE_2023.01.xml')));
      assertOutcome(r, 422, 'CDA_PATIENT_MISMATCH');
    }));

  test('XXE: a CDA with an external entity inside the Binary → 400 XML_DTD_FORBIDDEN, nothing read', () =>
    unchanged(async () => {
      const xxe = Buffer.from(`<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
        goodCda().toString('utf8').replace(/^<\?xml[^>]*>\n/, '').replace('compte rendu de test', '&xxe;'));
      const r = await post(bundleFor(xxe, { fullMetadata: provideBundle(goodCda(), { patient: p }).metadata }));
      assertOutcome(r, 400, 'XML_DTD_FORBIDDEN');
      assert.ok(!/root:/.test(r.text));
    }));

  test('billion laughs: nested entities inside the Binary → 400 XML_DTD_FORBIDDEN', () =>
    unchanged(async () => {
      const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)].join('');
      const bomb = Buffer.from(`<?xml version="1.0"?>\n<!DOCTYPE ClinicalDocument [${lol}]>\n` +
        goodCda().toString('utf8').replace(/^<\?xml[^>]*>\n/, '').replace('compte rendu de test', '&lol9;'));
      const r = await post(bundleFor(bomb, { fullMetadata: provideBundle(goodCda(), { patient: p }).metadata }));
      assertOutcome(r, 400, 'XML_DTD_FORBIDDEN');
    }));

  test('malformed JSON → 400 JSON_MALFORMED', () =>
    unchanged(async () => assertOutcome(await post('{"resourceType":"Bundle","type":"transaction",'), 400, 'JSON_MALFORMED')));

  test('an XML body → 415 FHIR_XML_NOT_SUPPORTED', () =>
    unchanged(async () => {
      const r = await post('<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/></Bundle>', { contentType: 'application/fhir+xml' });
      assertOutcome(r, 415, 'FHIR_XML_NOT_SUPPORTED');
    }));

  test('an unknown media type → 415', () =>
    unchanged(async () => {
      const r = await post('resourceType=Bundle', { contentType: 'text/plain' });
      assertOutcome(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }));

  test('_format=xml → 406 FHIR_NOT_ACCEPTABLE (and Accept: application/fhir+xml)', async () => {
    assertOutcome(await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}&_format=xml`, { token: t }), 406, 'FHIR_NOT_ACCEPTABLE');
    assertOutcome(await call(s, 'GET', '/fhir/metadata', { headers: { accept: 'application/fhir+xml' } }), 406, 'FHIR_NOT_ACCEPTABLE');
    await unchanged(async () => assertOutcome(await call(s, 'POST', '/fhir?_format=xml', { token: t, body: bundleFor(goodCda()) }), 406, 'FHIR_NOT_ACCEPTABLE'));
  });

  test('unknown patient (valid INS, no record) → 404 PATIENT_UNKNOWN, on ITI-65 and ITI-67', async () => {
    const nobody = { ins: freshIns(), oid: p.oid };
    assertOutcome(await post(provideBundle(miniCda({ ins: nobody.ins, authorRpps: DR }), { patient: nobody }).bundle), 404, 'PATIENT_UNKNOWN');
    assertOutcome(await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(nobody)}`, { token: t }), 404, 'PATIENT_UNKNOWN');
    assertOutcome(await call(s, 'GET', '/fhir/DocumentReference?patient=Patient/00000000-0000-0000-0000-000000000000', { token: t }), 404, 'PATIENT_UNKNOWN');
    await assertAuditIntact(s);
  });

  test('a duplicate uniqueId → 409 DOCUMENT_DUPLICATE_UNIQUE_ID, and the same bytes again → 409 DOCUMENT_IDENTICAL', async () => {
    const bytes = goodCda();
    const first = await post(bundleFor(bytes));
    assert.equal(first.status, 200, first.text);
    await unchanged(async () => {
      assertOutcome(await post(bundleFor(goodCda(), { metadata: { uniqueId: provideBundle(bytes, { patient: p }).metadata.uniqueId } })), 409, 'DOCUMENT_DUPLICATE_UNIQUE_ID');
      assertOutcome(await post(bundleFor(bytes, { metadata: { uniqueId: `1.2.250.1.999.4.${Date.now()}` } })), 409, 'DOCUMENT_IDENTICAL');
    });
  });
});

describe('oversized body', () => {
  let small: Server;
  before(async () => {
    small = await startServer({ bodyLimitBytes: 16_384 });
  });
  after(async () => small?.close());

  test('a body over bodyLimitBytes → 413 BODY_TOO_LARGE, nothing filed', async () => {
    const q = await newPatient(small);
    await newPractitioner(small, DR, { finess: FINESS });
    const tk = await token(small, { as: `practitioner:${DR}` });
    const bytes = miniCda({ ins: q.ins, authorRpps: DR, text: 'x'.repeat(20_000) });
    const r = await call(small, 'POST', '/fhir', { token: tk, body: provideBundle(bytes, { patient: q }).bundle });
    assertOutcome(r, 413, 'BODY_TOO_LARGE');
    assert.equal((await recordSnapshot(small, q.recordId)).docs.length, 0);
    // a small one still goes through
    const ok = await call(small, 'POST', '/fhir', { token: tk, body: provideBundle(miniCda({ ins: q.ins, authorRpps: DR }), { patient: q }).bundle });
    assert.equal(ok.status, 200, ok.text);
  });
});

describe('rate limit', () => {
  let limited: Server;
  before(async () => {
    limited = await startServer({ rateLimitPerMinute: 3 });
  });
  after(async () => limited?.close());

  test('past the limit → 429 RATE_LIMITED with Retry-After', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await call(limited, 'GET', '/fhir/metadata')).status, 200);
    const r = await call(limited, 'GET', '/fhir/metadata');
    assertOutcome(r, 429, 'RATE_LIMITED');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.ok(r.headers.get('x-request-id'));
  });
});

describe('search values shaped like SQL', () => {
  test("type=' OR 1=1 -- finds nothing and errors nothing", async () => {
    const base = `/fhir/DocumentReference?patient.identifier=${ident(p)}&date=ge2000`;
    const all = await call(s, 'GET', base, { token: t });
    assert.equal(all.status, 200);
    assert.ok(all.json.total >= 1);
    for (const v of ["' OR 1=1 --", "11488-4' OR '1'='1", '"; DROP TABLE documents; --', '%', '_']) {
      for (const param of ['type', 'category', 'identifier', 'author.family', 'security-label']) {
        const r = await call(s, 'GET', `${base}&${param}=${encodeURIComponent(v)}`, { token: t });
        assert.equal(r.status, 200, `${param}=${v}: ${r.text.slice(0, 200)}`);
        assert.equal(r.json.total, 0, `${param}=${v} matched something`);
      }
    }
    // in the patient parameter it is not an INS: a clear 400, not a 500
    const r = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${p.oid}|' OR 1=1 --`)}`, { token: t });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    const r2 = await call(s, 'GET', `/fhir/DocumentReference?patient=${encodeURIComponent("x' OR '1'='1")}`, { token: t });
    assert.ok([400, 404].includes(r2.status), r2.text);
    assert.equal((await call(s, 'GET', base, { token: t })).json.total, all.json.total);
    await assertAuditIntact(s);
  });
});

describe('access tokens at the FHIR endpoints', () => {
  const search = () => `/fhir/DocumentReference?patient.identifier=${ident(p)}`;
  const payload = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(s.carnet.ctx.clock().getTime() / 1000);
    return {
      iss: s.baseUrl, aud: s.fhir, sub: 'carnet-cli', client_id: 'carnet-cli', iat: now, exp: now + 300, jti: randomUUID(),
      scope: 'user/*.cruds', carnet_actor: { kind: 'professional', rpps: DR, name: 'Dr', profession_code: '10', purpose_of_use: 'normal' }, ...over,
    };
  };

  test('no token → 401 TOKEN_MISSING with WWW-Authenticate', async () => {
    const r = await call(s, 'GET', search());
    assertOutcome(r, 401, 'TOKEN_MISSING');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  test('alg: none → 401 TOKEN_INVALID', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(payload())}.`;
    await unchanged(async () => assertOutcome(await post(bundleFor(goodCda()), { token: unsigned }), 401, 'TOKEN_INVALID'));
    assertOutcome(await call(s, 'GET', search(), { token: unsigned }), 401, 'TOKEN_INVALID');
  });

  test('signed by another key (same kid) → 401 TOKEN_INVALID', async () => {
    const foreign = await createInMemorySigningKey();
    const forged = (await mintToken({ kind: 'professional', rpps: DR, name: 'Dr', professionCode: '10', purposeOfUse: 'normal' }, 'user/*.cruds', foreign, { issuer: s.baseUrl, audience: s.fhir, now: s.carnet.ctx.clock })).access_token;
    await unchanged(async () => assertOutcome(await post(bundleFor(goodCda()), { token: forged }), 401, 'TOKEN_INVALID'));
    // an HMAC token "signed" with the public key as secret (algorithm confusion)
    const hs = await new SignJWT(payload()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(JSON.stringify(s.signingKey.publicJwks())));
    assertOutcome(await call(s, 'GET', search(), { token: hs }), 401, 'TOKEN_INVALID');
  });

  test('expired → 401 TOKEN_EXPIRED', async () => {
    const short = await token(s, { as: `practitioner:${DR}`, ttlSeconds: 60 });
    assert.equal((await call(s, 'GET', search(), { token: short })).status, 200);
    s.carnet.advance(120_000);
    try {
      await unchanged(async () => assertOutcome(await post(bundleFor(goodCda()), { token: short }), 401, 'TOKEN_EXPIRED'));
    } finally {
      s.carnet.advance(-120_000);
    }
  });

  test('wrong aud → 401 TOKEN_WRONG_AUDIENCE', async () => {
    const elsewhere = (await mintToken({ kind: 'professional', rpps: DR, name: 'Dr', professionCode: '10', purposeOfUse: 'normal' }, 'user/*.cruds', s.signingKey, { issuer: s.baseUrl, audience: 'https://other.example.org/fhir', now: s.carnet.ctx.clock })).access_token;
    await unchanged(async () => assertOutcome(await post(bundleFor(goodCda()), { token: elsewhere }), 401, 'TOKEN_WRONG_AUDIENCE'));
  });

  test('missing scope → 403 SCOPE_MISSING', async () => {
    const readOnly = await token(s, { as: `practitioner:${DR}`, scopes: ['user/DocumentReference.rs', 'user/Patient.rs'] });
    await unchanged(async () => assertOutcome(await post(bundleFor(goodCda()), { token: readOnly }), 403, 'SCOPE_MISSING'));
    assert.equal((await call(s, 'GET', search(), { token: readOnly })).status, 200);
    assertOutcome(await call(s, 'GET', `/fhir/AuditEvent?patient.identifier=${ident(p)}`, { token: readOnly }), 403, 'SCOPE_MISSING');
  });
});

describe('the token endpoint (RFC 6749 errors)', () => {
  let c: TestClient;
  before(async () => {
    c = await registerClient(s, { alg: 'RS384', finess: FINESS });
  });

  const oauthError = (r: Reply, status: number, error: string) => {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json?.error, error, r.text);
    assert.equal(typeof r.json?.error_description, 'string');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.json?.access_token, undefined);
  };

  test('a good RS384 assertion gets a token that works', async () => {
    const r = await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR) })));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.token_type, 'Bearer');
    const ok = await call(s, 'GET', `/fhir/DocumentReference?patient.identifier=${ident(p)}`, { token: r.json.access_token });
    assert.equal(ok.status, 200, ok.text);
  });

  test('replayed jti → 401 invalid_client', async () => {
    const a = await clientAssertion(s, c, { iua: iua(DR) });
    assert.equal((await tokenRequest(s, clientCredentials(a))).status, 200);
    oauthError(await tokenRequest(s, clientCredentials(a)), 401, 'invalid_client');
  });

  test('wrong aud in the assertion → 401 invalid_client', async () => {
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR), aud: 'https://other.example.org/oauth2/token' }))), 401, 'invalid_client');
  });

  test('alg: none assertion → 401 invalid_client', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(s.carnet.ctx.clock().getTime() / 1000);
    const none = `${b64({ alg: 'none' })}.${b64({ iss: c.clientId, sub: c.clientId, aud: `${s.baseUrl}/oauth2/token`, exp: now + 60, jti: randomUUID(), extensions: { ihe_iua: iua(DR) } })}.`;
    oauthError(await tokenRequest(s, clientCredentials(none)), 401, 'invalid_client');
  });

  test('signed with a key the client did not register → 401 invalid_client', async () => {
    const { privateKey } = await generateKeyPair('RS384');
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR), key: privateKey }))), 401, 'invalid_client');
  });

  test('expired assertion, or exp more than 5 minutes ahead → 401 invalid_client', async () => {
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR), iatOffset: -600, expIn: 60 }))), 401, 'invalid_client');
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR), expIn: 3600 }))), 401, 'invalid_client');
  });

  test('scope beyond the registration → 400 invalid_scope; missing ihe_iua → 400 invalid_request', async () => {
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR) }), 'system/*.cruds')), 400, 'invalid_scope');
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c))), 400, 'invalid_request');
  });

  test('another establishment FINESS in ihe_iua → 400 invalid_grant', async () => {
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, c, { iua: iua(DR, { subject_organization_id: '130783236' }) }))), 400, 'invalid_grant');
  });

  test('wrong grant type → 400 unsupported_grant_type; unknown client → 401 invalid_client', async () => {
    oauthError(await tokenRequest(s, { ...clientCredentials(await clientAssertion(s, c, { iua: iua(DR) })), grant_type: 'password' }), 400, 'unsupported_grant_type');
    const stranger = { ...c, clientId: randomUUID() };
    oauthError(await tokenRequest(s, clientCredentials(await clientAssertion(s, stranger, { iua: iua(DR) }))), 401, 'invalid_client');
  });

  test('every refusal is audited and the chains stay intact', async () => {
    const refused = await s.carnet.ctx.db.selectFrom('audit_log').select(['reason']).where('action', '=', 'oauth.token').where('outcome', '=', 'failure').execute();
    const reasons = new Set(refused.map((r) => r.reason));
    for (const r of ['ASSERTION_REPLAYED', 'ASSERTION_AUD', 'ASSERTION_ALG', 'ASSERTION_SIGNATURE']) assert.ok(reasons.has(r), `${r} not audited (${[...reasons]})`);
    await assertAuditIntact(s);
  });
});
