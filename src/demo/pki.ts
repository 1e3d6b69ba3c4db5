/**
 * The demo's test PKI, so that a professional can log in with a card on a laptop: a test
 * certification authority, the HTTPS server's certificate for localhost / 127.0.0.1, and cards
 * (PKCS#12, one shared printed password) for three demo professionals. Made once under
 * `$CARNET_DATA/demo-pki/` (private keys, cards and the password file mode 0600), re-used on every
 * demo start; the server certificate is renewed when it nears its end. Only a demo installation
 * makes it (`src/http/serve.ts`); a real one verifies cards of the configured authority.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { cardToPkcs12, createTestCa, issueCard, issueServerCert, type KeyAndCert } from '../auth/pki.ts';
import { DEMO } from './seed.ts';

/** The demo professionals who get a card: the médecin traitant, a hospital physician, the pharmacist. */
export const DEMO_CARD_HOLDERS = ['10000000009', '10000000041', '10000000025'] as const;

export interface DemoCard {
  rpps: string;
  name: string;
  role: { fr: string; en: string };
  p12: string;
}

export interface DemoPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  cards: DemoCard[];
  /** The password of every card's PKCS#12 file (printed; kept in `card-password.txt`, 0600). */
  cardPassword: string;
  /** Whether this call made the CA (first demo start). */
  created: boolean;
}

const ROLES: Record<string, { fr: string; en: string }> = {
  '10000000009': { fr: 'médecin traitant de Jeanne DUPONT', en: 'Jeanne DUPONT’s regular doctor' },
  '10000000041': { fr: 'médecin hospitalier, sans droit sur le dossier (bris de glace)', en: 'hospital doctor with no right on the record (break-glass)' },
  '10000000025': { fr: 'pharmacienne autorisée par Jeanne DUPONT', en: 'pharmacist Jeanne DUPONT authorized' },
};

const PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const newPassword = () => Array.from({ length: 12 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join('').replace(/(.{4})(?=.)/g, '$1-');

const slug = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-');

function writePrivate(path: string, data: string | Buffer) {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600); // the mode of writeFileSync applies only to a new file
}

/** The server certificate still has at least 30 days and names every host. */
function serverCertUsable(path: string, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(readFileSync(path));
    if (Date.parse(cert.validTo) - Date.now() < 30 * 86_400_000) return false;
    const san = cert.subjectAltName ?? '';
    return hosts.every((h) => san.includes(h));
  } catch {
    return false;
  }
}

export function ensureDemoPki(dataDir: string, o: { hosts?: string[] } = {}): DemoPki {
  const hosts = o.hosts ?? ['localhost', '127.0.0.1'];
  const dir = join(dataDir, 'demo-pki');
  const cardsDir = join(dir, 'cards');
  mkdirSync(cardsDir, { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca.key');
  let created = false;
  let ca: KeyAndCert;
  if (existsSync(caCertPath) && existsSync(caKeyPath)) {
    ca = { certPem: readFileSync(caCertPath, 'utf8'), keyPem: readFileSync(caKeyPath, 'utf8') };
  } else {
    ca = createTestCa({ commonName: 'Carnet démo — autorité des cartes professionnelles (test)' });
    writeFileSync(caCertPath, ca.certPem);
    writePrivate(caKeyPath, ca.keyPem);
    created = true;
  }

  const serverCert = join(dir, 'server.pem');
  const serverKey = join(dir, 'server.key');
  if (created || !existsSync(serverKey) || !serverCertUsable(serverCert, hosts)) {
    const server = issueServerCert(ca, { hosts });
    writeFileSync(serverCert, server.certPem);
    writePrivate(serverKey, server.keyPem);
  }

  const passwordFile = join(dir, 'card-password.txt');
  let cardPassword: string;
  if (!created && existsSync(passwordFile)) cardPassword = readFileSync(passwordFile, 'utf8').trim();
  else {
    cardPassword = newPassword();
    writePrivate(passwordFile, `${cardPassword}\n`);
  }

  const cards: DemoCard[] = [];
  for (const rpps of DEMO_CARD_HOLDERS) {
    const p = DEMO.practitioners.find((x) => x.rpps === rpps)!;
    const org = DEMO.organisations.find((x) => x.finess === p.organisationFiness)?.name;
    const p12 = join(cardsDir, `${rpps}-${slug(`${p.given} ${p.family}`)}.p12`);
    if (created || !existsSync(p12)) {
      const card = issueCard(ca, { rpps, professionCode: p.professionCode, given: p.given, family: p.family, organisationName: org });
      writePrivate(p12, cardToPkcs12(card, ca, cardPassword));
    }
    const title = p.professionCode === '10' ? 'Dr ' : '';
    cards.push({ rpps, name: `${title}${p.given} ${p.family}`, role: ROLES[rpps], p12 });
  }
  return { dir, caCert: caCertPath, serverCert, serverKey, cards, cardPassword, created };
}
