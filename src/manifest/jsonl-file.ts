/** The plan's own files (`plan.jsonl`, `invalid.jsonl`): written in one pass, read back in pages. */
import type { AtomicWriter, ResultStore } from '../store/store.js';

const FLUSH_AT_CHARS = 256 * 1024;

/** Appends one JSON value per line, buffered: a million tiny writes would dominate planning. */
export class JsonlWriter {
  readonly #writer: AtomicWriter;
  #buffer: string[] = [];
  #chars = 0;

  private constructor(writer: AtomicWriter) {
    this.#writer = writer;
  }

  /** A new file, in place only once closed (a retried plan starts over). */
  static async create(store: ResultStore, path: string): Promise<JsonlWriter> {
    return new JsonlWriter(await store.createWriter(path));
  }

  async write(value: unknown): Promise<void> {
    const line = `${JSON.stringify(value)}\n`;
    this.#buffer.push(line);
    this.#chars += line.length;
    if (this.#chars >= FLUSH_AT_CHARS) await this.#flush();
  }

  /** Puts the file in place. */
  async close(): Promise<void> {
    try {
      await this.#flush();
      await this.#writer.commit();
    } catch (e) {
      await this.#writer.abort();
      throw e;
    }
  }

  /** Drops the file: nothing appears under its name. */
  async abort(): Promise<void> {
    await this.#writer.abort();
  }

  async #flush(): Promise<void> {
    const text = this.#buffer.join('');
    this.#buffer = [];
    this.#chars = 0;
    if (text) await this.#writer.write(text);
  }
}

/** Lines [offset, offset + limit) of a JSONL file, parsed; reading stops once the page is full. */
export async function readJsonlPage<T>(lines: AsyncIterable<string>, offset: number, limit: number): Promise<T[]> {
  const page: T[] = [];
  if (limit <= 0) return page;
  let index = 0;
  for await (const line of lines) {
    if (line === '') continue;
    if (index++ < offset) continue;
    page.push(JSON.parse(line) as T);
    if (page.length >= limit) break;
  }
  return page;
}
