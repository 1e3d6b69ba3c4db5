/**
 * `npm start` on a laptop, for real: the server as a child process (`node bin/carnet.js serve`,
 * temp CARNET_DATA, free ports). On an empty installation it seeds the demo and prints how to use
 * it; everything the how-to says is then done from what it printed: the demo holder logs in with
 * the printed password and the one-time code the console sender prints, and lists her documents;
 * a demo professional logs in with the printed card over HTTPS with mutual TLS and lists them
 * too; the printed `carnet token` line works. The server stops cleanly on SIGTERM.
 * A real installation (`--no-demo`, or data already there) starts neither the console sender nor
 * the demo PKI.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { freePort } from '../net.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CARNET = join(ROOT, 'bin', 'carnet.js');
const INS = '279035121518989';
const OID = '1.2.250.1.213.1.4.10';


/** The environment of a fresh laptop: nothing of Carnet configured but what each test sets. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CARNET_') || k === 'DATABASE_URL' || k === 'PORT') delete env[k];
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

interface Server {
  child: ChildProcess;
  out: () => string;
  /** Waits until the standard output matches. */
  waitFor(re: RegExp, what: string, ms?: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
}

function startServer(args: string[], env: NodeJS.ProcessEnv): Server {
  const child = spawn(process.execPath, [CARNET, 'serve', '--host', '127.0.0.1', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => stdout,
    async waitFor(re, what, ms = 120_000) {
      const end = Date.now() + ms;
      for (;;) {
        const m = re.exec(stdout);
        if (m) return m;
        if (child.exitCode !== null) assert.fail(`the server exited (${child.exitCode}) before ${what}:\n${stdout}\n${stderr}`);
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

const json = async (res: Response) => {
  const body = await res.json();
  assert.ok(res.ok, `HTTP ${res.status}: ${JSON.stringify(body)}`);
  return body as Record<string, any>;
};

/** An HTTPS request presenting a PKCS#12 card, trusting the demo CA. */
function cardRequest(url: string, o: { method?: string; pfx?: Buffer; passphrase?: string; ca: Buffer; token?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((res, rej) => {
    const req = httpsRequest(url, {
      method: o.method ?? 'GET', ca: o.ca, agent: false, ...(o.pfx ? { pfx: o.pfx, passphrase: o.passphrase } : {}),
      headers: { accept: 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
    }, (r) => {
      let data = '';
      r.setEncoding('utf8').on('data', (d: string) => (data += d)).on('end', () => {
        try {
          res({ status: r.statusCode ?? 0, headers: r.headers, body: JSON.parse(data) });
        } catch (e) {
          rej(e);
        }
      });
    });
    req.once('error', rej);
    req.end();
  });
}

const portOpen = (port: number) => new Promise<boolean>((res) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); res(true); });
  s.once('error', () => res(false));
});

describe('npm start on an empty installation: a demo a person can use', { concurrency: false }, () => {
  test('the printed how-to, followed to the letter', async () => {
    const data = mkdtempSync(join(tmpdir(), 'carnet-demo-'));
    const [port, tlsPort] = [await freePort(), await freePort()];
    const server = startServer(['--port', String(port)], cleanEnv({ CARNET_DATA: data, CARNET_TLS_PORT: String(tlsPort), CARNET_OUTBOX_INTERVAL_MS: '500', LOG_LEVEL: 'info' }));
    try {
      // the whole how-to is printed once the server listens; its last line is the curl example
      await server.waitFor(/curl -H "Authorization: Bearer \$TOKEN" '[^']+'\n/, 'the how-to');
      const howTo = server.out();
      assert.match(howTo, /Notifications: console sender/);
      assert.match(howTo, /the one-time code: it appears in this console/);

      // ── the holder, from what was printed ──
      const password = /holder Jeanne DUPONT: INS 279035121518989 \(test OID\), account active, password (\S+)/.exec(howTo)?.[1];
      assert.ok(password, 'the demo password is printed');
      assert.match(howTo, /holder Louise MARTIN: INS \S+ \(test OID\), activation code [A-Z0-9-]{14}/, 'the other holders keep their activation codes');
      const holderSpace = /Holder's space:\s+(http:\/\/localhost:\d+)\/connexion/.exec(howTo)?.[1];
      assert.equal(holderSpace, `http://localhost:${port}`);
      const base = holderSpace!.replace('localhost', '127.0.0.1');

      const step1 = await json(await fetch(`${base}/accounts/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ins: INS, ins_oid: OID, password }),
      }));
      assert.equal(step1.status, 'second_factor_required');
      assert.equal(step1.method, 'email');
      // the code, as the console sender prints the e-mail
      const mail = await server.waitFor(/À: (\S+)\n│ Objet: Votre code de connexion Carnet\n│\n│ Votre code de connexion : (\d{6})/, 'the login code in the console', 30_000);
      assert.equal(mail[1], 'jeanne.dupont@example.org');
      const step2 = await json(await fetch(`${base}/accounts/login/second-factor`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ challenge: step1.challenge, code: mail[2] }),
      }));
      assert.equal(step2.status, 'authenticated');
      assert.equal(step2.act_as, 'holder');
      const mine = await json(await fetch(`${base}/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${OID}|${INS}`)}`, {
        headers: { authorization: `Bearer ${step2.access_token}`, accept: 'application/fhir+json' },
      }));
      assert.equal(mine.resourceType, 'Bundle');
      assert.ok(mine.total > 0, 'the demo holder has documents');
      assert.ok(mine.entry.every((e: any) => e.resource.resourceType === 'DocumentReference'));

      // ── a professional, with the printed card, over HTTPS with mutual TLS ──
      const proUrl = /Professional workstation: (https:\/\/localhost:\d+)\/pro\/connexion/.exec(howTo)?.[1];
      assert.equal(proUrl, `https://localhost:${tlsPort}`);
      const cardPath = /^\s+(\S+\.p12)\s+Dr Claire Martin/m.exec(howTo)?.[1];
      const cardPassword = /card password: (\S+)/.exec(howTo)?.[1];
      const caPath = /from the demo CA (\S+):/.exec(howTo)?.[1];
      assert.ok(cardPath && cardPassword && caPath, 'card, password and CA are printed');
      const abs = (p: string) => (isAbsolute(p) ? p : join(ROOT, p));
      assert.ok(abs(cardPath!).startsWith(join(data, 'demo-pki')), 'the cards live under CARNET_DATA/demo-pki');
      for (const secret of ['ca.key', 'server.key', 'card-password.txt']) {
        assert.equal(statSync(join(data, 'demo-pki', secret)).mode & 0o777, 0o600, `${secret} is private`);
      }
      assert.equal(statSync(abs(cardPath!)).mode & 0o777, 0o600);
      const ca = readFileSync(abs(caPath!));
      const proBase = `https://127.0.0.1:${tlsPort}`;
      const login = await cardRequest(`${proBase}/pro/login/certificate`, { method: 'POST', pfx: readFileSync(abs(cardPath!)), passphrase: cardPassword, ca });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      // no HSTS from the demo's HTTPS: it would lock the browser out of http://localhost:8080
      assert.equal(login.headers['strict-transport-security'], undefined);
      assert.equal(login.body.professional.rpps, '10000000009');
      const theirs = await cardRequest(`${proBase}/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${OID}|${INS}`)}&date=ge2000`, { ca, token: login.body.access_token });
      assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
      assert.ok(theirs.body.total > 0, 'the médecin traitant lists the holder’s documents');
      // the wrong password opens no card
      await assert.rejects(cardRequest(`${proBase}/pro/login/certificate`, { method: 'POST', pfx: readFileSync(abs(cardPath!)), passphrase: 'wrong', ca }));

      // ── the printed API example ──
      const tokenLine = /^\s+(TOKEN=\$\(.*npx carnet token --as practitioner:10000000009\))$/m.exec(howTo)?.[1];
      assert.ok(tokenLine, 'the carnet token example is printed');
      const minted = spawnSync('bash', ['-c', `${tokenLine}; printf %s "$TOKEN"`], { cwd: ROOT, env: cleanEnv({}), encoding: 'utf8' });
      assert.equal(minted.status, 0, minted.stderr);
      const api = await json(await fetch(`${base}/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${OID}|${INS}`)}&date=ge2000`, {
        headers: { authorization: `Bearer ${minted.stdout.trim()}`, accept: 'application/fhir+json' },
      }));
      assert.ok(api.total > 0);

      // the server's logs (JSON lines, request logs included) carry nothing of the message: only
      // the console sender's block shows it
      const logs = server.out().split('\n').filter((l) => l.startsWith('{'));
      assert.ok(logs.some((l) => /"route":"\/accounts\/login"/.test(l)), 'request logs are on');
      for (const l of logs) assert.doesNotMatch(l, new RegExp(`${mail[2]}|jeanne|${password}`));
      assert.equal(server.out().match(/Votre code de connexion : \d{6}/g)?.length, 1);
    } finally {
      const code = await server.stop();
      assert.equal(code, 0, 'the server stops cleanly');
      rmSync(data, { recursive: true, force: true });
    }
  });

  test('a second start of the demo reuses its cards and prints the how-to again', async () => {
    const data = mkdtempSync(join(tmpdir(), 'carnet-demo-'));
    const env = async () => cleanEnv({ CARNET_DATA: data, CARNET_TLS_PORT: String(await freePort()) });
    try {
      const first = startServer(['--port', String(await freePort())], await env());
      await first.waitFor(/curl -H "Authorization/, 'the first how-to');
      const password = /password (carnet-demo-\S+)/.exec(first.out())![1];
      const cardPassword = /card password: (\S+)/.exec(first.out())![1];
      assert.equal(await first.stop(), 0);
      const p12 = readdirP12(data);
      const second = startServer(['--port', String(await freePort())], await env());
      await second.waitFor(/curl -H "Authorization/, 'the second how-to');
      assert.doesNotMatch(second.out(), /demo population seeded[^]*demo population seeded/);
      assert.match(second.out(), new RegExp(`password ${password}`), 'the demo password is shown again');
      assert.match(second.out(), new RegExp(`card password: ${cardPassword}`), 'the same cards');
      assert.deepEqual(readdirP12(data), p12, 'the cards were not re-issued');
      assert.equal(await second.stop(), 0);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  test('a real installation (--no-demo, or data already there) starts neither the console sender nor the demo PKI', async () => {
    for (const how of ['--no-demo', 'data already there'] as const) {
      const data = mkdtempSync(join(tmpdir(), 'carnet-real-'));
      const [port, tlsPort] = [await freePort(), await freePort()];
      const env = cleanEnv({ CARNET_DATA: data, CARNET_TLS_PORT: String(tlsPort) });
      if (how === 'data already there') {
        const added = spawnSync(process.execPath, [CARNET, 'patient', 'add', '--ins', '277076322082910', '--oid', OID, '--family', 'MARTIN', '--given', 'Louise', '--sex', 'F', '--birth-date', '1977-07-06', '--activate'], { cwd: ROOT, env, encoding: 'utf8' });
        assert.equal(added.status, 0, added.stderr);
      }
      const server = startServer(['--port', String(port), ...(how === '--no-demo' ? ['--no-demo'] : [])], env);
      try {
        await server.waitFor(/Notifications: .*\n/, `the start banner (${how})`);
        const out = server.out();
        assert.match(out, /Notifications: none \(default\)/, how);
        assert.doesNotMatch(out, /console sender|demo population|How to try it|card password/, how);
        assert.equal(existsSync(join(data, 'demo-pki')), false, `no demo PKI (${how})`);
        assert.equal(existsSync(join(data, 'demo-howto.txt')), false);
        assert.equal(await portOpen(tlsPort), false, `no HTTPS listener (${how})`);
        assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
      } finally {
        assert.equal(await server.stop(), 0);
        rmSync(data, { recursive: true, force: true });
      }
    }
  });
});

function readdirP12(data: string): Record<string, string> {
  const dir = join(data, 'demo-pki', 'cards');
  const out: Record<string, string> = {};
  for (const f of ['10000000009-claire-martin.p12', '10000000041-nadia-leroy.p12', '10000000025-sophie-petit.p12']) {
    out[f] = readFileSync(join(dir, f)).toString('base64');
  }
  return out;
}
