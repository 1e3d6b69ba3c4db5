// autocannon ships no types; the harness uses a small part of its API (see lib/load.ts).
declare module 'autocannon';
