import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The console is served by the API at /ui/ (same origin, so the session cookie and the CSRF header just work).
 * `npm run console:dev` serves it with hot reload and forwards /api to the API on API_URL (default :3000).
 */
const api = process.env.API_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [react()],
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
