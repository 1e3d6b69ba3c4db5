/**
 * A small X.509 PKI for the professional card model (CPS): a test certification authority, the
 * professionals' "cards" (client certificates, RSA 2048 / SHA-256 like the CPS cards), and the
 * server certificate of a Carnet served over HTTPS with mutual TLS. Keys come from Node's crypto;
 * certificates are built and signed with node-forge (pure JavaScript, no native part, no global
 * polyfill; `@peculiar/x509` needs the `reflect-metadata` polyfill loaded process-wide). Carnet
 * only issues for demos and tests: in production the CA is the national one (IGC-Santé) and Carnet
 * only verifies, with Node's TLS.
 *
 * The subject of a card, and how Carnet reads it (`professionalFromSubject`):
 *
 *   serialNumber (2.5.4.5)   idNat_PS: `8` + RPPS (11 digits)              → RPPS
 *   title        (2.5.4.12)  TRE_G15 profession code (`10`, `21`, `60`…)  → profession
 *   GN / SN      (2.5.4.42 / 2.5.4.4)  given name / family name           → display name
 *   CN           `Given FAMILY` (display only)
 *   O            the structure's name (display only, optional); C = FR
 *
 * The certificate also carries keyUsage digitalSignature and extKeyUsage clientAuth; Node's TLS
 * checks the chain to the configured CA and the validity dates.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CarnetError } from '../domain/errors.ts';

const { pki } = forge;

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export const CARD_SUBJECT_FIELDS = { idNat: 'serialNumber', profession: 'title', given: 'GN', family: 'SN' } as const;

const DAY = 86_400_000;
type Attr = { name?: string; type?: string; shortName?: string; value: string; valueTagClass?: number };
const utf8 = (a: Attr): Attr => ({ ...a, valueTagClass: forge.asn1.Type.UTF8 as number });

function newKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    keyPem,
    forgePrivate: pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    forgePublic: pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

function validity(cert: forge.pki.Certificate, o: { notBefore?: Date; notAfter?: Date; validDays?: number }, defaultDays: number) {
  const notBefore = o.notBefore ?? new Date(Date.now() - 3_600_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = o.notAfter ?? new Date(notBefore.getTime() + (o.validDays ?? defaultDays) * DAY);
}

// positive, 16 bytes: RFC 5280 §4.1.2.2
const serial = () => '01' + randomBytes(15).toString('hex');

function caOf(ca: KeyAndCert) {
  const cert = pki.certificateFromPem(ca.certPem);
  // forge keeps parsed UTF8String values as raw bytes and would encode them twice: decode them
  const issuer = cert.subject.attributes.map((a) =>
    a.valueTagClass === (forge.asn1.Type.UTF8 as number) && typeof a.value === 'string' ? { ...a, value: forge.util.decodeUtf8(a.value) } : a,
  );
  return { cert, issuer, key: pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey };
}

export function createTestCa(o: { commonName?: string; notBefore?: Date; notAfter?: Date; validDays?: number } = {}): KeyAndCert {
  const k = newKeys();
  const cert = pki.createCertificate();
  cert.publicKey = k.forgePublic;
  cert.serialNumber = serial();
  validity(cert, o, 3650);
  const subject: Attr[] = [{ shortName: 'C', value: 'FR' }, { shortName: 'O', value: 'Carnet (test)' }, utf8({ shortName: 'CN', value: o.commonName ?? 'Carnet test CA — cartes professionnelles' })];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(k.forgePrivate, forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem: k.keyPem };
}

export interface CardInput {
  /** RPPS (11 digits) or idNat_PS (`8` + RPPS). */
  rpps: string;
  professionCode: string;
  given: string;
  family: string;
  organisationName?: string;
  notBefore?: Date;
  notAfter?: Date;
  validDays?: number;
}

/** A professional's card: a client certificate whose subject carries idNat_PS and profession. */
export function issueCard(ca: KeyAndCert, card: CardInput): KeyAndCert {
  const idNat = /^\d{11}$/.test(card.rpps) ? `8${card.rpps}` : card.rpps;
  if (!/^8\d{11}$/.test(idNat)) throw new CarnetError('RPPS_INVALID', 'invalid', 'A card carries an RPPS number (11 digits) or idNat_PS (8 + RPPS)');
  if (!/^\d{2,3}$/.test(card.professionCode)) throw new CarnetError('PROFESSION_INVALID', 'invalid', 'A profession code is 2–3 digits');
  const { cert: caCert, issuer, key: caKey } = caOf(ca);
  const k = newKeys();
  const cert = pki.createCertificate();
  cert.publicKey = k.forgePublic;
  cert.serialNumber = serial();
  validity(cert, card, 3 * 365);
  cert.setSubject([
    { shortName: 'C', value: 'FR' },
    ...(card.organisationName ? [utf8({ shortName: 'O', value: card.organisationName })] : []),
    utf8({ shortName: 'CN', value: `${card.given} ${card.family.toUpperCase()}` }),
    utf8({ type: '2.5.4.42', value: card.given }),
    utf8({ type: '2.5.4.4', value: card.family }),
    { type: '2.5.4.5', value: idNat },
    { type: '2.5.4.12', value: card.professionCode },
  ]);
  cert.setIssuer(issuer);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem: k.keyPem };
}

/** The server certificate of an HTTPS Carnet (names: DNS names or IP addresses). */
export function issueServerCert(ca: KeyAndCert, o: { hosts: string[]; notBefore?: Date; notAfter?: Date; validDays?: number }): KeyAndCert {
  if (!o.hosts.length) throw new CarnetError('HOSTS_MISSING', 'invalid', 'A server certificate names at least one host');
  const { cert: caCert, issuer, key: caKey } = caOf(ca);
  const k = newKeys();
  const cert = pki.createCertificate();
  cert.publicKey = k.forgePublic;
  cert.serialNumber = serial();
  validity(cert, o, 397);
  cert.setSubject([{ shortName: 'C', value: 'FR' }, { shortName: 'O', value: 'Carnet (test)' }, { shortName: 'CN', value: o.hosts[0] }]);
  cert.setIssuer(issuer);
  const isIp = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: o.hosts.map((h) => (isIp(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), keyPem: k.keyPem };
}

/** A card as PKCS#12 (to import into a browser or an OS key store), with its CA. */
export function cardToPkcs12(card: KeyAndCert, ca: KeyAndCert, password: string): Buffer {
  const p12 = forge.pkcs12.toPkcs12Asn1(
    pki.privateKeyFromPem(card.keyPem), [pki.certificateFromPem(card.certPem), pki.certificateFromPem(ca.certPem)], password,
    { algorithm: '3des', friendlyName: 'Carnet carte professionnelle (test)' },
  );
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

/** What a card says about its holder. */
export interface CardIdentity {
  idNat: string;
  professionCode: string;
  given?: string;
  family?: string;
}

type Subject = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * Reads a card's subject (as Node's TLS gives it: `getPeerCertificate().subject`). Error
 * `CERT_SUBJECT_UNMAPPED` (401) when the idNat_PS or the profession code is missing or malformed.
 */
export function professionalFromSubject(subject: Subject | undefined): CardIdentity {
  const idNat = one(subject?.[CARD_SUBJECT_FIELDS.idNat])?.trim();
  const professionCode = one(subject?.[CARD_SUBJECT_FIELDS.profession])?.trim();
  if (!idNat || !/^8\d{11}$/.test(idNat) || !professionCode || !/^(G15_)?\d{2,3}$/.test(professionCode)) {
    throw new CarnetError('CERT_SUBJECT_UNMAPPED', 'unauthorized',
      'The certificate subject does not carry an idNat_PS (serialNumber = 8 + RPPS) and a profession code (title)');
  }
  return { idNat, professionCode, given: one(subject?.[CARD_SUBJECT_FIELDS.given]), family: one(subject?.[CARD_SUBJECT_FIELDS.family]) };
}

/** The same, from a PEM certificate (CLI, tests). */
export function professionalFromCertificatePem(pem: string): CardIdentity {
  const subject: Subject = {};
  for (const line of new X509Certificate(pem).subject.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) subject[line.slice(0, i)] = line.slice(i + 1);
  }
  return professionalFromSubject(subject);
}
