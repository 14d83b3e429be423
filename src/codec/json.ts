/**
 * Payloads as the Temporal UI and CLI send them to a codec server: proto3 JSON, bytes in base64,
 * `{"payloads": [{"metadata": {"encoding": "…"}, "data": "…"}]}`.
 */
import type { Payload } from '@temporalio/common';
import { z } from 'zod';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');

export const JsonPayloads = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).nullish(),
      data: base64.nullish(),
    }),
  ),
});
export type JsonPayloads = z.infer<typeof JsonPayloads>;

export function fromJson({ payloads }: JsonPayloads): Payload[] {
  return payloads.map(({ metadata, data }) => ({
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  }));
}

export function toJson(payloads: Payload[]): JsonPayloads {
  return {
    payloads: payloads.map(({ metadata, data }) => ({
      metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(data ?? []).toString('base64'),
    })),
  };
}
