/**
 * The portal's session: the Carnet access token from the login (kept in sessionStorage: gone
 * when the tab closes), and — for a professional in an emergency — the break-glass token of one
 * patient, used only for that patient's requests.
 */
export type SessionKind = 'person' | 'professional';

export interface Session {
  kind: SessionKind;
  token: string;
  /** ISO; the token's end. */
  expiresAt: string;
  /** The login session's secret, to refresh the token (when the login gave one). */
  refresh?: string;
}

export interface EmergencyGrant {
  token: string;
  /** What the professional stated, to renew the short-lived token within the same session. */
  justification: string;
  tokenExpiresAt: string;
  sessionExpiresAt: string;
  startedAt: string;
}

const KEY = 'carnet.session';
const emergencyKey = (patientId: string) => `carnet.emergency.${patientId}`;

const listeners = new Set<() => void>();
export const onSessionChange = (f: () => void) => {
  listeners.add(f);
  return () => {
    listeners.delete(f);
  };
};

export function getSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    if (Date.parse(s.expiresAt) <= Date.now() && !s.refresh) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return s;
  } catch {
    return undefined;
  }
}

export function setSession(s: Session | undefined) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else {
    sessionStorage.removeItem(KEY);
    for (const k of Object.keys(sessionStorage)) if (k.startsWith('carnet.emergency.')) sessionStorage.removeItem(k);
  }
  listeners.forEach((l) => l());
}

export function getEmergency(patientId: string): EmergencyGrant | undefined {
  try {
    const raw = sessionStorage.getItem(emergencyKey(patientId));
    if (!raw) return undefined;
    const g = JSON.parse(raw) as EmergencyGrant;
    if (Date.parse(g.tokenExpiresAt) <= Date.now()) {
      sessionStorage.removeItem(emergencyKey(patientId));
      return undefined;
    }
    return g;
  } catch {
    return undefined;
  }
}

export function setEmergency(patientId: string, g: EmergencyGrant | undefined) {
  if (g) sessionStorage.setItem(emergencyKey(patientId), JSON.stringify(g));
  else sessionStorage.removeItem(emergencyKey(patientId));
  listeners.forEach((l) => l());
}
