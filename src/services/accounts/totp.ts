/**
 * TOTP second factor (RFC 6238 with otplib 13): 6 digits, 30-second steps, HMAC-SHA1 — what every
 * authenticator app reads from an `otpauth://` URI. A code is accepted one step early or late (clock
 * drift) and only once: the last accepted time step is kept and older or equal steps are refused.
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

export const TOTP_SETTINGS = { digits: 6, period: 30, algorithm: 'sha1', toleranceSeconds: 30, secretBytes: 20, issuer: 'Carnet' } as const;

export const newTotpSecret = () => generateSecret({ length: TOTP_SETTINGS.secretBytes });

export const totpUri = (secret: string, label: string) =>
  generateURI({ issuer: TOTP_SETTINGS.issuer, label, secret, digits: TOTP_SETTINGS.digits, period: TOTP_SETTINGS.period, algorithm: TOTP_SETTINGS.algorithm });

/** The time step at which `code` matches, or undefined (wrong, too old, or replayed). */
export async function checkTotp(secret: string, code: string, now: Date, lastStep?: number | null): Promise<number | undefined> {
  const token = String(code ?? '').replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const epoch = Math.floor(now.getTime() / 1000);
  // every step the window could match is already used (or the clock went back): nothing to try
  const maxStep = Math.floor((epoch + TOTP_SETTINGS.toleranceSeconds) / TOTP_SETTINGS.period);
  if (lastStep !== null && lastStep !== undefined && lastStep >= maxStep) return undefined;
  const r = await verify({
    secret, token, epoch, epochTolerance: TOTP_SETTINGS.toleranceSeconds,
    period: TOTP_SETTINGS.period, digits: TOTP_SETTINGS.digits, algorithm: TOTP_SETTINGS.algorithm,
    ...(lastStep !== null && lastStep !== undefined ? { afterTimeStep: lastStep } : {}),
  });
  return r.valid && 'timeStep' in r ? r.timeStep : undefined;
}

/** The current code (tests, demos). */
export const totpNow = (secret: string, now: Date) =>
  generate({ secret, epoch: Math.floor(now.getTime() / 1000), period: TOTP_SETTINGS.period, digits: TOTP_SETTINGS.digits, algorithm: TOTP_SETTINGS.algorithm });
