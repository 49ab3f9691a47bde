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
import { defaultPayloadConverter } from '@temporalio/common';
import type { FlowRunInput, RunSummary } from '../../domain/flow-types';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import {
  orchestratorSinks,
  workflowInterceptorModules,
  workflowWebpackConfig,
} from '../../workers/orchestrator-worker';
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
    // v2 added the scheduled run that loads its definition; v3 and v4 recorded the same scenarios as v2; v5 adds
    // run control: a saga, a for-each step, a paused and resumed run, a rerun.
    const v1 = ['cancelled', 'chain', 'fan-out-join', 'handled-failure', 'unhandled-failure'];
    const v2 = [...v1.slice(0, 4), 'scheduled-local-load', 'unhandled-failure'];
    const v5 = [
      'cancelled',
      'chain',
      'compensated',
      'fan-out-join',
      'for-each',
      'handled-failure',
      'paused-resumed',
      'rerun',
      'scheduled-local-load',
      'unhandled-failure',
    ];
    // v6 adds a long run, one history per segment.
    const v6 = [...v5.slice(0, 9), ...[1, 2, 3, 4].map((n) => `segmented-${n}`), 'unhandled-failure'];
    const named = (generation: string, scenarios: string[]) => scenarios.map((n) => `${generation}/${n}`);
    assert.deepEqual(
      (await histories()).map((h) => h.name),
      [
        ...named('v1', v1),
        ...named('v2', v2),
        ...named('v3', v2),
        ...named('v4', v2),
        ...named('v5', v5),
        ...named('v6', v6),
        // v7: the same scenarios; its long run records patch stop-at-segment-edge.
        ...named('v7', v6),
        // v8: the same scenarios, with steps settled in their activities' callbacks (patch lean-steps).
        ...named('v8', v6),
      ],
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

  it('records long runs from v6 on: segments that continue as new, a definition loaded in pages, one patch marker', async () => {
    const converter = loadDataConverter(dataConverter(fixtureCodec));
    const all = await histories();
    const eventsOf = (name: string) => all.find((h) => h.name === name)?.history.events ?? [];
    for (const n of [1, 2, 3]) {
      const next = eventsOf(`v6/segmented-${n}`).at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
      assert.ok(next, `segment ${n} continued as new`);
      const started = eventsOf(`v6/segmented-${n + 1}`)[0]?.workflowExecutionStartedEventAttributes;
      const own = eventsOf(`v6/segmented-${n}`)[0]?.workflowExecutionStartedEventAttributes;
      assert.equal(started?.continuedExecutionRunId, own?.originalExecutionRunId);
      const input = (await decodeArrayFromPayloads(converter, started?.input?.payloads))[0] as FlowRunInput;
      assert.equal(input.continued?.segment, n + 1);
    }
    const completed = eventsOf('v6/segmented-4').at(-1)?.workflowExecutionCompletedEventAttributes;
    const last = (await decodeArrayFromPayloads(converter, completed?.result?.payloads))[0] as RunSummary;
    assert.equal(last.status, 'Completed');
    assert.equal(last.segments?.count, 4);
    assert.equal(last.segments?.archives?.length, 3);
    const first = eventsOf('v6/segmented-1')[0]?.workflowExecutionStartedEventAttributes;
    assert.equal(last.runId, first?.firstExecutionRunId, "the run keeps its first segment's ID");
    assert.deepEqual(
      last.steps.map((s) => s.status),
      Array.from({ length: 10 }, () => 'Succeeded'),
    );
    assert.ok(
      last.steps.some((s) => s.archived),
      'earlier steps are archived stubs in the last segment',
    );
    // A run started without its definition loads it in pages from v6 on (one page here), not in one local activity.
    const loaded = eventsOf('v6/scheduled-local-load')
      .map((e) => e.markerRecordedEventAttributes?.details?.data?.payloads?.[0])
      .filter((meta) => meta)
      .map((meta) => defaultPayloadConverter.fromPayload<{ activity_type?: string }>(meta!).activity_type);
    assert.deepEqual(loaded, ['loadSnapshotPage']);
    // One patch marker per run from v6 on (it stands for every earlier patch); v5 recorded one per patch.
    const patches = (name: string) =>
      eventsOf(name).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
    assert.equal(patches('v6/chain'), 1);
    assert.equal(patches('v5/chain'), 4);
    // From v7 on, each segment that continues or was continued also records stop-at-segment-edge; a run of one
    // segment does not.
    const patchIds = (name: string) =>
      eventsOf(name)
        .map((e) => e.markerRecordedEventAttributes)
        .filter((m) => m?.markerName === 'core_patch')
        .map(
          (m) =>
            defaultPayloadConverter.fromPayload<{ id: string }>(m!.details!['patch-data']!.payloads![0]!).id,
        );
    for (const n of [1, 2, 3, 4]) {
      assert.deepEqual(
        patchIds(`v7/segmented-${n}`),
        ['continue-as-new', 'stop-at-segment-edge'],
        `segment ${n}`,
      );
      assert.deepEqual(patchIds(`v6/segmented-${n}`), ['continue-as-new'], `v6 segment ${n}`);
    }
    assert.deepEqual(patchIds('v7/chain'), ['continue-as-new']);
    // From v8 on, lean-steps stands for every earlier patch, stop-at-segment-edge included: one marker per segment.
    for (const n of [1, 2, 3, 4])
      assert.deepEqual(patchIds(`v8/segmented-${n}`), ['lean-steps'], `v8 segment ${n}`);
    assert.deepEqual(patchIds('v8/chain'), ['lean-steps']);
    assert.deepEqual(patchIds('v8/for-each'), ['lean-steps']);
  });

  it('ends every v8 scenario as its v7 recording did: lean-steps changed how steps settle, not what they decide', async () => {
    const converter = loadDataConverter(dataConverter(fixtureCodec));
    const all = await histories();
    /** How a recorded run ended, by step name (IDs and times differ between recordings). */
    const ending = async (name: string) => {
      const events = all.find((h) => h.name === name)?.history.events ?? [];
      const last = events.at(-1);
      const payload =
        last?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0] ??
        last?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo?.details
          ?.payloads?.[0] ??
        [...events].reverse().find((e) => e.workflowPropertiesModifiedEventAttributes)
          ?.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.summary;
      if (!payload) return undefined;
      const summary = (await decodeArrayFromPayloads(converter, [payload]))[0] as RunSummary;
      const nameOf = new Map(summary.steps.map((s) => [s.stepId, s.name]));
      const idFree = (text: string | undefined) =>
        text?.replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, '<id>');
      return {
        status: summary.status,
        completedSteps: summary.completedSteps,
        totalSteps: summary.totalSteps,
        unhandledFailures: summary.unhandledFailures?.map((id) => nameOf.get(id)),
        steps: summary.steps.map((s) => [
          s.name,
          s.status,
          s.attempts,
          idFree(s.reason),
          s.error?.type,
          s.decision?.outcome,
          idFree(s.decision?.reason),
          s.items,
          s.archived,
        ]),
        compensation: summary.compensation && [
          summary.compensation.status,
          summary.compensation.steps.map((s) => [s.name, s.status, s.attempts]),
        ],
      };
    };
    const scenarios = all.filter((h) => h.name.startsWith('v8/')).map((h) => h.name.slice(3));
    let compared = 0;
    for (const scenario of scenarios) {
      const [before, after] = [await ending(`v7/${scenario}`), await ending(`v8/${scenario}`)];
      assert.deepEqual(after, before, scenario);
      if (after) compared++;
    }
    // Every scenario but the three segments that continued as new ends with a summary.
    assert.equal(compared, scenarios.length - 3);
  });

  it('records the run-control features from v5 on', async () => {
    const converter = loadDataConverter(dataConverter(fixtureCodec));
    const all = await histories();
    const eventsOf = (name: string) => all.find((h) => h.name === name)?.history.events ?? [];
    const closing = async (name: string) => {
      const last = eventsOf(name).at(-1);
      const completed = last?.workflowExecutionCompletedEventAttributes?.result?.payloads;
      const failed =
        last?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo?.details?.payloads;
      return (await decodeArrayFromPayloads(converter, completed ?? failed))[0] as RunSummary;
    };
    const saga = await closing('v5/compensated');
    assert.deepEqual(
      [
        saga.status,
        saga.compensation?.status,
        saga.compensation?.steps.map((s) => [s.name, s.status, s.attempts]),
      ],
      [
        'Failed',
        'Completed',
        [
          ['Charge', 'Succeeded', 1],
          ['Reserve', 'Succeeded', 2],
        ],
      ],
    );
    const forEach = await closing('v5/for-each');
    assert.deepEqual(forEach.steps.find((s) => s.name === 'Each')?.items, {
      total: 5,
      done: 5,
      failed: 0,
      running: 0,
    });
    const rerun = await closing('v5/rerun');
    assert.deepEqual(
      rerun.steps.map((s) => [s.name, s.decision?.outcome, s.reusedFrom?.runId === rerun.rerunOf?.runId]),
      [
        ['A', 'Reused', true],
        ['B', 'Run', false],
        ['C', 'Run', false],
      ],
    );
    const updates = eventsOf('v5/paused-resumed').filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    );
    assert.deepEqual(
      updates.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name),
      ['pause', 'resume'],
    );
    assert.ok(
      eventsOf('v5/cancelled').some((e) => e.activityTaskCanceledEventAttributes),
      'the stop waited for the step',
    );
  });

  it('replays every history on the current interpreter, with the interceptors production registers', async () => {
    // Histories recorded before the metrics and tracing interceptors (and the payload codec) existed replay with
    // them, tracing on or off: they issue no commands.
    const all = await histories();
    for (const tracing of [false, true]) {
      const errors = await replayAll(
        {
          workflowsPath: require.resolve('../../workflows/index'),
          // Compiled as production compiles it (ES2022, workers/orchestrator-worker.ts).
          bundlerOptions: { webpackConfigHook: workflowWebpackConfig },
          interceptors: { workflowModules: workflowInterceptorModules(tracing) },
          sinks: orchestratorSinks(undefined),
          // As production runs: with a payload codec (histories recorded before it existed pass through it unchanged).
          dataConverter: dataConverter(fixtureCodec),
        },
        all,
      );
      assert.deepEqual(
        [...errors]
          .filter(([, error]) => error !== undefined)
          .map(([name, error]) => `${name}: ${String(error)}`),
        [],
        `histories no longer replay (tracing ${tracing ? 'on' : 'off'}): the interpreter changed behaviour for existing runs (use patched())`,
      );
      assert.equal(errors.size, all.length);
    }
  });

  it('computes the correlation ID a scheduled run recorded, with tracing on and off', async () => {
    const recordedId = (history: Awaited<ReturnType<typeof histories>>[number]['history']) => {
      // Patches upsert TemporalChangeVersion too: find the upsert that set the correlation ID.
      const payload = history.events
        ?.map(
          (e) =>
            e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CorrelationId,
        )
        .find((field) => field);
      return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
    };
    const scheduled = (await histories()).filter((h) => recordedId(h.history) !== undefined);
    assert.deepEqual(
      scheduled.map((h) => h.name),
      [
        'v2/scheduled-local-load',
        'v3/scheduled-local-load',
        'v4/scheduled-local-load',
        'v5/scheduled-local-load',
        'v6/scheduled-local-load',
        'v7/scheduled-local-load',
        'v8/scheduled-local-load',
      ],
    );
    /** The IDs each replayed run gave itself, by history name. */
    const replayedIds = async (tracing: boolean) => {
      const seen = new Map<string, string[]>();
      const errors = await replayAll(
        {
          workflowsPath: require.resolve('../../workflows/index'),
          interceptors: {
            workflowModules: [
              ...workflowInterceptorModules(tracing),
              require.resolve('../fixtures/correlation-probe'),
            ],
          },
          sinks: {
            ...orchestratorSinks(undefined),
            correlationProbe: {
              seen: {
                fn: (info, id: string) =>
                  void seen.set(info.workflowId, [...(seen.get(info.workflowId) ?? []), id]),
                callDuringReplay: true,
              },
            },
          },
          dataConverter: dataConverter(fixtureCodec),
        },
        scheduled,
      );
      assert.deepEqual([...errors.values()].filter(Boolean), []);
      return seen;
    };
    const [untraced, traced] = [await replayedIds(false), await replayedIds(true)];
    for (const { name, history } of scheduled) {
      const recorded = recordedId(history)!;
      // Recorded without tracing: a replay without it draws the same uuid4 (before the patch) or run ID (after).
      assert.deepEqual(untraced.get(name), [recorded], name);
      if (!/^v[1-4]\//.test(name)) {
        // From patch correlation-id-from-run on, the ID is the run's own: tracing draws no longer shift it.
        assert.deepEqual(traced.get(name), [recorded], name);
        assert.equal(
          recorded,
          history.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId,
        );
      }
      // Before it, the tracing interceptor's span IDs come from the same random stream, so uuid4 draws another ID:
      // the fault the patch removes (and proof this check can tell the two apart).
      else assert.notDeepEqual(traced.get(name), [recorded], name);
    }
  });

  it('rejects a deliberately changed interpreter', async () => {
    const all = await histories();
    const errors = await replayAll(
      {
        workflowsPath: require.resolve('../fixtures/changed-interpreter'),
        dataConverter: dataConverter(fixtureCodec),
      },
      all,
    );
    assert.equal(errors.size, all.length);
    for (const [name, error] of errors)
      assert.ok(error instanceof DeterminismViolationError, `${name}: ${String(error)}`);
  });
});

/** Replays histories on one replay worker (far faster than one worker each); each one's error, by history name. */
async function replayAll(
  options: ReplayWorkerOptions,
  list: ReadonlyArray<{ name: string; history: Parameters<typeof Worker.runReplayHistory>[1] }>,
): Promise<Map<string, unknown>> {
  const errors = new Map<string, unknown>();
  for await (const result of Worker.runReplayHistories(
    options,
    list.map(({ name, history }) => ({ workflowId: name, history })),
  ))
    errors.set(result.workflowId, result.error);
  return errors;
}
