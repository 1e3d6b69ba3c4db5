import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { getSession } from './session.ts';
import type { Me } from './types.ts';

const cache = new Map<string, Promise<Me>>();

/** Who the session's token says we are (GET /api/me), fetched once per token. */
export function useMe(): Me | undefined {
  const token = getSession()?.token;
  const [me, setMe] = useState<Me>();
  useEffect(() => {
    if (!token) return;
    let p = cache.get(token);
    if (!p) {
      p = api<Me>('/api/me');
      cache.set(token, p);
      p.catch(() => cache.delete(token));
    }
    let live = true;
    p.then((m) => live && setMe(m), () => {});
    return () => {
      live = false;
    };
  }, [token]);
  return me;
}
