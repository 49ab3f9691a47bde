import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { AssignedEntity } from '../../domain/flow-types';
import {
  activityEnvironment,
  applicationFailure as failure,
} from '../../test/processors/activity-environment';
import { invocation } from '../../test/processors/invocation';
import { createProcessorActivity, type ProcessorActivity } from '../sdk';
import { createFileProcessor } from './file';

function entity(kind: AssignedEntity['kind'], connectionString: string): AssignedEntity {
  return {
    id: `${kind}-${connectionString}`,
    kind,
    version: '1',
    name: kind,
    connectionString,
    configuration: {},
    schemaId: null,
  };
}

describe('file processor', () => {
  let scratch: string;
  let root: string;
  let outside: string;
  let file: ProcessorActivity;

  const write = (connectionString: string, input: unknown, configuration = {}) =>
    activityEnvironment().run(
      file,
      invocation({ input, configuration, assignments: [entity('Delivery', connectionString)] }),
    );
  const read = (connectionString: string) =>
    activityEnvironment().run(file, invocation({ assignments: [entity('Address', connectionString)] }));

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'file-processor-'));
    root = path.join(scratch, 'root');
    outside = path.join(scratch, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'secret.json'), '{"secret":true}');
    file = createProcessorActivity(createFileProcessor({ dataRoot: root }), {
      logger: pino({ level: 'silent' }),
    });
  });

  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('writes the input as JSON to the Delivery path, creating directories', async () => {
    const output = await write('orders/2024/a.json', { id: 1, name: 'ada' });
    const text = await readFile(path.join(root, 'orders/2024/a.json'), 'utf8');
    assert.deepEqual(JSON.parse(text), { id: 1, name: 'ada' });
    assert.deepEqual(output, { path: 'orders/2024/a.json', bytes: Buffer.byteLength(text) });
  });

  test('reads JSON back from the Address path, also as a file:// URL or an absolute path inside the root', async () => {
    await write('round/trip.json', { list: [1, 2, 3] }, { pretty: true });
    assert.deepEqual(await read('round/trip.json'), { list: [1, 2, 3] });
    assert.deepEqual(await read(pathToFileURL(path.join(root, 'round/trip.json')).href), { list: [1, 2, 3] });
    assert.deepEqual(await read(path.join(root, 'round', '..', 'round', 'trip.json')), { list: [1, 2, 3] });
  });

  test('overwrites an existing file', async () => {
    await write('over.json', 1);
    await write('over.json', { second: true });
    assert.deepEqual(await read('over.json'), { second: true });
  });

  test('rejects paths that escape the root, without retries', async () => {
    const escapes = [
      '../outside/secret.json',
      'a/../../outside/secret.json',
      path.join(outside, 'secret.json'),
      pathToFileURL(path.join(outside, 'secret.json')).href,
      '/etc/passwd',
    ];
    for (const connectionString of escapes) {
      for (const attempt of [read(connectionString), write(connectionString, { x: 1 })]) {
        const error = await failure(attempt);
        assert.equal(error.type, 'PathOutsideDataRoot', `${connectionString}: ${error.message}`);
        assert.equal(error.nonRetryable, true);
      }
    }
    assert.equal(await readFile(path.join(outside, 'secret.json'), 'utf8'), '{"secret":true}');
  });

  test('rejects symlinks that lead out of the root, for reads and writes', async () => {
    await mkdir(root, { recursive: true });
    await symlink(outside, path.join(root, 'link-dir'));
    await symlink(path.join(outside, 'secret.json'), path.join(root, 'link-file.json'));
    // One at a time: started together, an attempt that fails before the loop awaits it is an unhandled rejection,
    // which fails the test whatever it asserts.
    for (const attempt of [
      () => read('link-dir/secret.json'),
      () => read('link-file.json'),
      () => write('link-dir/new.json', { x: 1 }),
      () => write('link-dir/nested/new.json', { x: 1 }),
    ]) {
      const error = await failure(attempt());
      assert.equal(error.type, 'PathOutsideDataRoot', error.message);
    }
    await assert.rejects(readFile(path.join(outside, 'new.json')));
    await assert.rejects(readFile(path.join(outside, 'nested', 'new.json')));

    // Writing to a symlinked file replaces the link inside the root; the target outside stays untouched.
    await write('link-file.json', { replaced: true });
    assert.deepEqual(await read('link-file.json'), { replaced: true });
    assert.equal(await readFile(path.join(outside, 'secret.json'), 'utf8'), '{"secret":true}');
  });

  test('a symlink inside the root to somewhere inside the root is fine', async () => {
    await write('real/data.json', { ok: true });
    await symlink(path.join(root, 'real'), path.join(root, 'alias'));
    assert.deepEqual(await read('alias/data.json'), { ok: true });
  });

  test('reading before the data root exists is a missing file, not a path outside the root', async () => {
    const fresh = createProcessorActivity(
      createFileProcessor({ dataRoot: path.join(scratch, 'not-yet', 'root') }),
      {
        logger: pino({ level: 'silent' }),
      },
    );
    const result = activityEnvironment().run(
      fresh,
      invocation({ assignments: [entity('Address', 'partner/confirmation.json')] }),
    );
    const error = await failure(result);
    assert.equal(error.type, 'FileNotFound');
    assert.match(error.message, /"partner\/confirmation.json" does not exist/);
  });

  test('missing files, invalid JSON and unclear assignments fail without retries', async () => {
    assert.equal((await failure(read('missing.json'))).type, 'FileNotFound');
    await writeFile(path.join(root, 'broken.json'), '{ nope');
    assert.equal((await failure(read('broken.json'))).type, 'InvalidJson');
    const both = activityEnvironment().run(
      file,
      invocation({ assignments: [entity('Address', 'a.json'), entity('Delivery', 'b.json')] }),
    );
    assert.equal((await failure(both)).type, 'InvalidConfiguration');
    assert.equal((await failure(activityEnvironment().run(file, invocation()))).type, 'MissingAssignment');
    const notFile = activityEnvironment().run(
      file,
      invocation({ assignments: [entity('Address', 'https://example.com/x')] }),
    );
    assert.equal((await failure(notFile)).type, 'InvalidConfiguration');
  });

  test('with both assigned, configuration.mode picks the side', async () => {
    await write('both.json', { from: 'address' });
    const output = await activityEnvironment().run(
      file,
      invocation({
        configuration: { mode: 'read' },
        assignments: [entity('Delivery', 'elsewhere.json'), entity('Address', 'both.json')],
      }),
    );
    assert.deepEqual(output, { from: 'address' });
  });
});
