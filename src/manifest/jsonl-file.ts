/** The plan's own files (`plan.jsonl`, `invalid.jsonl`): written in one pass, read back in pages. */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const FLUSH_AT_CHARS = 256 * 1024;

/** Appends one JSON value per line, buffered: a million tiny writes would dominate planning. */
export class JsonlWriter {
  readonly #handle: FileHandle;
  #buffer: string[] = [];
  #chars = 0;

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Creates (or truncates: a retried plan starts over) the file. */
  static async create(path: string): Promise<JsonlWriter> {
    return new JsonlWriter(await open(path, 'w'));
  }

  async write(value: unknown): Promise<void> {
    const line = `${JSON.stringify(value)}\n`;
    this.#buffer.push(line);
    this.#chars += line.length;
    if (this.#chars >= FLUSH_AT_CHARS) await this.#flush();
  }

  async close(): Promise<void> {
    try {
      await this.#flush();
    } finally {
      await this.#handle.close();
    }
  }

  async #flush(): Promise<void> {
    const text = this.#buffer.join('');
    this.#buffer = [];
    this.#chars = 0;
    if (text) await this.#handle.write(text);
  }
}

/** Lines [offset, offset + limit) of a JSONL file, parsed; reading stops once the page is full. */
export async function readJsonlPage<T>(path: string, offset: number, limit: number): Promise<T[]> {
  const page: T[] = [];
  if (limit <= 0) return page;
  const stream = createReadStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    let index = 0;
    for await (const line of lines) {
      if (line === '') continue;
      if (index++ < offset) continue;
      page.push(JSON.parse(line) as T);
      if (page.length >= limit) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return page;
}
