/**
 * Parses a JSON body as it streams in, dropping the values at some paths without ever holding
 * them: Hume echoes every submitted text in job details and list pages (up to 100 × 255 MB per
 * job) and puts all predictions in its callbacks, none of which we read. `JSON.parse` would need
 * the whole body as one string, then the whole value.
 *
 * Strings arrive in chunks (the parser does not pack them), so a skipped string is discarded piece
 * by piece; every other string is packed here, counted against `maxChars`.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Assembler from 'stream-json/assembler.js';
import { replace } from 'stream-json/filters/replace.js';
import { parser, type Token } from 'stream-json/parser.js';

export interface StreamJsonOptions {
  /** Values whose path (keys and array indices joined by `.`) matches are dropped or replaced. */
  skip: RegExp;
  /** What a skipped value becomes: a string, say, to keep an array's length. @default removed */
  replacement?: string;
  /** Characters of keys and kept strings allowed, beyond which the parse fails. @default unlimited */
  maxChars?: number;
}

/** The body is not JSON, or kept more than `maxChars`. `tooLarge` tells which. */
export class JsonStreamError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'JsonStreamError';
  }
}

/**
 * The JSON value of `body`, without the skipped values. A failure of `body` itself (network,
 * abort) is rethrown as is; anything the parser refuses becomes a `JsonStreamError`.
 */
export async function parseJsonStream(body: AsyncIterable<Uint8Array>, options: StreamJsonOptions): Promise<unknown> {
  let bodyError: { error: unknown } | undefined;
  async function* source() {
    try {
      yield* body;
    } catch (error) {
      bodyError = { error };
      throw error;
    }
  }
  const assembler = new Assembler();
  const maxChars = options.maxChars ?? Number.POSITIVE_INFINITY;
  let chars = 0;
  let pieces: string[] | undefined;
  const consume = (token: Token) => {
    if (token.name === 'startString') pieces = [];
    else if (token.name === 'stringChunk' && pieces) {
      chars += token.value.length;
      pieces.push(token.value);
    } else if (token.name === 'endString') {
      assembler.consume({ name: 'stringValue', value: (pieces ?? []).join('') });
      pieces = undefined;
    } else {
      if (token.name === 'keyValue') chars += token.value.length;
      assembler.consume(token);
    }
    if (chars > maxChars) throw new JsonStreamError(`more than ${maxChars} characters outside the skipped values`, true);
  };
  try {
    await pipeline(
      source(),
      parser.asStream({ packStrings: false, streamStrings: true, packKeys: true, streamKeys: false, packNumbers: true, streamNumbers: false }),
      replace.asStream({
        filter: options.skip,
        ...(options.replacement !== undefined && { replacement: { name: 'stringValue', value: options.replacement } }),
      }),
      new Writable({
        objectMode: true,
        write(token: Token, _encoding, done) {
          try {
            consume(token);
            done();
          } catch (e) {
            done(e as Error);
          }
        },
      }),
    );
  } catch (e) {
    if (bodyError) throw bodyError.error;
    if (e instanceof JsonStreamError) throw e;
    throw new JsonStreamError('body is not JSON');
  }
  if (!assembler.done) throw new JsonStreamError('body is not JSON (empty or incomplete)');
  return assembler.current;
}
