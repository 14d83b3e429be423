/**
 * A request body of known length whose bytes are produced afresh for each send: a sequence of
 * Buffers and file ranges, never one string of the whole body. `open()` starts over each time,
 * so a retried call (a new activity attempt, or a second try of the same client call) resends
 * the same bytes from the first.
 */
import { createReadStream } from 'node:fs';
import type { InferenceBaseRequest } from './schemas.js';

export type BodyPart = Buffer | { path: string; bytes: number };

export class RequestBody {
  readonly length: number;

  constructor(
    readonly contentType: string,
    readonly parts: readonly BodyPart[],
  ) {
    this.length = parts.reduce((sum, part) => sum + (Buffer.isBuffer(part) ? part.length : part.bytes), 0);
  }

  /** The body's bytes, from the first; files are read as they are sent. */
  async *open(): AsyncGenerator<Buffer> {
    for (const part of this.parts) {
      if (Buffer.isBuffer(part)) yield part;
      // Exactly the bytes counted in `length`: a file that grew since is not sent past it.
      else if (part.bytes > 0) yield* createReadStream(part.path, { start: 0, end: part.bytes - 1 }) as AsyncIterable<Buffer>;
    }
  }
}

/**
 * The JSON body of a job request. Each text is serialized on its own, so a job of 100 texts of
 * 255 MB never becomes a 25 GB string (past V8's string limit long before that).
 */
export function jsonRequestBody(request: InferenceBaseRequest): RequestBody {
  const { text, ...rest } = request;
  if (text == null) return new RequestBody('application/json', [Buffer.from(JSON.stringify(request))]);
  const head = JSON.stringify(rest);
  const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"text":[`)];
  text.forEach((t, i) => parts.push(Buffer.from(`${i === 0 ? '' : ','}${JSON.stringify(t)}`)));
  parts.push(Buffer.from(']}'));
  return new RequestBody('application/json', parts);
}
