import type { ProcessorDefinition } from '../sdk';
import { delayProcessor } from './delay';
import { createFileProcessor } from './file';
import { httpRequestProcessor } from './http-request';
import { transformProcessor } from './transform';

/** What the built-ins need from the process (from `Config`). */
export interface BuiltinProcessorEnvironment {
  /** The `file` processor's data root (`FILE_DATA_ROOT`). */
  fileDataRoot: string;
}

/** A built-in processor definition, made for an environment. */
export type BuiltinProcessorFactory = (environment: BuiltinProcessorEnvironment) => ProcessorDefinition;

/** The built-in processors (version 1.0.0) by name. */
export const BUILTIN_PROCESSORS = {
  transform: () => transformProcessor,
  'http-request': () => httpRequestProcessor,
  delay: () => delayProcessor,
  file: (environment) => createFileProcessor({ dataRoot: environment.fileDataRoot }),
} satisfies Record<string, BuiltinProcessorFactory>;

export type BuiltinProcessorName = keyof typeof BUILTIN_PROCESSORS;

export const BUILTIN_PROCESSOR_NAMES = Object.keys(BUILTIN_PROCESSORS) as BuiltinProcessorName[];

export function isBuiltinProcessorName(name: string): name is BuiltinProcessorName {
  return Object.hasOwn(BUILTIN_PROCESSORS, name);
}

/** Every built-in processor, made for an environment (e.g. for `npm run dev` to host them all). */
export function createBuiltinProcessors(environment: BuiltinProcessorEnvironment): ProcessorDefinition[] {
  return BUILTIN_PROCESSOR_NAMES.map((name) => BUILTIN_PROCESSORS[name](environment));
}

export { createFileProcessor, delayProcessor, httpRequestProcessor, transformProcessor };
