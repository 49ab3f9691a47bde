/**
 * Determinism guard: every recorded history (test/fixtures/histories, see record-histories.ts) must replay on the
 * current interpreter. A change to what the interpreter does for existing runs must go behind `patched()`; the
 * second test shows that an unguarded change is caught.
 */
import { dataConverter } from '../../infra/payload-keys';
import { fixtureCodec } from './fixture-codec';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decodeArrayFromPayloads, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { RunSummary } from '../../domain/flow-types';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { orchestratorSinks, workflowInterceptorModules } from '../../workers/orchestrator-worker';
import { installQuietRuntime } from '../support/quiet-runtime';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

installQuietRuntime();

/** Every recorded history, named `<generation>/<scenario>`. */
async function histories() {
  const generations = (await readdir(HISTORIES)).sort();
  const files = (
    await Promise.all(
      generations.map(async (generation) =>
        (await readdir(path.join(HISTORIES, generation)))
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => `${generation}/${f}`),
      ),
    )
  ).flat();
  return Promise.all(
    files.map(async (file) => ({
      name: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8'))),
    })),
  );
}

describe('replay of recorded interpreter histories', () => {
  it('has the representative histories', async () => {
    // v2 added the scheduled run that loads its definition; v3 and v4 recorded the same scenarios as v2.
    const v1 = ['cancelled', 'chain', 'fan-out-join', 'handled-failure', 'unhandled-failure'];
    const v2 = [...v1.slice(0, 4), 'scheduled-local-load', 'unhandled-failure'];
    const named = (generation: string, scenarios: string[]) => scenarios.map((n) => `${generation}/${n}`);
    assert.deepEqual(
      (await histories()).map((h) => h.name),
      [...named('v1', v1), ...named('v2', v2), ...named('v3', v2), ...named('v4', v2)],
    );
  });

  it('records each decision from v4 on, and none before', async () => {
    const converter = loadDataConverter(dataConverter(fixtureCodec));
    const resultOf = async (name: string) => {
      const recorded = (await histories()).find((h) => h.name === name);
      const completed = recorded?.history.events?.find((e) => e.workflowExecutionCompletedEventAttributes);
      const payloads = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads;
      return (await decodeArrayFromPayloads(converter, payloads))[0] as RunSummary;
    };
    const decisions = (summary: RunSummary) =>
      Object.fromEntries(
        summary.steps.map((s) => [s.name, s.decision && [s.decision.outcome, s.decision.reason]]),
      );
    assert.deepEqual(decisions(await resultOf('v4/handled-failure')), {
      Fetch: ['Run', 'entry point: no previous step, the start counts as a success'],
      Parse: ['Skipped', 'PreviousSuccess not met: "Fetch" Failed'],
      Alert: ['Run', 'PreviousFailure met: "Fetch" Failed'],
    });
    assert.deepEqual(decisions(await resultOf('v3/handled-failure')), {
      Fetch: undefined,
      Parse: undefined,
      Alert: undefined,
    });
  });

  it('replays every history on the current interpreter, with the interceptors production registers', async () => {
    // Histories recorded before the metrics and tracing interceptors (and the payload codec) existed replay with
    // them, tracing on or off: they issue no commands.
    for (const tracing of [false, true]) {
      const options = {
        workflowsPath: require.resolve('../../workflows/index'),
        interceptors: { workflowModules: workflowInterceptorModules(tracing) },
        sinks: orchestratorSinks(undefined),
        // As production runs: with a payload codec (histories recorded before it existed pass through it unchanged).
        dataConverter: dataConverter(fixtureCodec),
      };
      for (const { name, history } of await histories())
        await assert.doesNotReject(
          Worker.runReplayHistory(options, history, name),
          `history ${name} no longer replays (tracing ${tracing ? 'on' : 'off'}): the interpreter changed behaviour for existing runs (use patched())`,
        );
    }
  });

  it('rejects a deliberately changed interpreter', async () => {
    for (const { name, history } of await histories())
      await assert.rejects(
        Worker.runReplayHistory(
          {
            workflowsPath: require.resolve('../fixtures/changed-interpreter'),
            dataConverter: dataConverter(fixtureCodec),
          },
          history,
          name,
        ),
        (error: unknown) => {
          assert.ok(error instanceof DeterminismViolationError, `${name}: ${String(error)}`);
          return true;
        },
      );
  });
});
