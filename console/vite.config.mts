import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/**
 * The console is served by the API at /ui/ (same origin, so the session cookie and the CSRF header just work).
 * `npm run console:dev` serves it with hot reload and forwards /api to the API on API_URL (default :3000).
 */
const api = process.env.API_URL ?? 'http://localhost:3000';

/**
 * codemirror-json-schema renders its messages with markdown-it and Shiki, which loads WebAssembly the API's
 * Content-Security-Policy forbids (and weighs a megabyte): its `utils/markdown` is our small renderer instead.
 */
const markdownLite: Plugin = {
  name: 'codemirror-json-schema-markdown-lite',
  enforce: 'pre',
  resolveId(source, importer) {
    if (/[\\/]utils[\\/]markdown(\.js)?$/.test(source) && importer?.includes('codemirror-json-schema'))
      return path.join(import.meta.dirname, 'src/lib/markdown-lite.ts');
    return null;
  },
};

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [markdownLite, react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
  },
  worker: { format: 'es' },
  server: {
    proxy: { '/api': api, '/openapi.json': api },
  },
});
