import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AssignedEntity } from '../../domain/flow-types';
import { defineProcessor, NonRetryableError, type ProcessorDefinition } from '../sdk';
import { resolveInsideRoot } from './file-paths';

export interface FileConfiguration {
  /** Default: `write` when a Delivery is assigned, `read` when only an Address is. */
  mode?: 'read' | 'write';
  /** Indent written JSON (default false). */
  pretty?: boolean;
}

export interface FileProcessorOptions {
  /** Every path is resolved inside this directory (config `FILE_DATA_ROOT`). */
  dataRoot: string;
}

/** Output of a write: the path relative to the data root (with `/`), and the bytes written. */
export interface FileWriteOutput {
  path: string;
  bytes: number;
}

/** Temporal payloads are limited (2 MB by default); a bigger file could not be an output. */
const MAX_READ_BYTES = 2 * 1024 * 1024 - 64 * 1024;

function pick(
  assignments: AssignedEntity[],
  mode: FileConfiguration['mode'],
): { mode: 'read' | 'write'; entity: AssignedEntity } {
  const delivery = assignments.find((a) => a.kind === 'Delivery');
  const address = assignments.find((a) => a.kind === 'Address');
  const chosen = mode ?? (delivery && address ? undefined : delivery ? 'write' : 'read');
  if (!chosen)
    throw new NonRetryableError('file: both an Address and a Delivery are assigned; set configuration.mode', {
      type: 'InvalidConfiguration',
    });
  const entity = chosen === 'write' ? delivery : address;
  if (!entity)
    throw new NonRetryableError(
      `file: ${chosen === 'write' ? 'writing needs an assigned Delivery' : 'reading needs an assigned Address'}`,
      { type: 'MissingAssignment' },
    );
  return { mode: chosen, entity };
}

async function readJson(file: string, shown: string): Promise<unknown> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_READ_BYTES)
      throw new NonRetryableError(`file: ${shown} has ${size} bytes, more than ${MAX_READ_BYTES}`, {
        type: 'FileTooLarge',
      });
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new NonRetryableError(`file: ${shown} does not exist`, { type: 'FileNotFound' });
    if (code === 'EISDIR')
      throw new NonRetryableError(`file: ${shown} is a directory`, { type: 'FileNotFound' });
    throw error; // NonRetryableError above, or an I/O error worth retrying
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new NonRetryableError(`file: ${shown} is not valid JSON: ${(error as Error).message}`, {
      type: 'InvalidJson',
    });
  }
}

async function writeJson(file: string, value: unknown, pretty: boolean): Promise<number> {
  const text = `${JSON.stringify(value ?? null, null, pretty ? 2 : undefined)}\n`;
  // Write beside the target, then rename: readers never see half a file, and a symlink at the target is replaced,
  // not followed.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return Buffer.byteLength(text);
}

/**
 * `file@1.0.0` over a data root: writes `input` as JSON to the assigned Delivery's path (output `{ path, bytes }`),
 * or reads JSON from the assigned Address's path (output: the parsed JSON). A connection string is a path (relative
 * to the root) or a `file://` URL; anything that leaves the root — `..`, an absolute path elsewhere, a symlink out —
 * fails without retries (`PathOutsideDataRoot`).
 */
export function createFileProcessor(
  options: FileProcessorOptions,
): ProcessorDefinition<unknown, unknown, FileConfiguration> {
  return defineProcessor<unknown, unknown, FileConfiguration>({
    name: 'file',
    version: '1.0.0',
    description:
      'Writes the input as JSON to the assigned Delivery, or reads JSON from the assigned Address.',
    module: __filename,
    inputSchema: {},
    outputSchema: {},
    configurationSchema: {
      type: 'object',
      properties: { mode: { enum: ['read', 'write'] }, pretty: { type: 'boolean' } },
      additionalProperties: false,
    },
    defaults: { retryPolicy: { maximumAttempts: 5 }, timeouts: { startToCloseMs: 60_000 } },
    async run({ input, configuration, assignments, log }) {
      const { mode, entity } = pick(assignments, configuration.mode);
      const target = await resolveInsideRoot(options.dataRoot, entity.connectionString, mode);
      const shown = target.relative.split(path.sep).join('/');
      if (mode === 'read') return readJson(target.path, shown);
      const bytes = await writeJson(target.path, input, configuration.pretty ?? false);
      log.debug({ path: shown, bytes }, 'file written');
      return { path: shown, bytes } satisfies FileWriteOutput;
    },
  });
}
