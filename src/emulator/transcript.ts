/**
 * The text that language and ner predict over: a raw text read from disk as a stream, or a
 * fake transcript standing in for speech recognition on audio and video.
 *
 * Positions are character offsets counted in UTF-16 code units (JavaScript string indices), as
 * the in-memory tokeniser always did. A segment longer than HOLD_CHARS is never formed as one
 * string: it is a `TextSpan`, copied from the file in chunks when written (see `writeText`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Granularity } from './request.js';
import type { JsonOut } from './json-out.js';
import { TRANSCRIPT_WORDS } from './names.js';
import { createRandom } from './random.js';

export interface Interval { begin: number; end: number }
/** A long segment's text, left in the file: bytes [byteStart, byteEnd), and its first HOLD_CHARS. */
export interface TextSpan { path: string; byteStart: number; byteEnd: number; head: string }
export interface Segment { text: string | TextSpan; position: Interval; time?: Interval }

/** Segments come in batches (one per read chunk): an await per word would cost more than the word. */
export type Segments = AsyncIterable<readonly Segment[]>;

export interface Transcript {
  confidence: number;
  durationSec: number;
  words(): Segments;
  /** Segments at a granularity: words, sentences (utterance behaves like sentence), or the whole text. */
  segments(granularity: Granularity): Segments;
}

/** Segments up to this many UTF-16 units are held as strings; longer ones stay in the file. */
export const HOLD_CHARS = 64 * 1024;
/** Also bounds a batch of segments: one read chunk's worth (~13 000 words at most). */
const READ_CHUNK = 64 * 1024;

/** The start of a segment's text (all of it when held): what ner looks at. */
export const headOf = (text: Segment['text']): string => (typeof text === 'string' ? text : text.head);

/** Writes a segment's text as a JSON string, copying a span from its file chunk by chunk. */
export async function writeText(out: JsonOut, text: Segment['text']): Promise<void> {
  if (typeof text === 'string') return out.value(text);
  await out.write('"');
  if (text.byteEnd > text.byteStart) {
    const decoder = new StringDecoder('utf8');
    for await (const chunk of createReadStream(text.path, { start: text.byteStart, end: text.byteEnd - 1, highWaterMark: READ_CHUNK })) {
      await out.write(JSON.stringify(decoder.write(chunk as Buffer)).slice(1, -1));
    }
    await out.write(JSON.stringify(decoder.end()).slice(1, -1));
  }
  await out.write('"');
}

// ---------------------------------------------------------------------------------------------
// Raw text from a file
// ---------------------------------------------------------------------------------------------

export function fileTranscript(path: string): Transcript {
  const words = () => scan(path, 'word');
  return {
    confidence: 1,
    durationSec: 0,
    words,
    async *segments(granularity) {
      if (granularity === 'word') return yield* words();
      if (granularity !== 'conversational_turn') {
        let any = false;
        for await (const batch of scan(path, 'sentence')) {
          any = true;
          yield batch;
        }
        if (any) return;
      }
      yield [await wholeText(path)];
    },
  };
}

/** Same set as JavaScript's `\s` (WhiteSpace and LineTerminator). */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029
    || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
const isStop = (c: number): boolean => c === 46 || c === 33 || c === 63; // . ! ?
/** UTF-8 length of a code unit that is not half of a surrogate pair (all whitespace is BMP). */
const utf8Length = (c: number): number => (c < 0x80 ? 1 : c < 0x800 ? 2 : 3);

const OUTSIDE = 0;
const BODY = 1;
/** Sentences only: inside the run of `.!?` that ends a sentence. */
const STOPS = 2;

/**
 * Words are runs of non-space (`/\S+/g`). A sentence starts at a character that is neither space
 * nor `.!?`, runs to the next `.!?` and takes the whole run of them; trailing space is trimmed
 * (the in-memory tokeniser's `/[^.!?\s][^.!?]*[.!?]*` /g plus trimEnd). One pass, holding at most
 * one segment (as long as one read chunk) before it becomes a span.
 */
async function* scan(path: string, mode: 'word' | 'sentence'): AsyncGenerator<Segment[]> {
  const decoder = new StringDecoder('utf8');
  let pos = 0; // UTF-16 offset of str[0]
  let byteAt = 0; // byte offset of str[0]
  let state = OUTSIDE;
  let begin = 0;
  let held: string[] = [];
  let heldLength = 0;
  let span: { byteStart: number; head: string } | undefined;
  // Sentences: space at the end of the body so far, trimmed if the text ends there.
  let trail = 0;
  let trailBytes = 0;

  const finish = (str: string, i: number, trim: number, trimBytes: number): Segment => {
    const end = pos + i - trim;
    let text: Segment['text'];
    if (span) {
      const byteEnd = byteAt + Buffer.byteLength(str.slice(0, i)) - trimBytes;
      text = { path, byteStart: span.byteStart, byteEnd, head: span.head };
    } else {
      const whole = held.join('') + str.slice(Math.max(0, begin - pos), i);
      text = trim > 0 ? whole.slice(0, whole.length - trim) : whole;
    }
    held = [];
    heldLength = 0;
    span = undefined;
    state = OUTSIDE;
    return { text, position: { begin, end } };
  };

  const feed = (str: string, batch: Segment[] = []): Segment[] => {
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      if (state === OUTSIDE) {
        if (!isSpace(c) && (mode === 'word' || !isStop(c))) {
          state = BODY;
          begin = pos + i;
          trail = 0;
          trailBytes = 0;
        }
      } else if (mode === 'word') {
        if (isSpace(c)) batch.push(finish(str, i, 0, 0));
      } else if (state === BODY) {
        if (isStop(c)) state = STOPS;
        else if (isSpace(c)) {
          trail++;
          trailBytes += utf8Length(c);
        } else {
          trail = 0;
          trailBytes = 0;
        }
      } else if (!isStop(c)) {
        batch.push(finish(str, i, 0, 0));
        i--; // this character may start the next sentence
      }
    }
    if (state !== OUTSIDE && !span) {
      const part = str.slice(Math.max(0, begin - pos));
      held.push(part);
      heldLength += part.length;
      if (heldLength > HOLD_CHARS) {
        const text = held.join('');
        span = { byteStart: byteAt + Buffer.byteLength(str) - Buffer.byteLength(text), head: text.slice(0, HOLD_CHARS) };
        held = [];
      }
    }
    byteAt += Buffer.byteLength(str);
    pos += str.length;
    return batch;
  };

  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
    const batch = feed(decoder.write(chunk as Buffer));
    if (batch.length > 0) yield batch;
  }
  const last = feed(decoder.end());
  if (state === BODY && mode === 'sentence') last.push(finish('', 0, trail, trailBytes));
  else if (state !== OUTSIDE) last.push(finish('', 0, 0, 0));
  if (last.length > 0) yield last;
}

/** The whole text as one segment (conversational_turn, or a text with no sentence). */
async function wholeText(path: string): Promise<Segment> {
  const { size } = await stat(path);
  const decoder = new StringDecoder('utf8');
  let length = 0;
  let head = '';
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
    const str = decoder.write(chunk as Buffer);
    if (head.length < HOLD_CHARS + 1) head += str.slice(0, HOLD_CHARS + 1 - head.length);
    length += str.length;
  }
  const rest = decoder.end();
  head += rest.slice(0, Math.max(0, HOLD_CHARS + 1 - head.length));
  length += rest.length;
  const text = length <= HOLD_CHARS ? head : { path, byteStart: 0, byteEnd: size, head: head.slice(0, HOLD_CHARS) };
  return { text, position: { begin: 0, end: length } };
}

// ---------------------------------------------------------------------------------------------
// Fake transcript for audio and video
// ---------------------------------------------------------------------------------------------

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** A few deterministic sentences with word timings, standing in for speech recognition. */
export function fakeTranscript(contentKey: string, timed: boolean): Transcript {
  const rng = createRandom(`${contentKey}|transcript`);
  const count = rng.int(6, 16);
  const words: Segment[] = [];
  const sentences: Segment[] = [];
  let text = '';
  let clock = rng.between(0.1, 0.8);
  let sentenceStart = 0;
  let sentenceTime = clock;
  for (let i = 0; i < count; i++) {
    const word = TRANSCRIPT_WORDS[rng.int(0, TRANSCRIPT_WORDS.length - 1)] ?? 'hello';
    const last = i === count - 1 || rng.chance(0.2);
    const token = last ? `${word}.` : word;
    if (text) text += ' ';
    const begin = text.length;
    text += token;
    const time = { begin: round(clock), end: round(clock + rng.between(0.2, 0.6)) };
    clock = time.end + rng.between(0.05, 0.3);
    words.push({ text: token, position: { begin, end: text.length }, ...(timed ? { time } : {}) });
    if (last) {
      sentences.push({
        text: text.slice(sentenceStart),
        position: { begin: sentenceStart, end: text.length },
        ...(timed ? { time: { begin: round(sentenceTime), end: time.end } } : {}),
      });
      sentenceStart = text.length + 1;
      sentenceTime = clock;
    }
  }
  const durationSec = round(clock + 0.2);
  const whole: Segment = { text, position: { begin: 0, end: text.length }, ...(timed ? { time: { begin: 0, end: durationSec } } : {}) };
  const list = async function* (segments: Segment[]): AsyncGenerator<Segment[]> {
    yield segments;
  };
  return {
    confidence: round(rng.between(0.6, 0.99)),
    durationSec,
    words: () => list(words),
    segments: (granularity) => list(granularity === 'word' ? words : granularity === 'conversational_turn' ? [whole] : sentences),
  };
}
