/**
 * A model served by the user's own HTTP server, in any language: one JSON POST per file, one
 * model output (Hume's shape, hume-batch-api.md §4) or `{error}` back. The contract is in
 * src/emulator/README.md, "Model backends". Every failure (timeout, refused connection, 5xx after
 * retries, a 4xx, a malformed answer) becomes that file's error: a job never hangs or fails on it.
 */
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { z } from 'zod';
import type { ModelName } from '../../hume/schemas.js';
import { TransferSlots } from '../../hume/transfer-slots.js';
import type { BackendInfo, BackendResult, BackendSource, ModelBackend } from './backend.js';
import { checkOutput } from './output.js';

export const HTTP_BACKEND_DEFAULTS = {
  /** One attempt's deadline, ms: answer headers and body. */
  timeoutMs: 60_000,
  /** Extra attempts after a timeout, a network error, a 429 or a 5xx (a 4xx is not retried). */
  retries: 3,
  /** First retry delay, ms; doubles each attempt. */
  backoffMs: 500,
  /** Files larger than this are not sent (their base64 travels in one JSON body): a per-file error. */
  maxFileBytes: 32 * 1024 * 1024,
  /** Answers larger than this are refused (an answer is held in memory, parsed, then written). */
  maxAnswerBytes: 32 * 1024 * 1024,
  /** Requests to the model server at once, over every job; the others wait their turn (outside the deadline). */
  concurrency: 4,
};

/** Timers take at most a signed 32-bit number of ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Backoff between retries never grows past a minute. */
const MAX_BACKOFF_MS = 60_000;

export const HttpBackendOptionsSchema = z.strictObject({
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).default(HTTP_BACKEND_DEFAULTS.timeoutMs),
  retries: z.number().int().min(0).max(20).default(HTTP_BACKEND_DEFAULTS.retries),
  backoffMs: z.number().int().min(0).max(MAX_BACKOFF_MS).default(HTTP_BACKEND_DEFAULTS.backoffMs),
  concurrency: z.number().int().min(1).max(1_000).default(HTTP_BACKEND_DEFAULTS.concurrency),
  maxFileBytes: z.number().int().positive().default(HTTP_BACKEND_DEFAULTS.maxFileBytes),
  maxAnswerBytes: z.number().int().positive().default(HTTP_BACKEND_DEFAULTS.maxAnswerBytes),
});
export type HttpBackendOptions = z.output<typeof HttpBackendOptionsSchema>;

/** What the model server receives: one file, the model's config, and the content. */
export interface HttpPredictRequest {
  model: ModelName;
  file: string;
  kind: BackendSource['kind'];
  content_type: string | null;
  config: Record<string, unknown>;
  /** A text's content, UTF-8 decoded. */
  text?: string;
  /** An image, audio or video file's bytes. */
  data_base64?: string;
}

const ErrorAnswer = z.object({ error: z.string() });

/** A URL as shown in the info and in errors: no user, password, query or fragment (they may hold tokens). */
function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** A URL's user or password as meant; a malformed escape is taken as written. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function createHttpBackend(model: ModelName, url: string, options: HttpBackendOptions): ModelBackend {
  const target = new URL(url);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (target.username || target.password) {
    headers.authorization = `Basic ${Buffer.from(`${decoded(target.username)}:${decoded(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const shown = displayUrl(url);
  // Requests at once to this server, whatever the number of jobs: a model server has its own limits.
  const slots = new TransferSlots(options.concurrency);
  // Own pool, closed with the emulator; a redirect is not followed (a model server answers itself).
  const agent = new Agent({ keepAliveTimeout: 1_000, maxResponseSize: options.maxAnswerBytes });
  const failed = (why: string): BackendResult => ({ error: `${model} model server ${shown}: ${why}` });

  /** One POST; `retry` holds the cause when another attempt may succeed. */
  async function attempt(body: string, signal: AbortSignal): Promise<BackendResult | { retry: string }> {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await request(target, { method: 'POST', headers, body, dispatcher: agent, signal: AbortSignal.any([signal, deadline]) });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal.aborted) throw err; // the emulator is closing
      if (deadline.aborted) return { retry: `no answer within ${options.timeoutMs} ms` };
      const code = (err as { code?: string }).code;
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return failed(`answer larger than ${options.maxAnswerBytes} bytes`);
      return { retry: `connection failed (${code ?? (err as Error).message})` };
    }
    if (status === 429 || status >= 500) return { retry: `answered ${status}${detail(text)}` };
    if (status < 200 || status >= 300) return failed(`answered ${status}${detail(text)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return failed(`answered invalid JSON (${(err as Error).message})`);
    }
    const refused = ErrorAnswer.safeParse(json);
    if (refused.success) return failed(refused.data.error);
    const checked = checkOutput(model, json);
    return 'problem' in checked ? failed(`answered a malformed prediction (${checked.problem})`) : checked;
  }

  return {
    info: (): BackendInfo => ({ model, backend: shown, real: true, note: 'HTTP model server (src/emulator/README.md, "Model backends")' }),

    async predict(source, config, signal) {
      if (source.path === undefined) return failed(`no bytes to send for ${source.file} (a URL the emulator does not fetch; see fetchUrls)`);
      let content: Buffer;
      try {
        const size = (await stat(source.path)).size;
        if (size > options.maxFileBytes) return failed(`${source.file} is ${size} bytes, over the ${options.maxFileBytes}-byte limit for model servers`);
        content = await readFile(source.path);
      } catch (err) {
        return failed(`cannot read ${source.file} (${(err as NodeJS.ErrnoException).code ?? 'read failed'})`);
      }
      const payload: HttpPredictRequest = {
        model,
        file: source.file,
        kind: source.kind,
        content_type: source.contentType ?? null,
        config,
        ...(source.kind === 'text' ? { text: content.toString('utf8') } : { data_base64: content.toString('base64') }),
      };
      const body = JSON.stringify(payload);
      for (let n = 0; ; n++) {
        const release = await slots.acquire(signal);
        let result: Awaited<ReturnType<typeof attempt>>;
        try {
          result = await attempt(body, signal);
        } finally {
          release();
        }
        if (!('retry' in result)) return result;
        if (n >= options.retries) return failed(`${result.retry} (${n + 1} attempt${n === 0 ? '' : 's'})`);
        await sleep(Math.min(options.backoffMs * 2 ** n, MAX_BACKOFF_MS), undefined, { signal });
      }
    },

    close: () => agent.close(),
  };
}

/** A short, one-line excerpt of an error answer: its `error`/`message` field, else its text. */
function detail(text: string): string {
  let said = text;
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown };
    const field = json.error ?? json.message;
    if (typeof field === 'string') said = field;
  } catch {
    // not JSON: the text itself
  }
  const line = said.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line ? `: ${line}` : '';
}
