import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { cardToPkcs12, createTestCa, issueCard, issueServerCert, professionalFromCertificatePem, professionalFromSubject } from './pki.ts';
import { CarnetError } from '../domain/errors.ts';

const ca = createTestCa();

test('a card carries idNat_PS in serialNumber and the profession in title, signed by the CA for client authentication', () => {
  const card = issueCard(ca, { rpps: '10000000009', professionCode: '21', given: 'Sophie', family: 'Petit-Lefèvre', organisationName: 'Pharmacie du Port' });
  const x = new X509Certificate(card.certPem);
  assert.ok(x.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.equal(x.ca, false);
  assert.deepEqual(professionalFromCertificatePem(card.certPem), { idNat: '810000000009', professionCode: '21', given: 'Sophie', family: 'Petit-Lefèvre' });
  assert.match(x.subject, /CN=Sophie PETIT-LEFÈVRE/);
});

test('the subject mapping refuses subjects without a usable idNat_PS or profession', () => {
  const ok = { serialNumber: '810000000009', title: 'G15_10', GN: 'A', SN: 'B' };
  assert.equal(professionalFromSubject(ok).professionCode, 'G15_10');
  for (const bad of [{ ...ok, serialNumber: undefined }, { ...ok, serialNumber: '10000000009' }, { ...ok, serialNumber: '010000000009' }, { ...ok, title: undefined }, { ...ok, title: 'médecin' }, undefined]) {
    assert.throws(() => professionalFromSubject(bad as never), (e: unknown) => e instanceof CarnetError && e.code === 'CERT_SUBJECT_UNMAPPED' && e.kind === 'unauthorized');
  }
  assert.throws(() => issueCard(ca, { rpps: '123', professionCode: '10', given: 'A', family: 'B' }), /RPPS/);
});

test('server certificates name their hosts; cards export to PKCS#12', () => {
  const server = issueServerCert(ca, { hosts: ['localhost', '127.0.0.1'] });
  const x = new X509Certificate(server.certPem);
  assert.equal(x.checkHost('localhost'), 'localhost');
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const card = issueCard(ca, { rpps: '10000000009', professionCode: '10', given: 'A', family: 'B' });
  const p12 = cardToPkcs12(card, ca, 'pass');
  assert.ok(p12.length > 1000 && p12[0] === 0x30);
});
