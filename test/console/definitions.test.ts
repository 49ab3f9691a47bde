/**
 * The console's Definitions page in a real Chromium against the real API, Postgres and Temporal: an editor opens a
 * flow's bundle, adds a step in the YAML editor and sees it in the preview, plans, applies, and finds it on the Flow
 * page; an invalid edit shows its problem before sending and the API's refusal after Plan; a viewer sees no Plan or
 * Apply. The page runs under the API's CSP with no script error; axe finds no serious or critical violation.
 * A failing test leaves a screenshot in test-results/console/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import type { Role } from '../../api/auth/roles';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { launchChromium } from '../support/browser';
import { assertAccessible, CONSOLE_ARTIFACTS, signIn } from '../support/console-browser';
import { createFlow, startTestEngine, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';

const P = `definitions-${unique()}`;

type Doc = Record<string, unknown> & { kind: string; name: string; version: string };

describe('the Definitions page in Chromium', () => {
  let engine: TestEngine;
  let browser: Browser;
  let flow: string;
  let documents: Doc[];

  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
    browser = await launchChromium();
    await mkdir(CONSOLE_ARTIFACTS, { recursive: true });
    const created = await createFlow(engine.api, {
      Greet: { processor: P, next: ['Answer'] },
      Answer: { processor: P },
    });
    const found = await engine.api.request<{ name: string; version: string }>(
      'GET',
      `/api/OrchestratedFlow/${created.flowId}`,
    );
    flow = `${found.body.name}@${found.body.version}`;
    const exported = await engine.api.request<{ documents: Doc[] }>(
      'GET',
      `/api/Bundle/export?flow=${encodeURIComponent(flow)}`,
    );
    assert.equal(exported.status, 200);
    documents = exported.body.documents;
  });
  after(async () => {
    await browser?.close();
    await engine?.close();
  });

  /** Script errors and CSP refusals seen by each page. */
  const problemsOf = new WeakMap<Page, string[]>();

  const login = async (role: Role): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems: string[] = [];
    problemsOf.set(page, problems);
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (
        message.type() === 'error' &&
        /Content Security Policy|unsafe-eval|WebAssembly/i.test(message.text())
      )
        problems.push(message.text());
    });
    await signIn(page, engine.api.url, await engine.api.keyOf(role));
    return page;
  };

  const withScreenshot = async (name: string, page: Page, work: () => Promise<void>) => {
    try {
      await work();
      assert.deepEqual(problemsOf.get(page), [], 'no script errors and no CSP refusals');
    } catch (error) {
      await page
        .screenshot({ path: path.join(CONSOLE_ARTIFACTS, `definitions-${name}.png`), fullPage: true })
        .catch(() => {});
      throw error;
    }
  };

  const node = (page: Page, step: string) => page.locator(`[data-step-name="${step}"]`);
  const editor = (page: Page) => page.getByRole('textbox', { name: 'Bundle YAML' });

  /** Replaces the editor's text the way a person pastes: focus, select all, type it in. */
  const replaceText = async (page: Page, text: string) => {
    await editor(page).click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(text);
  };

  /** The flow's bundle with a step "Notify" after Answer (and `change` applied to the documents). */
  const withNotify = (change: (docs: Doc[]) => void = () => {}) => {
    const docs = structuredClone(documents);
    const answer = docs.find((d) => d.kind === 'Step' && d.name === 'Answer')!;
    const notify = { kind: 'Step', name: 'Notify', version: answer.version, processor: answer.processor };
    answer.next = [`Notify@${answer.version}`];
    const workflow = docs.find((d) => d.kind === 'Workflow')!;
    workflow.steps = [...(workflow.steps as string[]), `Notify@${answer.version}`];
    docs.splice(docs.indexOf(workflow), 0, notify as Doc);
    change(docs);
    return docs.map((doc) => stringify(doc, { lineWidth: 0 })).join('---\n');
  };

  it('adds a step in the YAML, sees it in the preview, plans, applies, and finds it on the Flow page', async () => {
    const page = await login('editor');
    await withScreenshot('apply', page, async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Definitions' }).click();
      await page.getByRole('heading', { level: 1, name: 'Definitions' }).waitFor();
      await page.getByLabel('Flow', { exact: true }).selectOption(flow);
      await editor(page).getByText('name: Greet').waitFor();
      await node(page, 'Greet').waitFor();
      await node(page, 'Answer').waitFor();
      await assertAccessible(page, 'the Definitions page');

      await replaceText(page, withNotify());
      await node(page, 'Notify').waitFor();
      assert.equal(
        await page.locator('.cm-lintRange-error').count(),
        0,
        'no schema markers on a valid bundle',
      );

      await page.getByRole('button', { name: 'Plan' }).click();
      const plan = page.getByRole('table', { name: /^Plan: 1 to create, 2 to update/ });
      await plan.waitFor();
      await plan.getByRole('row', { name: /create Step Notify/ }).waitFor();
      await plan.getByRole('row', { name: /update Step Answer .* next/ }).waitFor();
      await assertAccessible(page, 'the plan');

      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByText('Applied.').waitFor();
      const [name, version] = flow.split('@') as [string, string];
      await page.getByRole('link', { name: `Open ${name} ${version}` }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
      await node(page, 'Notify').waitFor();
      assert.equal(await node(page, 'Notify').getAttribute('aria-label'), 'Notify: Not run');
    });
    await page.context().close();
  });

  it('shows an invalid edit’s problems before sending, and the API’s refusal after Plan', async () => {
    const page = await login('admin');
    await withScreenshot('invalid', page, async () => {
      await page.goto(`${engine.api.url}/ui/definitions?flow=${encodeURIComponent(flow)}`);
      await editor(page).getByText('name: Greet').waitFor();
      await replaceText(
        page,
        withNotify((docs) => {
          const notify = docs.find((d) => d.name === 'Notify')!;
          notify.next = ['Ghost@1.0'];
          notify.colour = 'red';
        }),
      );
      await page.getByText(/next\[0\] Ghost@1\.0 is not a Step in this bundle/).waitFor();
      // The schema's marker on the unknown field, from the editor's own checks (no eval under the CSP).
      await page.locator('.cm-lintRange-error').first().waitFor();

      await page.getByRole('button', { name: 'Plan' }).click();
      const refusal = page.getByRole('alert').filter({ hasText: 'Plan was refused.' });
      await refusal.waitFor();
      await refusal
        .getByText(/Ghost@1\.0/)
        .first()
        .waitFor();
      await refusal
        .getByText(/colour/)
        .first()
        .waitFor();
      await assertAccessible(page, 'a refused plan');
    });
    await page.context().close();
  });

  it('shows a viewer the bundle and its preview with no Plan or Apply, on a narrow window too', async () => {
    const page = await login('viewer');
    await withScreenshot('viewer', page, async () => {
      await page.goto(`${engine.api.url}/ui/definitions?flow=${encodeURIComponent(flow)}`);
      await editor(page).getByText('name: Greet').waitFor();
      await node(page, 'Greet').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Plan' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Apply' }).count(), 0);
      await page.setViewportSize({ width: 600, height: 800 });
      assert.ok(await editor(page).isVisible());
      await node(page, 'Greet').scrollIntoViewIfNeeded();
      assert.ok(await node(page, 'Greet').isVisible());
      await assertAccessible(page, 'the Definitions page of a viewer, narrow');
    });
    await page.context().close();
  });
});
