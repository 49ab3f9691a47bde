/**
 * The console in a real Chromium against the real API, Postgres and Temporal: log in with a key, find a flow, start
 * a run and watch its nodes turn Running then Succeeded, read why a step was skipped and why a failure handler ran,
 * stop a long run and see Cancelled, pause a run and resume it, rerun a failed run (its earlier steps Reused, a
 * refused current definition shown, then from a chosen step), see a for-each step's items and a failed run's
 * compensation, and a viewer sees no Start, Pause or Rerun. Every page passes axe-core with no serious or critical
 * violation. A failing test leaves a screenshot in test-results/console/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Role } from '../../api/auth/roles';
import { outages, scriptedProcessor } from '../fixtures/scripted-processor';
import { launchChromium } from '../support/browser';
import { assertAccessible, CONSOLE_ARTIFACTS, signIn } from '../support/console-browser';
import { createFlow, runFlow, startTestEngine, type CreatedFlow, type TestEngine } from '../support/engine';
import { unique } from '../support/fixtures';

const P = `console-${unique()}`;
const STEP_TIMEOUT_MS = 30_000;
/** Partners the scripted processor calls: a step fails (without retries) while its partner is in `outages`. */
const SHIPPING = `shipping-${unique()}`;
const COURIER = `courier-${unique()}`;

describe('the console in Chromium', () => {
  let engine: TestEngine;
  let browser: Browser;
  const flows: Record<
    'greeting' | 'branches' | 'slow' | 'pausable' | 'repair' | 'saga',
    CreatedFlow & { name: string }
  > = {} as never;

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
    flows.pausable = await named(
      await createFlow(engine.api, {
        Hold: {
          processor: P,
          next: ['Next'],
          configuration: { delayMs: 6_000 },
          timeouts: { heartbeatMs: 2_000 },
        },
        Next: { processor: P },
      }),
    );
    flows.repair = await named(
      await createFlow(engine.api, {
        Reserve: { processor: P, next: ['Pack'], configuration: { output: { reserved: 1 } } },
        Pack: { processor: P, next: ['Ship'] },
        Ship: { processor: P, next: ['Notify'], configuration: { partner: SHIPPING } },
        Notify: { processor: P },
      }),
    );
    flows.saga = await named(
      await createFlow(engine.api, {
        Reserve: {
          processor: P,
          next: ['Label'],
          configuration: { output: ['a', 'b', 'c'] },
          compensation: { processor: P, configuration: { output: 'released' } },
        },
        Label: { processor: P, next: ['Ship'], forEach: { items: '$' } },
        Ship: { processor: P, configuration: { partner: COURIER } },
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

  /** The selected run's bar (its status, trigger, pause note and controls). */
  const runBar = (page: Page) => page.getByRole('group', { name: 'Selected run' });
  const selectedRunId = (page: Page) => new URL(page.url()).searchParams.get('run');

  /** Polls `probe` every 100 ms until it is true (the page's CSP refuses page.waitForFunction). */
  const until = async (
    what: string,
    probe: () => Promise<boolean> | boolean,
    timeoutMs = STEP_TIMEOUT_MS,
  ) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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

  it('pauses a running run from the console, shows who paused it and why, and resumes it to completion', async () => {
    const page = await login('operator');
    await withScreenshot('pause', page, async () => {
      await openFlow(page, flows.pausable);
      await startRun(page);
      await node(page, 'Hold', 'Running').waitFor({ timeout: STEP_TIMEOUT_MS });
      const bar = runBar(page);
      await bar.getByRole('button', { name: 'Pause run', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Reason (optional)').fill('partner maintenance');
      await assertAccessible(page, 'the pause dialog');
      await dialog.getByRole('button', { name: 'Pause run', exact: true }).click();
      await dialog.waitFor({ state: 'detached' });

      await bar.locator('[data-status="Paused"]').waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await bar.locator('[data-status="Paused"]').textContent(), 'Paused');
      await bar.getByText(/^Paused by test-operator at .+ \(partner maintenance\)$/).waitFor();
      // The runs table says it too, and the filter offers it.
      await page.getByRole('table').locator('[data-status="Paused"]').waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await page.getByLabel('Status').locator('option', { hasText: 'Paused' }).count(), 1);
      // Hold finishes and is recorded; Next does not start while the run is paused.
      await node(page, 'Hold', 'Succeeded').waitFor({ timeout: STEP_TIMEOUT_MS });
      await page.waitForTimeout(1_500);
      assert.equal(await node(page, 'Next').getAttribute('data-status'), 'Pending');
      await bar.locator('[data-status="Paused"]').waitFor();
      assert.equal(await bar.getByRole('button', { name: 'Pause run', exact: true }).count(), 0);
      await assertAccessible(page, 'a paused run');

      await bar.getByRole('button', { name: 'Resume run' }).click();
      await node(page, 'Next', 'Succeeded').waitFor({ timeout: STEP_TIMEOUT_MS });
      await bar.locator('[data-status="Completed"]').waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await bar.getByText(/Paused by/).count(), 0);
      await page.getByRole('status').getByText('Run resumed.').waitFor();
    });
    await page.context().close();
  });

  it('reruns a failed run from the console: a changed definition is refused, then the earlier steps are Reused and it completes', async () => {
    const page = await login('operator');
    outages.add(SHIPPING);
    try {
      await withScreenshot('rerun', page, async () => {
        await openFlow(page, flows.repair);
        await startRun(page);
        const bar = runBar(page);
        await node(page, 'Ship', 'Failed').waitFor({ timeout: STEP_TIMEOUT_MS });
        await bar.locator('[data-status="Failed"]').waitFor({ timeout: STEP_TIMEOUT_MS });
        const failedRunId = selectedRunId(page);
        assert.ok(failedRunId);
        outages.delete(SHIPPING);

        // Reserve, which the rerun would reuse, changes: the current definition is refused, naming it.
        const stepId = flows.repair.stepIds.Reserve!;
        const stored = await engine.api.request<Record<string, unknown>>('GET', `/api/Step/${stepId}`);
        const kept = ['version', 'name', 'processorId', 'nextStepIds', 'entryCondition'];
        const changed = await engine.api.request('PUT', `/api/Step/${stepId}`, {
          ...Object.fromEntries(Object.entries(stored.body).filter(([key]) => kept.includes(key))),
          configuration: { output: { reserved: 2 } },
        });
        assert.equal(changed.status, 204, JSON.stringify(changed.body));

        await bar.getByRole('button', { name: 'Rerun', exact: true }).click();
        const dialog = page.getByRole('dialog');
        assert.ok(await dialog.getByLabel(/^The failed, cancelled and undecided steps/).isChecked());
        await dialog.getByLabel(/^Use the current definition/).check();
        await dialog.getByRole('button', { name: 'Start rerun' }).click();
        const refusal = dialog.getByRole('alert');
        await refusal.getByText('The run was not rerun.').waitFor();
        await refusal.getByText('step "Reserve" changed', { exact: false }).waitFor();
        await refusal.getByText(/DefinitionChanged \(HTTP 409\)/).waitFor();
        await assertAccessible(page, 'the rerun dialog with a refusal');

        // On the definition the run recorded it goes ahead, and the new run is selected.
        await dialog.getByLabel(/^Use the current definition/).uncheck();
        await dialog.getByRole('button', { name: 'Start rerun' }).click();
        await dialog.waitFor({ state: 'detached' });
        await until('the rerun selected', () => ![null, failedRunId].includes(selectedRunId(page)));
        const rerunId = selectedRunId(page)!;
        await page
          .getByRole('status')
          .getByText('Rerun started: "Reserve" and "Pack" reused; "Ship" and "Notify" run again.')
          .waitFor();
        await bar.locator('[data-status="Completed"]').waitFor({ timeout: STEP_TIMEOUT_MS });
        await bar.getByText(`rerun of run ${failedRunId.split('-')[0]}`).waitFor();
        for (const name of ['Reserve', 'Pack']) {
          assert.equal(await node(page, name).getAttribute('data-status'), 'Succeeded');
          assert.equal(await node(page, name).getAttribute('data-reused'), 'true', name);
          assert.match((await node(page, name).textContent()) ?? '', /Reused/);
        }
        for (const name of ['Ship', 'Notify']) {
          await node(page, name, 'Succeeded').waitFor();
          assert.equal(await node(page, name).getAttribute('data-reused'), null, name);
          assert.doesNotMatch((await node(page, name).textContent()) ?? '', /Reused/);
        }
        await node(page, 'Reserve').click();
        const panel = page.getByRole('complementary', { name: /Reserve/ });
        await panel
          .getByText(`It was not run again: reused from run ${failedRunId}, where it Succeeded.`)
          .waitFor();
        await panel.getByRole('link', { name: `run ${failedRunId}` }).waitFor();
        // The runs table lists it as a rerun of the failed run.
        const row = page.getByRole('row').filter({ hasText: 'Rerun of run' });
        await row.getByText(`of run ${failedRunId.split('-')[0]}`).waitFor({ timeout: STEP_TIMEOUT_MS });
        assert.equal(await row.count(), 1);
        await assertAccessible(page, 'a rerun with reused steps');

        // Rerun from a chosen step (the step panel's action): Pack and what follows run again.
        await node(page, 'Pack').click();
        await page
          .getByRole('complementary', { name: /Pack/ })
          .getByRole('button', { name: 'Rerun from this step' })
          .click();
        assert.ok(await dialog.getByLabel('A step I choose, and every step after it').isChecked());
        assert.equal(await dialog.getByLabel('Rerun from step').inputValue(), flows.repair.stepIds.Pack);
        await dialog.getByRole('button', { name: 'Start rerun' }).click();
        await dialog.waitFor({ state: 'detached' });
        await until('the second rerun selected', () => ![null, rerunId].includes(selectedRunId(page)));
        await bar.locator('[data-status="Completed"]').waitFor({ timeout: STEP_TIMEOUT_MS });
        await bar.getByText(`rerun of run ${rerunId.split('-')[0]} from step "Pack"`).waitFor();
        assert.equal(await node(page, 'Reserve').getAttribute('data-reused'), 'true');
        for (const name of ['Pack', 'Ship', 'Notify'])
          assert.equal(await node(page, name).getAttribute('data-reused'), null, name);
      });
    } finally {
      outages.delete(SHIPPING);
    }
    await page.context().close();
  });

  it("shows a for-each step's items and the compensation that undid a failed run", async () => {
    const page = await login('operator');
    outages.add(COURIER);
    try {
      await withScreenshot('saga', page, async () => {
        await openFlow(page, flows.saga);
        await startRun(page);
        await runBar(page).locator('[data-status="Failed"]').waitFor({ timeout: STEP_TIMEOUT_MS });
        const saga = page.getByRole('region', { name: 'Compensation Completed' });
        await saga.waitFor({ timeout: STEP_TIMEOUT_MS });
        assert.deepEqual(
          (await saga.getByRole('listitem').allTextContents()).map((text) => text.trim()),
          ['Reserve Succeeded 1 attempt'],
        );
        await node(page, 'Label', 'Succeeded').waitFor();
        assert.match((await node(page, 'Label').textContent()) ?? '', /3\/3 done/);

        await node(page, 'Label').click();
        await page.getByRole('complementary', { name: /Label/ }).getByText('3/3 done').waitFor();
        await node(page, 'Reserve').click();
        const undo = page.getByRole('complementary', { name: /Reserve/ }).getByRole('region', {
          name: 'Compensation',
          exact: true,
        });
        await undo.locator('[data-status="Succeeded"]').waitFor();
        await undo.getByText('number 1 of 1, newest completion first', { exact: false }).waitFor();
        await assertAccessible(page, 'a compensated run with a for-each step');
      });
    } finally {
      outages.delete(COURIER);
    }
    await page.context().close();
  });

  it('shows a viewer the flow and its runs, with no Start, Stop, Pause or Rerun', async () => {
    // A closed run, which an operator could rerun.
    const closed = await runFlow(engine.api, flows.branches.flowId);
    const page = await login('viewer');
    await withScreenshot('viewer', page, async () => {
      await openFlow(page, flows.greeting);
      await node(page, 'Greet').waitFor();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Start run' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Stop' }).count(), 0);
      await page.goto(`${engine.api.url}/ui/flows/${flows.branches.flowId}?run=${closed.runId}`);
      await runBar(page).locator(`[data-status="${closed.status}"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
      await node(page, 'Fetch').click();
      await page.getByRole('complementary', { name: /Fetch/ }).getByText('State in this run').waitFor();
      for (const name of ['Pause run', 'Resume run', 'Rerun', 'Rerun from this step'])
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    });
    await page.context().close();
  });
});
