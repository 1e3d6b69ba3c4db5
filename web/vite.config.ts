// Vite build of the portal: `npm run build` writes web/dist, served by the Carnet server at `/`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // the CSP forbids inline scripts and styles: keep every asset a file
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: the API stays on the Carnet server
    proxy: { '/api': 'http://127.0.0.1:8080', '/fhir': 'http://127.0.0.1:8080', '/oauth2': 'http://127.0.0.1:8080' },
  },
});
