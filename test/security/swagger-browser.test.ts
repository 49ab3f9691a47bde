/**
 * Swagger UI in a real Chromium: the page loads under the API's security headers (CSP) without errors, lists the
 * run routes, and its Authorize button makes "Try it out" calls carry the key (an admin-only route answers 200).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApi, type TestApi } from '../support/api';
import { launchChromium } from '../support/browser';

describe('Swagger UI in Chromium', () => {
  let api: TestApi;
  let browser: Browser;

  before(async () => {
    api = await startTestApi();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
  });

  it('authorizes with an API key and calls a guarded route from the page', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${api.url}/swagger/`);

    const orchestration = page
      .locator('.opblock-tag-section')
      .filter({ hasText: 'Start, stop and inspect runs.' });
    for (const path of [
      '/api/Orchestration/start/{orchestratedFlowId}',
      '/api/Orchestration/runs/{orchestratedFlowId}',
    ])
      await orchestration.getByText(path, { exact: true }).first().waitFor();

    await page.getByRole('button', { name: 'Authorize' }).first().click();
    await page
      .locator('.modal-ux input')
      .first()
      .fill(await api.keyOf('admin'));
    await page.locator('.modal-ux button.modal-btn.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();

    const keys = page.locator('.opblock-get').filter({ hasText: '/api/ApiKey' }).first();
    await keys.locator('.opblock-summary').click();
    await keys.getByRole('button', { name: 'Try it out' }).click();
    await keys.getByRole('button', { name: 'Execute' }).click();
    const live = keys.locator('.live-responses-table .response').first();
    await live.waitFor();
    assert.equal((await live.locator('.response-col_status').innerText()).trim(), '200');
    assert.match(await live.locator('.response-col_description').innerText(), /"name": "test-admin"/);
    assert.deepEqual(problems, []);
  });
});
