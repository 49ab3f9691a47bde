/**
 * The console in a real Chromium against the real API, Postgres and Temporal: log in with a key, find a flow, start
 * a run and watch its nodes turn Running then Succeeded, read why a step was skipped and why a failure handler ran,
 * stop a long run and see Cancelled, and a viewer sees no Start. Every page passes axe-core with no serious or
 * critical violation. A failing test leaves a screenshot in test-results/console/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Role } from '../../api/auth/roles';
import { scriptedProcessor } from '../fixtures/scripted-processor';
import { launchChromium } from '../support/browser';
import { assertAccessible, CONSOLE_ARTIFACTS, signIn } from '../support/console-browser';
import { createFlow, startTestEngine, type CreatedFlow, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';

const P = `console-${unique()}`;
const STEP_TIMEOUT_MS = 30_000;

describe('the console in Chromium', () => {
  let engine: TestEngine;
  let browser: Browser;
  const flows: Record<'greeting' | 'branches' | 'slow', CreatedFlow & { name: string }> = {} as never;

  before(async () => {
    engine = await startTestEngine([scriptedProcessor(P)]);
    browser = await launchChromium();
    await mkdir(CONSOLE_ARTIFACTS, { recursive: true });
    const named = async (flow: CreatedFlow) => {
      const found = await engine.api.request<{ name: string }>('GET', `/api/OrchestratedFlow/${flow.flowId}`);
      return { ...flow, name: found.body.name };
    };
    flows.greeting = await named(
      await createFlow(engine.api, {
        Greet: { processor: P, next: ['Answer'], configuration: { delayMs: 1_500, echo: true } },
        Answer: { processor: P, configuration: { delayMs: 1_500, echo: true } },
      }),
    );
    flows.branches = await named(
      await createFlow(engine.api, {
        Fetch: { processor: P, next: ['Parse', 'Alert'], configuration: { fail: true, nonRetryable: true } },
        Parse: { processor: P },
        Alert: { processor: P, entryCondition: 'PreviousFailure' },
      }),
    );
    flows.slow = await named(
      await createFlow(engine.api, {
        Slow: {
          processor: P,
          next: ['After'],
          configuration: { delayMs: 60_000 },
          timeouts: { heartbeatMs: 2_000 },
        },
        After: { processor: P },
      }),
    );
  });
  after(async () => {
    await browser?.close();
    await engine?.close();
  });

  /** A new browser context logged in through the login page with a key of `role`, on the Flows page. */
  const login = async (role: Role, viewport = { width: 1280, height: 800 }): Promise<Page> => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await signIn(page, engine.api.url, await engine.api.keyOf(role));
    assert.deepEqual(problems, [], 'no script errors on the way in');
    return page;
  };

  /** Runs `work`; on failure saves a screenshot of `page` named after the test, then fails as it did. */
  const withScreenshot = async (name: string, page: Page, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      await page
        .screenshot({ path: path.join(CONSOLE_ARTIFACTS, `${name}.png`), fullPage: true })
        .catch(() => {});
      throw error;
    }
  };

  /** axe-core on the page as it is: no serious or critical violation. */

  /** The DAG node of a step, found by its test hook, once it shows `status`. */
  const node = (page: Page, step: string, status?: string) =>
    page.locator(`[data-step-name="${step}"]${status ? `[data-status="${status}"]` : ''}`);

  const openFlow = async (page: Page, flow: { name: string }) => {
    await page.getByLabel('Search by name').fill(flow.name);
    await page.getByRole('link', { name: flow.name }).click();
    await page.getByRole('heading', { level: 1, name: flow.name }).waitFor();
  };

  const startRun = async (page: Page, input = '{}') => {
    await page.getByRole('button', { name: 'Start run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Run input (JSON)').fill(input);
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.waitFor({ state: 'detached' });
  };

  it('logs in with a key, lists the flows, and passes axe on the login and Flows pages', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await withScreenshot('login', page, async () => {
      await page.goto(`${engine.api.url}/ui/`);
      await page.getByLabel('API key').waitFor();
      await assertAccessible(page, 'the login page');
      await page.getByLabel('API key').fill('flo_wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText(/key/i).first().waitFor();
      // The key never reaches storage the page's scripts can read.
      const stored = await page.evaluate(() => {
        const { localStorage, sessionStorage } = globalThis as unknown as Record<string, object>;
        return JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
      });
      assert.ok(!stored.includes('flo_'), stored);

      await page.getByLabel('API key').fill(await engine.api.keyOf('operator'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Flows' }).waitFor();
      await page.getByRole('link', { name: flows.greeting.name }).waitFor();
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'flow_session');
      assert.ok(session?.httpOnly, 'the session cookie is httpOnly');
      assert.equal(session?.sameSite, 'Strict');
      await assertAccessible(page, 'the Flows page');
    });
    await context.close();
  });

  it('starts a run and shows each node Running, then Succeeded, without a reload', async () => {
    const page = await login('operator');
    await withScreenshot('run', page, async () => {
      await openFlow(page, flows.greeting);
      await node(page, 'Greet').waitFor();
      await assertAccessible(page, 'the Flow page');
      await startRun(page, '{"greeting":"hi"}');
      await node(page, 'Greet', 'Running').waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await node(page, 'Greet').getAttribute('aria-label'), 'Greet: Running');
      await node(page, 'Answer', 'Running').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'Greet', 'Succeeded').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'Answer', 'Succeeded').waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await node(page, 'Answer').getAttribute('aria-label'), 'Answer: Succeeded');
      // Colour and words: the node says its state in text too.
      assert.match((await node(page, 'Answer').textContent()) ?? '', /Succeeded/);
      // Its panel shows what it received: Greet's output (which echoes Greet's invocation, the run input in it).
      await node(page, 'Answer').click();
      const input = page
        .getByRole('complementary', { name: /Answer/ })
        .getByRole('region', { name: 'Input' });
      await input.getByText('"stepName": "Greet"').waitFor();
      await input.getByText('"greeting": "hi"').waitFor();
      await assertAccessible(page, 'the Flow page with a finished run');
    });
    await page.context().close();
  });

  it('explains why a step was skipped and why the failure handler ran', async () => {
    const page = await login('operator');
    await withScreenshot('decisions', page, async () => {
      await openFlow(page, flows.branches);
      await startRun(page);
      await node(page, 'Parse', 'Skipped').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'Alert', 'Succeeded').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'Parse').click();
      const panel = page.getByRole('complementary', { name: /Parse/ });
      await panel.getByText('PreviousSuccess not met: "Fetch" Failed').first().waitFor();
      await assertAccessible(page, 'the step panel');
      // Keyboard: a node opens its panel with Enter.
      await node(page, 'Alert').focus();
      await page.keyboard.press('Enter');
      const alert = page.getByRole('complementary', { name: /Alert/ });
      await alert.getByText('PreviousFailure met: "Fetch" Failed').first().waitFor();
    });
    await page.context().close();
  });

  it('stops a long run after confirmation and shows its steps Cancelled', async () => {
    const page = await login('operator');
    await withScreenshot('stop', page, async () => {
      await openFlow(page, flows.slow);
      await startRun(page);
      await node(page, 'Slow', 'Running').waitFor({ timeout: STEP_TIMEOUT_MS });
      await page.getByRole('group', { name: 'Run control' }).getByRole('button', { name: 'Stop' }).click();
      const confirm = page.getByRole('dialog');
      await confirm.getByRole('button', { name: 'Stop runs' }).click();
      await node(page, 'Slow', 'Cancelled').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'After', 'Cancelled').waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'After').click();
      await page
        .getByRole('complementary', { name: /After/ })
        .getByText('the run was stopped before the step was decided')
        .first()
        .waitFor();
    });
    await page.context().close();
  });

  it('works on a narrow window: no sideways scrolling, the DAG and the step panel usable, axe clean', async () => {
    const page = await login('operator', { width: 400, height: 800 });
    await withScreenshot('narrow', page, async () => {
      const fitsWidth = () =>
        page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1');
      assert.ok(await fitsWidth(), 'the Flows page fits 400 px');
      await openFlow(page, flows.branches);
      await node(page, 'Fetch').waitFor();
      assert.ok(await fitsWidth(), 'the Flow page fits 400 px');
      await page.getByRole('button', { name: 'Start run' }).waitFor();
      await node(page, 'Fetch').focus();
      await page.keyboard.press('Enter');
      await page.getByRole('complementary', { name: /Fetch/ }).waitFor();
      await assertAccessible(page, 'the Flow page on a narrow window');
    });
    await page.context().close();
  });

  it('shows a viewer the flow and its runs, with no Start or Stop', async () => {
    const page = await login('viewer');
    await withScreenshot('viewer', page, async () => {
      await openFlow(page, flows.greeting);
      await node(page, 'Greet').waitFor();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Start run' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Stop' }).count(), 0);
    });
    await page.context().close();
  });
});
