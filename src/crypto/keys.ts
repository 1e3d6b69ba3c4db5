/**
 * Master keys behind a `KeyProvider` port: the database only ever holds data keys wrapped by a
 * master key it never sees. The file provider keeps the master key in `<dataDir>/master.key`
 * (created 0600 on first start) or takes it from `CARNET_MASTER_KEY` (base64, 32 bytes). A KMS
 * would implement the same port.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CarnetError } from '../domain/errors.ts';
import { open, seal } from './envelope.ts';

export interface KeyProvider {
  /** Id of the master key new wraps use. */
  activeKeyId(): string;
  wrap(dataKey: Buffer, aad: string): { keyId: string; wrapped: Buffer };
  unwrap(keyId: string, wrapped: Buffer, aad: string): Buffer;
  /** Ids of every master key this provider can unwrap with. */
  knownKeyIds(): string[];
}

/** A short public id of a master key: the first 16 hex digits of its SHA-256. */
export const masterKeyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new CarnetError('MASTER_KEY_INVALID', 'invalid', `Master key from ${where} must be 32 bytes in base64`);
  }
  return key;
}

/** Holds master keys in memory: the active one plus any others still needed to unwrap. */
export class StaticKeyProvider implements KeyProvider {
  private readonly keys = new Map<string, Buffer>();
  private active: string;

  constructor(active: Buffer, others: Buffer[] = []) {
    this.active = masterKeyId(active);
    this.keys.set(this.active, active);
    for (const k of others) this.keys.set(masterKeyId(k), k);
  }

  activeKeyId() {
    return this.active;
  }

  knownKeyIds() {
    return [...this.keys.keys()];
  }

  wrap(dataKey: Buffer, aad: string) {
    return { keyId: this.active, wrapped: seal(this.keys.get(this.active)!, dataKey, `wrap:${aad}`) };
  }

  unwrap(keyId: string, wrapped: Buffer, aad: string) {
    const key = this.keys.get(keyId);
    if (!key) {
      throw new CarnetError('MASTER_KEY_UNKNOWN', 'conflict', `No master key with id ${keyId} is loaded`);
    }
    return open(key, wrapped, `wrap:${aad}`);
  }

  /** Makes `key` the active one (rotation), keeping the old ones until told to forget them. */
  activate(key: Buffer) {
    const id = masterKeyId(key);
    this.keys.set(id, key);
    this.active = id;
  }

  forget(keyId: string) {
    if (keyId !== this.active) this.keys.delete(keyId);
  }
}

function writeSecretFile(path: string, content: string) {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600);
}

function readSecretFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new CarnetError('MASTER_KEY_FILE_MODE', 'conflict', `${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  return decodeKey(readFileSync(path, 'utf8'), path);
}

export interface FileKeyProviderOptions {
  dataDir: string;
  /** Overrides the key file (base64); taken from CARNET_MASTER_KEY by `loadKeyProvider`. */
  envKey?: string;
}

/**
 * Loads the master key: from the environment if given, else from `<dataDir>/master.key`, created
 * with mode 0600 if absent. A `master.key.next` left by an interrupted rotation is loaded too, so
 * every data key stays unwrappable until the rotation is rerun.
 */
export function loadKeyProvider(opts: FileKeyProviderOptions): StaticKeyProvider & { keyFile?: string } {
  if (opts.envKey) return new StaticKeyProvider(decodeKey(opts.envKey, 'CARNET_MASTER_KEY'));
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, 'master.key');
  if (!existsSync(file)) writeSecretFile(file, randomBytes(32).toString('base64') + '\n');
  const next = `${file}.next`;
  const others = existsSync(next) ? [readSecretFile(next)] : [];
  const provider = new StaticKeyProvider(readSecretFile(file), others) as StaticKeyProvider & { keyFile?: string };
  provider.keyFile = file;
  return provider;
}

/** Rotation, step 1: a new key written beside the old one (durably) before any data key moves. */
export function prepareNextKeyFile(keyFile: string): Buffer {
  const next = `${keyFile}.next`;
  if (existsSync(next)) return readSecretFile(next);
  const key = randomBytes(32);
  writeSecretFile(next, key.toString('base64') + '\n');
  return key;
}

/** Rotation, last step: the new key replaces the old file once every data key is re-wrapped. */
export function commitNextKeyFile(keyFile: string) {
  renameSync(`${keyFile}.next`, keyFile);
}

export function discardNextKeyFile(keyFile: string) {
  if (existsSync(`${keyFile}.next`)) unlinkSync(`${keyFile}.next`);
}

export const decodeMasterKey = decodeKey;
