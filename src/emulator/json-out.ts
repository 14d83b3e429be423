/**
 * JSON text written to a stream in chunks, with backpressure: small writes are gathered into
 * ~64 KiB chunks, and a chunk the stream cannot take yet waits for `drain`, so memory stays flat
 * however much is written.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

const CHUNK_CHARS = 64 * 1024;

export class JsonOut {
  readonly #stream: Writable;
  readonly #signal: AbortSignal | undefined;
  #parts: string[] = [];
  #pending = 0;
  #bytes = 0;

  constructor(stream: Writable, signal?: AbortSignal) {
    this.#stream = stream;
    this.#signal = signal;
  }

  /** Bytes handed to the stream so far. */
  get bytes(): number {
    return this.#bytes;
  }

  async write(text: string): Promise<void> {
    this.#parts.push(text);
    this.#pending += text.length;
    if (this.#pending >= CHUNK_CHARS) await this.flush();
  }

  value(value: unknown): Promise<void> {
    return this.write(JSON.stringify(value));
  }

  async flush(): Promise<void> {
    this.#signal?.throwIfAborted();
    if (this.#pending === 0) return;
    const chunk = Buffer.from(this.#parts.join(''), 'utf8');
    this.#parts = [];
    this.#pending = 0;
    this.#bytes += chunk.length;
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain', this.#signal ? { signal: this.#signal } : {});
  }
}
