import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { error, json } from '../openapi-parts';
import { parseOrThrow } from '../validation';
import type { RouteSpec } from './route';

const base64 = z
  .string()
  .max(4 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'must be base64' });
const codecBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() }))
    .max(1000, { error: 'at most 1000 payloads per call' }),
});
type JsonPayload = z.infer<typeof codecBody>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
  ),
  data: data ? Buffer.from(data, 'base64') : new Uint8Array(),
});

const toJson = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
  ),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

const payloadsSchema = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string', contentEncoding: 'base64' } },
          data: { type: 'string', contentEncoding: 'base64' },
        },
      },
    },
  },
};

/**
 * `POST /codec/encode` and `/codec/decode`: Temporal's remote codec protocol (payloads as proto JSON, bytes in
 * base64), so the Temporal Web UI and CLI can show what our encrypted payloads hold. Viewer and up: decoding reveals
 * run data, exactly what the status routes already show a viewer.
 */
export function codecRoutes(codec: PayloadCodec): RouteSpec[] {
  const route = (verb: 'encode' | 'decode'): RouteSpec => ({
    method: 'post',
    path: `/codec/${verb}`,
    role: 'viewer',
    action: `Codec.${verb}`,
    trustsDevUi: true,
    // The Web UI decodes every payload it shows: reads, not writes.
    rateClass: 'read',
    doc: {
      tags: ['Codec'],
      summary: `${verb === 'decode' ? 'Decrypt' : 'Encrypt'} payloads (Temporal remote codec protocol, for the Web UI)`,
      parameters: [{ name: 'X-Namespace', in: 'header', schema: { type: 'string' } }],
      requestBody: { required: true, ...json(payloadsSchema) },
      responses: {
        200: { description: 'The payloads, in the same order', ...json(payloadsSchema) },
        400: error('Not a codec request'),
        500: error('A payload cannot be decrypted (PayloadUnreadable names its key)'),
      },
    },
    handler: async (req, res) => {
      const { payloads } = parseOrThrow(codecBody, req.body ?? {}, 'codec request');
      const input = payloads.map(fromJson);
      const output = verb === 'decode' ? await codec.decode(input) : await codec.encode(input);
      res.json({ payloads: output.map(toJson) });
    },
  });
  return [route('encode'), route('decode')];
}
