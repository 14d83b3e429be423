/**
 * Reads a job's predictions.json as a token stream (stream-json), a grouped prediction at a time:
 * a job's file may run to gigabytes and one text source to millions of word predictions, so no
 * source, file or group is ever held whole. Only the small parts are assembled into objects: a
 * source's `source`, each per-file error, and each innermost prediction.
 *
 * Hume writes each object's keys in its schema's order (`source` before `results`, `file` before
 * `models`, `id` before `predictions`), and rows are keyed as they stream, so a file in another
 * order is refused with the source named rather than buffered.
 */
import { Assembler } from 'stream-json/core/assembler.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import type { z } from 'zod';
import { MODEL_NAMES, type ModelName, PerFileError, Source } from '../hume/schemas.js';
import type { StoredFile } from '../store/storage.js';
import { parseRecord } from './records.js';

/** Predictions that are not what Hume documents: fetching the same bytes again would fail the same way. */
export class InvalidPredictionsError extends Error {
  override readonly name = 'InvalidPredictionsError';
}

/** One part of the predictions, validated; a mismatch is the predictions' fault. */
export function parsePart<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  try {
    return parseRecord(schema, value, where);
  } catch (err) {
    throw new InvalidPredictionsError((err as Error).message);
  }
}

/** What one source came back with, once its object has ended. */
export interface SourceEnd {
  index: number;
  /** The whole source failed (for example a URL Hume could not download). */
  error?: string;
  /** `results` was there (possibly with no predictions). */
  hasResults: boolean;
  /** Files predicted (`results.predictions` entries). */
  files: number;
  /** Per-file errors (`results.errors` entries). */
  errors: number;
  firstError?: string;
}

export interface PredictionVisitor {
  source(index: number, source: Source): void | Promise<void>;
  /** A file of the current source that Hume predicted for (its `results.predictions[].file`). */
  file(name: string): void | Promise<void>;
  /** One innermost prediction of `model` for `file` of the current source, in group `groupId`. */
  prediction(model: ModelName, file: string, groupId: string, prediction: unknown): void | Promise<void>;
  fileError(error: z.infer<typeof PerFileError>): void | Promise<void>;
  sourceEnd(end: SourceEnd): void | Promise<void>;
}

/** Nesting levels of predictions.json that are walked, not assembled. */
const enum Level {
  Sources, Source, Results, Errors, Files, File, Models, Model, Groups, Group, Predictions,
}

const ARRAYS = new Set([Level.Sources, Level.Errors, Level.Files, Level.Groups, Level.Predictions]);

interface Frame {
  level: Level;
  key: string | null;
}

const MODELS = new Set<string>(MODEL_NAMES);
/** Read-block size: each block becomes one array of tokens, so small blocks keep memory low (as fast as 1 MB ones). */
const READ_BLOCK = 1 << 16;

/** Streams a predictions file to `visitor`, source by source, prediction by prediction. */
export async function streamPredictions(file: StoredFile, visitor: PredictionVisitor, signal?: AbortSignal): Promise<void> {
  const path = file.location;
  const reader = new PredictionsReader(path, visitor);
  const parse = jsonParser({ packValues: true, streamValues: false });
  let read = 0;
  // The tokenizer's own errors name no place: say which file, and about where.
  const tokens = (chunk: unknown) => {
    try {
      return (parse as (chunk: unknown) => ReturnType<typeof parse>)(chunk);
    } catch (e) {
      throw new InvalidPredictionsError(`${path}: not valid JSON near character ${read} (${(e as Error).message})`);
    }
  };
  // Decoded as a stream: a character split between two chunks is joined, not garbled.
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of file.read()) {
    signal?.throwIfAborted();
    for (let at = 0; at < chunk.length; at += READ_BLOCK) {
      const text = decoder.decode(chunk.subarray(at, at + READ_BLOCK), { stream: true });
      read += text.length;
      await reader.consume(tokens(text));
    }
  }
  const tail = decoder.decode();
  if (tail) await reader.consume(tokens(tail));
  // A flushable stage is flushed by calling it with `none`.
  await reader.consume(tokens(none));
  reader.finish();
}

type Deliver = (value: unknown) => void | Promise<void>;

class PredictionsReader {
  readonly #where: string;
  readonly #visitor: PredictionVisitor;
  readonly #stack: Frame[] = [];
  /** Collects a subtree to hand to `#deliver`. */
  #assembler: Assembler | undefined;
  #deliver: Deliver | undefined;
  /** Depth of a subtree being skipped. */
  #skipping = 0;
  #started = false;

  #sourceIndex = -1;
  #sourceSeen = false;
  #end: SourceEnd = { index: -1, hasResults: false, files: 0, errors: 0 };
  #file: string | undefined;
  #model: ModelName | undefined;
  #groupId: string | undefined;

  constructor(path: string, visitor: PredictionVisitor) {
    this.#where = path;
    this.#visitor = visitor;
  }

  async consume(out: ReturnType<ReturnType<typeof jsonParser>>): Promise<void> {
    if (out === none) return;
    const tokens = isMany(out) ? (getManyValues(out) as Token[]) : [out as Token];
    for (const token of tokens) {
      const delivered = this.#token(token);
      if (delivered) await delivered;
    }
  }

  finish(): void {
    if (!this.#started || this.#stack.length > 0) throw new InvalidPredictionsError(`${this.#where}: predictions end before the top-level array closes`);
  }

  #token(token: Token): void | Promise<void> {
    if (this.#assembler) {
      const asm = this.#assembler as unknown as Record<string, (value: unknown) => void>;
      asm[token.name]?.call(this.#assembler, (token as { value?: unknown }).value);
      if (!this.#assembler.done) return;
      const value = this.#assembler.current;
      this.#assembler = undefined;
      return this.#deliver!(value);
    }
    if (this.#skipping > 0) {
      if (token.name === 'startObject' || token.name === 'startArray') this.#skipping++;
      else if (token.name === 'endObject' || token.name === 'endArray') this.#skipping--;
      return;
    }
    if (token.name === 'keyValue') {
      this.#stack.at(-1)!.key = token.value;
      return;
    }
    if (token.name === 'endObject' || token.name === 'endArray') return this.#close();
    return this.#value(token);
  }

  /** A value starts in the current container: walk into it, assemble it, or skip it. */
  #value(token: Token): void | Promise<void> {
    const frame = this.#stack.at(-1);
    if (!frame) {
      if (token.name !== 'startArray' || this.#started) throw new InvalidPredictionsError(`${this.#where}: predictions are not one JSON array`);
      this.#started = true;
      return this.#enter(token, Level.Sources);
    }
    const { level, key } = frame;
    switch (level) {
      case Level.Sources:
        if (token.name !== 'startObject') throw new InvalidPredictionsError(`${this.#where}: source ${this.#sourceIndex + 1} is not an object`);
        this.#sourceIndex++;
        this.#sourceSeen = false;
        this.#end = { index: this.#sourceIndex, hasResults: false, files: 0, errors: 0 };
        return this.#enter(token, Level.Source);
      case Level.Source:
        if (key === 'source') return this.#assemble(token, (value) => this.#source(value));
        if (key === 'error') return this.#assemble(token, (value) => {
          if (typeof value === 'string') this.#end.error = value;
        });
        if (key === 'results') {
          if (token.name !== 'startObject') return this.#skip(token);
          this.#needSource('results');
          this.#end.hasResults = true;
          return this.#enter(token, Level.Results);
        }
        return this.#skip(token);
      case Level.Results:
        if (key === 'predictions') return this.#enter(token, Level.Files);
        if (key === 'errors') return this.#enter(token, Level.Errors);
        return this.#skip(token);
      case Level.Errors:
        return this.#assemble(token, (value) => this.#fileError(value));
      case Level.Files:
        this.#end.files++;
        this.#file = undefined;
        return this.#enter(token, Level.File);
      case Level.File:
        if (key === 'file') return this.#assemble(token, (value) => {
          if (typeof value !== 'string') return;
          this.#file = value;
          return this.#visitor.file(value);
        });
        if (key === 'models') return this.#enter(token, Level.Models);
        return this.#skip(token);
      case Level.Models:
        if (key !== null && MODELS.has(key)) {
          this.#model = key as ModelName;
          return this.#enter(token, Level.Model);
        }
        return this.#skip(token);
      case Level.Model:
        if (key === 'grouped_predictions') return this.#enter(token, Level.Groups);
        return this.#skip(token);
      case Level.Groups:
        this.#groupId = undefined;
        return this.#enter(token, Level.Group);
      case Level.Group:
        if (key === 'id') return this.#assemble(token, (value) => {
          this.#groupId = String(value);
        });
        if (key === 'predictions') return this.#enter(token, Level.Predictions);
        return this.#skip(token);
      case Level.Predictions:
        return this.#assemble(token, (value) => this.#prediction(value));
    }
  }

  /** Walks into a container; a value of another shape there (a null, say) is skipped. */
  #enter(token: Token, level: Level): void {
    if (token.name !== (ARRAYS.has(level) ? 'startArray' : 'startObject')) return this.#skip(token);
    this.#stack.push({ level, key: null });
  }

  #assemble(token: Token, deliver: Deliver): void | Promise<void> {
    if (token.name === 'startObject' || token.name === 'startArray') {
      this.#assembler = new Assembler();
      this.#deliver = deliver;
      (this.#assembler as unknown as Record<string, () => void>)[token.name]!.call(this.#assembler);
      return;
    }
    return deliver((token as { value?: unknown }).value);
  }

  #skip(token: Token): void {
    if (token.name === 'startObject' || token.name === 'startArray') this.#skipping = 1;
  }

  #close(): void | Promise<void> {
    const frame = this.#stack.pop();
    if (frame?.level === Level.Source) {
      if (!this.#sourceSeen) throw new InvalidPredictionsError(`${this.#where}: source ${this.#sourceIndex} has no "source"`);
      return this.#visitor.sourceEnd(this.#end);
    }
  }

  #source(value: unknown): void | Promise<void> {
    this.#sourceSeen = true;
    return this.#visitor.source(this.#sourceIndex, parsePart(Source, value, `${this.#where} source ${this.#sourceIndex}`));
  }

  #needSource(field: string): void {
    if (!this.#sourceSeen) throw new InvalidPredictionsError(`${this.#where}: source ${this.#sourceIndex}: "source" must come before "${field}"`);
  }

  #fileError(value: unknown): void | Promise<void> {
    const error = parsePart(PerFileError, value, `${this.#where} source ${this.#sourceIndex} error ${this.#end.errors}`);
    this.#end.errors++;
    this.#end.firstError ??= error.message;
    return this.#visitor.fileError(error);
  }

  #prediction(value: unknown): void | Promise<void> {
    if (this.#file === undefined) throw new InvalidPredictionsError(`${this.#where}: source ${this.#sourceIndex}: "file" must come before "models"`);
    if (this.#groupId === undefined) throw new InvalidPredictionsError(`${this.#where}: source ${this.#sourceIndex}: a group's "id" must come before its "predictions"`);
    return this.#visitor.prediction(this.#model!, this.#file, this.#groupId, value);
  }
}
