/**
 * Reads a job's JSON (a request body or the multipart `json` part) as a token stream. Each
 * `text[i]` string goes straight to its own file as UTF-8, counted and hashed on the way, so a
 * 255 MB text never becomes a JS string; the rest of the body is assembled as usual, with `""`
 * standing in for each text so the shared schema still checks its shape.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import parser from 'stream-json/parser.js';
import { HashingWriter } from './job-files.js';
import type { ResolvedOptions } from './options.js';
import { ValidationError, type TextInput } from './request.js';

/** Strings other than texts (URLs, model settings, keys) are small; refuse absurd ones early. */
const MAX_OTHER_STRING_CHARS = 1024 * 1024;
/**
 * Texts up to this many characters are also kept in memory, so listing thousands of small jobs
 * reads no files; at most 100 × 4 KiB per job.
 */
const SHORT_TEXT_CHARS = 4096;

export interface JsonIntake {
  /** The body with texts as `""`; undefined when the stream held no JSON value. */
  value: unknown;
  texts: TextInput[];
}

type Token = parser.Token;
type TextLimits = Pick<ResolvedOptions['limits'], 'maxTextBytes' | 'maxTextsPerJob'>;
/** An object or array being assembled; `key` is the object key awaiting its value. */
interface Frame { value: Record<string, unknown> | unknown[]; key: string | null }

/** `what` names the source in errors: `the body` or `the json part`. */
export async function readJsonStream(
  source: Readable,
  what: string,
  dir: string,
  limits: TextLimits,
): Promise<JsonIntake> {
  const tokens = parser.asStream({ packKeys: false, packStrings: false, packNumbers: true, streamNumbers: false });
  source.on('error', (err) => tokens.destroy(err));
  source.pipe(tokens);
  const intake = new Intake(dir, limits);
  try {
    for await (const token of tokens as AsyncIterable<Token>) await intake.take(token);
  } catch (err) {
    intake.abort();
    // Stop parsing but read the rest of the body, so the client still gets its 400.
    source.unpipe(tokens);
    source.resume();
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`invalid request: ${what} is not valid JSON (${(err as Error).message})`);
  }
  return { value: intake.root, texts: intake.texts };
}

class Intake {
  root: unknown;
  texts: TextInput[] = [];
  readonly #stack: Frame[] = [];
  readonly #dir: string;
  readonly #limits: TextLimits;
  #files = 0;
  /** The string (or key) being read: a text file, or characters kept in memory. */
  #text: { writer: HashingWriter; index: number; short: string | undefined } | undefined;
  #chars: string[] = [];
  #charCount = 0;

  constructor(dir: string, limits: TextLimits) {
    this.#dir = dir;
    this.#limits = limits;
  }

  async take(token: Token): Promise<void> {
    switch (token.name) {
      case 'startObject': return this.#open({ value: {}, key: null });
      case 'startArray': return this.#open({ value: [], key: null });
      case 'endObject':
      case 'endArray': return this.#add(this.#stack.pop()?.value);
      case 'startKey':
      case 'startString': return this.#startString(token.name === 'startKey');
      case 'stringChunk': return this.#chunk(token.value);
      case 'endKey': {
        const frame = this.#stack.at(-1);
        if (frame) frame.key = this.#takeChars();
        return;
      }
      case 'endString': return this.#endString();
      case 'numberValue': return this.#add(Number(token.value));
      case 'nullValue':
      case 'trueValue':
      case 'falseValue': return this.#add(token.value);
      default: return;
    }
  }

  abort(): void {
    this.#text?.writer.abort();
  }

  #open(frame: Frame): void {
    // A new `text` array replaces an earlier one, as the last duplicate key wins in JSON.parse.
    if (Array.isArray(frame.value) && this.#stack.length === 1 && this.#atRootKey('text')) this.texts = [];
    this.#stack.push(frame);
  }

  #atRootKey(key: string): boolean {
    const root = this.#stack[0];
    return root !== undefined && !Array.isArray(root.value) && root.key === key;
  }

  /** True when the next value is an element of the root's `text` array. */
  #inTextArray(): boolean {
    return this.#stack.length === 2 && this.#atRootKey('text') && Array.isArray(this.#stack[1]?.value);
  }

  #add(value: unknown): void {
    const frame = this.#stack.at(-1);
    if (!frame) this.root = value;
    else if (Array.isArray(frame.value)) frame.value.push(value);
    else if (frame.key !== null) {
      // Own property even for `__proto__`, as JSON.parse does.
      Object.defineProperty(frame.value, frame.key, { value, writable: true, enumerable: true, configurable: true });
      frame.key = null;
    }
  }

  #startString(isKey: boolean): void {
    if (isKey || !this.#inTextArray()) return;
    const index = this.texts.length;
    if (index >= this.#limits.maxTextsPerJob) {
      throw new ValidationError(
        `too many text strings: more than ${this.#limits.maxTextsPerJob} (limit maxTextsPerJob = ${this.#limits.maxTextsPerJob} per job)`,
      );
    }
    const writer = new HashingWriter(join(this.#dir, `text-${this.#files++}.txt`), 'sha256');
    this.#text = { writer, index, short: '' };
  }

  async #chunk(value: string): Promise<void> {
    const text = this.#text;
    if (!text) {
      this.#charCount += value.length;
      if (this.#charCount > MAX_OTHER_STRING_CHARS) {
        throw new ValidationError(`invalid request: a string outside text[] is longer than ${MAX_OTHER_STRING_CHARS} characters`);
      }
      this.#chars.push(value);
      return;
    }
    if (text.short !== undefined) text.short = text.short.length + value.length <= SHORT_TEXT_CHARS ? text.short + value : undefined;
    // The parser never ends a chunk inside a surrogate pair (escaped or not), so each encodes alone.
    const bytes = Buffer.from(value, 'utf8');
    if (text.writer.bytes + bytes.length > this.#limits.maxTextBytes) {
      throw new ValidationError(
        `text[${text.index}] is larger than ${this.#limits.maxTextBytes} bytes (limit maxTextBytes = ${this.#limits.maxTextBytes} bytes, 255 MB)`,
      );
    }
    await text.writer.write(bytes);
  }

  async #endString(): Promise<void> {
    const text = this.#text;
    if (!text) return this.#add(this.#takeChars());
    this.#text = undefined;
    const stored = await text.writer.finish();
    this.texts.push({ path: stored.path, bytes: stored.bytes, sha256: stored.digest, ...(text.short === undefined ? {} : { short: text.short }) });
    this.#add('');
  }

  #takeChars(): string {
    const s = this.#chars.join('');
    this.#chars = [];
    this.#charCount = 0;
    return s;
  }
}
