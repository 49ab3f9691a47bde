/**
 * The data-plane benchmark's processor: emits `bytes` of fresh random text each time (so no two outputs share a
 * blob), and records how much data it received, to show each step got its predecessor's output resolved.
 */
import { randomBytes } from 'node:crypto';
import { defineProcessor } from '../activities/sdk';

export const BLOB = { name: 'bench-blob', version: '1.0.0' } as const;

export interface BlobOutput {
  /** Length of the `data` this step received from its predecessor (0 for the first step). */
  received: number;
  data: string;
}

/** The processor and the sizes it received, in the order its steps ran. */
export function blobProcessor(bytes: number) {
  const received: number[] = [];
  const definition = defineProcessor<unknown, BlobOutput>({
    name: BLOB.name,
    version: BLOB.version,
    description: `Benchmark processor: emits ${bytes} bytes of random text.`,
    module: __filename,
    inputSchema: {},
    outputSchema: {},
    run: ({ input }) => {
      const data = (input as Partial<BlobOutput> | undefined)?.data;
      received.push(typeof data === 'string' ? data.length : 0);
      return {
        received: received.at(-1)!,
        data: randomBytes(Math.ceil((bytes * 3) / 4))
          .toString('base64')
          .slice(0, bytes),
      };
    },
  });
  return { definition, received };
}
