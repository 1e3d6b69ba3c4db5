/**
 * Logging in and out, through the login endpoints of the accounts work (docs/accounts.md): the
 * holder's password then second factor; the professional's certificate or external OpenID Connect.
 * Every path ends with a Carnet access token kept in the session.
 */
import { api } from './api.ts';
import { getSession, setSession, type SessionKind } from './session.ts';

export interface TokenAnswer {
  status?: string;
  access_token: string;
  expires_in: number;
  session_secret?: string;
  refresh_token?: string;
}

export type HolderLoginAnswer = TokenAnswer | { status: 'second_factor_required'; challenge: string; method: 'totp' | 'email'; expires_at: string };

export function keepToken(kind: SessionKind, t: TokenAnswer) {
  setSession({
    kind,
    token: t.access_token,
    expiresAt: new Date(Date.now() + t.expires_in * 1000).toISOString(),
    ...((t.session_secret ?? t.refresh_token) ? { refresh: t.session_secret ?? t.refresh_token } : {}),
  });
}

export interface Activation {
  account_id: string;
  second_factor: string;
  record_id?: string;
  record_state?: string;
}

/** First visit: the one-time code of the opening notice, the INS, a password and where codes go. */
export async function activateAccount(input: { ins: string; code: string; password: string; email: string }): Promise<Activation> {
  return api<Activation>('/accounts/activate', { body: input, token: null });
}

export async function holderPasswordStep(ins: string, password: string): Promise<HolderLoginAnswer> {
  return api<HolderLoginAnswer>('/accounts/login', { body: { ins, password }, token: null });
}

export async function holderSecondFactor(challenge: string, code: string): Promise<TokenAnswer> {
  return api<TokenAnswer>('/accounts/login/second-factor', { body: { challenge, code }, token: null });
}

export async function logout() {
  const s = getSession();
  try {
    if (s?.kind === 'person') await api('/accounts/logout', { method: 'POST', body: {} });
    else if (s?.kind === 'professional') await api('/pro/logout', { method: 'POST', body: {} });
  } catch {
    /* the session ends here anyway */
  }
  setSession(undefined);
}
