/**
 * A request body of known length whose bytes are produced afresh for each send: a sequence of
 * Buffers and file ranges, never one string of the whole body. `open()` starts over each time,
 * so a retried call (a new activity attempt, or a second try of the same client call) resends
 * the same bytes from the first.
 */
import { createReadStream } from 'node:fs';
import type { InferenceBaseRequest } from './schemas.js';

/** Where a file's bytes come from when it is not on this machine's disk (an S3 object). */
export interface FileSource {
  readonly bytes: number;
  /** Bytes from the first, each time anew. */
  read(): AsyncIterable<Buffer>;
}

export type BodyPart = Buffer | { path: string; bytes: number } | FileSource;

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
      else if ('read' in part) yield* exactly(part.bytes, part.read());
      // Exactly the bytes counted in `length`: a file that grew since is not sent past it.
      else if (part.bytes > 0) yield* createReadStream(part.path, { start: 0, end: part.bytes - 1 }) as AsyncIterable<Buffer>;
    }
  }
}

/** A source's first `bytes` bytes; one that ends sooner fails the send (the length was promised). */
async function* exactly(bytes: number, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let left = bytes;
  for await (const chunk of chunks) {
    if (left <= 0) break;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    yield part;
  }
  if (left > 0) throw new Error(`a file source ended ${left} bytes short of the ${bytes} announced`);
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
