/** The portal speaks to the same HTTP API as any client: FHIR under /fhir, the portal's JSON under /api. */
import { getSession, setSession, type Session } from './session.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Override the session's token (a professional's emergency token). */
  token?: string | null;
  accept?: string;
  contentType?: string;
  signal?: AbortSignal;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText;
  let details: unknown;
  try {
    const j = await res.json();
    if (j?.resourceType === 'OperationOutcome') {
      const issue = j.issue?.[0];
      code = issue?.details?.coding?.[0]?.code ?? code;
      message = issue?.diagnostics ?? message;
      details = issue;
    } else if (j?.error) {
      code = String(j.error_code ?? j.code ?? j.error);
      message = j.error_description ?? j.message ?? message;
      details = j;
    } else if (j?.code) {
      code = j.code;
      message = j.message ?? message;
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message, details);
}

const REFRESH: Record<Session['kind'], string> = { person: '/accounts/session/token', professional: '/pro/login/session/token' };
let refreshing: Promise<Session | undefined> | undefined;

/** A new access token from the login session's secret (access tokens live minutes, sessions hours). */
async function refreshSession(): Promise<Session | undefined> {
  const s = getSession();
  if (!s?.refresh) return undefined;
  refreshing ??= (async () => {
    try {
      const res = await fetch(REFRESH[s.kind], {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ session_secret: s.refresh }),
      });
      if (!res.ok) {
        setSession(undefined);
        return undefined;
      }
      const t = (await res.json()) as { access_token: string; expires_in: number };
      const next: Session = { ...s, token: t.access_token, expiresAt: new Date(Date.now() + t.expires_in * 1000).toISOString() };
      setSession(next);
      return next;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export async function raw(path: string, opts: RequestOptions = {}, retried = false): Promise<Response> {
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json, application/fhir+json' };
  let session = opts.token === undefined ? getSession() : undefined;
  if (session?.refresh && Date.parse(session.expiresAt) - Date.now() < 20_000) session = (await refreshSession()) ?? session;
  const token = opts.token === undefined ? session?.token : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(path, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body, signal: opts.signal, credentials: 'same-origin' });
  if (res.status === 401 && opts.token === undefined && !retried && getSession()?.refresh) {
    if (await refreshSession()) return raw(path, opts, true);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await raw(path, opts);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** The bytes of a document (ITI-68), for the viewer and downloads. */
export async function fetchBlob(path: string, opts: RequestOptions = {}): Promise<Blob> {
  const res = await raw(path, { ...opts, accept: '*/*' });
  return res.blob();
}

export function toBase64(buf: ArrayBuffer): string {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
