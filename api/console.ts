/**
 * Serves the web console (console/, built by `npm run console:build` into console/dist) at /ui/: its hashed assets
 * with a long cache, and its page for every other path under /ui/ (the app routes in the browser). Public: the page
 * and its files hold no data; everything the console shows comes from the API with the session's role.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>FlowOrchestrator console</title></head>' +
  '<body><main><h1>The console is not built</h1><p>Run <code>npm run console:build</code>, then reload.</p></main>' +
  '</body></html>';

export function consoleRouter(dir: string): Router {
  const router = express.Router({ strict: true });
  const page = path.join(dir, 'index.html');
  // /ui → /ui/, so the page's relative URLs resolve under /ui/.
  router.get('/ui', (_req, res) => res.redirect(301, '/ui/'));
  router.use(
    '/ui/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      redirect: false,
    }),
  );
  router.use('/ui', express.static(dir, { index: false, redirect: false }));
  router.get(/^\/ui\/.*/, (_req, res) => {
    if (!existsSync(page)) return void res.status(503).type('html').send(NOT_BUILT);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(page);
  });
  return router;
}
