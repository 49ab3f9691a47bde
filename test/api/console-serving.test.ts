/**
 * The API serves the built console at /ui/: its page for every app path (the browser routes), its hashed assets with
 * a long cache, no credential needed (the page holds no data), and a clear page when the console is not built.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from '../support/api';

describe('the console at /ui/', () => {
  let dir: string;
  let built: TestApi;
  let unbuilt: TestApi;
  const page =
    '<!doctype html><html><body><div id="root"></div><script src="/ui/assets/app-1a2b.js"></script>';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'console-'));
    await mkdir(path.join(dir, 'assets'));
    await writeFile(path.join(dir, 'index.html'), page);
    await writeFile(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log("app")');
    await writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    [built, unbuilt] = await Promise.all([
      startTestApi({ consoleDir: dir }),
      startTestApi({ consoleDir: path.join(dir, 'missing') }),
    ]);
  });
  after(async () => {
    await Promise.all([built?.close(), unbuilt?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const get = (api: TestApi, url: string) => fetch(`${api.url}${url}`, { redirect: 'manual' });

  it('answers the page for /ui/ and every path under it, never cached, without a credential', async () => {
    for (const url of ['/ui/', '/ui/flows/3f2c', '/ui/callback?code=x&state=y']) {
      const response = await get(built, url);
      assert.equal(response.status, 200, url);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/, url);
      assert.equal(response.headers.get('cache-control'), 'no-cache', url);
      assert.equal(await response.text(), page, url);
    }
    const bare = await get(built, '/ui');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/ui/');
  });

  it('serves hashed assets for a year and other files as they are', async () => {
    const asset = await get(built, '/ui/assets/app-1a2b.js');
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
    assert.equal(await asset.text(), 'console.log("app")');
    const icon = await get(built, '/ui/favicon.svg');
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    // The content security policy lets the page run only its own scripts.
    assert.match(asset.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });

  it('says how to build the console when it is not built', async () => {
    const response = await get(unbuilt, '/ui/');
    assert.equal(response.status, 503);
    assert.match(await response.text(), /The console is not built.*npm run console:build/s);
  });

  it('leaves the API to the API: an unknown API path is still a JSON 401 for an anonymous caller', async () => {
    const response = await get(built, '/api/Nothing');
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'Unauthorized');
  });
});
