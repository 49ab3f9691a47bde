import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * The SHA-256 (hex) of a processor's implementation: the bytes of its `module` file, the file that defines it. Under
 * tsx that is the `.ts` source; in the compiled image it is the emitted `.js`, so environments sharing one database
 * must run the same artifact. Any edit to the file (code, schemas, even formatting) changes the hash.
 *
 * @throws Error when the file cannot be read.
 */
export async function computeImplementationHash(definition: { module: string }): Promise<string> {
  const bytes = await readFile(definition.module);
  return createHash('sha256').update(bytes).digest('hex');
}
