/** The routes of the portal: the holder's space under /espace, the professional workstation under /pro. */
import { useEffect, useState } from 'react';
import { match, navigate, usePath } from './lib/router.tsx';
import { getSession, onSessionChange } from './lib/session.ts';
import { Landing } from './Landing.tsx';
import { HolderShell } from './holder/HolderShell.tsx';
import { HolderLogin } from './holder/HolderLogin.tsx';
import { HolderHome } from './holder/HolderHome.tsx';
import { HolderDocuments } from './holder/HolderDocuments.tsx';
import { HolderDocument } from './holder/HolderDocument.tsx';
import { HolderSharing } from './holder/HolderSharing.tsx';
import { HolderHistory } from './holder/HolderHistory.tsx';
import { HolderProfile } from './holder/HolderProfile.tsx';
import { Opposition } from './holder/Opposition.tsx';
import { Activation } from './holder/Activation.tsx';
import { ProShell } from './pro/ProShell.tsx';
import { ProLogin } from './pro/ProLogin.tsx';
import { ProSearch } from './pro/ProSearch.tsx';
import { ProPatient } from './pro/ProPatient.tsx';
import { ProDocument } from './pro/ProDocument.tsx';
import { NotFound } from './NotFound.tsx';

function useSession() {
  const [s, setS] = useState(getSession);
  useEffect(() => onSessionChange(() => setS(getSession())), []);
  return s;
}

export function App() {
  const { path } = usePath();
  const session = useSession();

  // each screen names itself: the window title follows, and after a move focus goes to its <h1>
  const [first, setFirst] = useState(true);
  useEffect(() => {
    const h = requestAnimationFrame(() => {
      const h1 = document.querySelector<HTMLElement>('main h1');
      if (!first && h1) h1.focus({ preventScroll: true });
      setFirst(false);
    });
    return () => cancelAnimationFrame(h);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path]);
  useEffect(() => {
    const update = () => {
      const h1 = document.querySelector<HTMLElement>('main h1');
      document.title = h1?.textContent ? `${h1.textContent} — Carnet` : 'Carnet';
    };
    const h = setTimeout(update, 50);
    return () => clearTimeout(h);
  });

  if (path === '/') return <Landing />;
  if (path === '/opposition') return <Opposition />;
  if (path === '/activation') return <Activation />;
  if (path === '/connexion') return <HolderLogin />;
  if (path === '/pro/connexion') return <ProLogin />;

  if (path === '/espace' || path.startsWith('/espace/')) {
    if (session?.kind !== 'person') {
      queueMicrotask(() => navigate(`/connexion?next=${encodeURIComponent(path)}`, { replace: true }));
      return null;
    }
    let page;
    let m;
    if (path === '/espace') page = <HolderHome />;
    else if (path === '/espace/documents') page = <HolderDocuments />;
    else if ((m = match('/espace/documents/:id', path))) page = <HolderDocument id={m.id} />;
    else if (path === '/espace/partage') page = <HolderSharing />;
    else if (path === '/espace/historique') page = <HolderHistory />;
    else if (path === '/espace/profil') page = <HolderProfile />;
    else page = <NotFound />;
    return <HolderShell path={path}>{page}</HolderShell>;
  }

  if (path === '/pro' || path.startsWith('/pro/')) {
    if (session?.kind !== 'professional') {
      queueMicrotask(() => navigate(`/pro/connexion?next=${encodeURIComponent(path)}`, { replace: true }));
      return null;
    }
    let page;
    let m;
    if (path === '/pro') page = <ProSearch />;
    else if ((m = match('/pro/patients/:id', path))) page = <ProPatient patientId={m.id} />;
    else if ((m = match('/pro/patients/:pid/documents/:id', path))) page = <ProDocument patientId={m.pid} id={m.id} />;
    else page = <NotFound />;
    return <ProShell path={path}>{page}</ProShell>;
  }
  return <NotFound standalone />;
}
