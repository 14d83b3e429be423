/**
 * The webhook receiver: turns Hume's completion callbacks into `jobFinished` signals.
 * A callback is accepted (2xx) only once Temporal has taken the signal, so Hume retries otherwise.
 * Error bodies are generic on purpose: nothing about our internals reaches the caller.
 *
 * Hume's callback carries all of the job's predictions, gigabytes for a large job, and we read
 * only `job_id` and `status` (the workflow downloads the predictions itself). So the body is
 * parsed as it streams in, and `predictions` is cut out by a byte scan before the parser sees it,
 * whatever its size.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { pipeline } from 'node:stream';
import { dropTopLevelValue } from '../hume/json-skip.js';
import { JsonStreamError, parseJsonStream } from '../hume/json-stream.js';
import { CallbackBody } from '../hume/schemas.js';
import { jobFinishedSignal } from '../workflows/definitions.js';
import { CALLBACK_PATH, verifyWorkflowToken } from './token.js';

export interface ReceiverOptions {
  /** Temporal client used to signal workflows. */
  client: Client;
  /** Accepted signing secrets, current first (two during a rotation). */
  secrets: readonly string[];
  /**
   * Most characters of a callback body outside `predictions` (keys and strings), which is not
   * limited: it is discarded as it streams in. @default 1 MiB
   */
  bodyLimit?: number;
  /** Fastify logger options. @default false */
  logger?: FastifyServerOptions['logger'];
  /** Told the status of every answer to a callback (metrics): 200 accepted, anything else rejected. */
  onCallback?: (status: number) => void;
}

export interface ListenOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
}

export interface RunningReceiver {
  /** Base URL the receiver listens on, e.g. `http://127.0.0.1:41234`: the actual port, also when asked for port 0. */
  readonly url: string;
  /** The port it listens on (a free one when asked for 0). */
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** `job_id`, `status` and a message fit in far less; a body made of anything else is refused. */
const DEFAULT_BODY_LIMIT = 1024 * 1024;
const PREDICTIONS = 'predictions';

interface CallbackRoute {
  Params: { workflowId: string };
  Querystring: { token?: string };
  Body: unknown;
}

export function buildReceiver(options: ReceiverOptions): FastifyInstance {
  if (options.secrets.length === 0 || options.secrets.some((s) => s.length < 16)) {
    throw new TypeError('ReceiverOptions.secrets: at least one secret of 16 or more characters is required');
  }
  const maxChars = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: maxChars, return503OnClosing: true });

  // Fastify's JSON parser buffers the whole body first; this one never holds the predictions.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', async (_request: unknown, payload: NodeJS.ReadableStream) => {
    // A failure of the request stream reaches the parser through the filter, as its own error.
    const body = pipeline(payload, dropTopLevelValue(PREDICTIONS), () => undefined);
    try {
      return await parseJsonStream(body, { skip: /^predictions$/, maxChars });
    } catch (e) {
      if (!(e instanceof JsonStreamError)) throw e;
      throw Object.assign(new Error('bad callback body'), { statusCode: e.tooLarge ? 413 : 400 });
    }
  });

  // Fastify's default 404 body names the method and path: answer without echoing the request.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'not found' }));
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    request.log.warn({ status }, 'callback rejected');
    const message = status === 413 ? 'body too large' : status === 415 ? 'unsupported media type' : status < 500 ? 'bad request' : 'unavailable';
    return reply.code(status < 500 ? status : 503).send({ message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  if (options.onCallback) {
    const told = options.onCallback;
    app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.url?.startsWith(CALLBACK_PATH) && request.method === 'POST') told(reply.statusCode);
    });
  }

  app.route<CallbackRoute>({
    method: 'POST',
    url: `${CALLBACK_PATH}/:workflowId`,
    // The token is checked before the body is read, so a forged request costs us no parsing.
    onRequest: async (request, reply) => {
      const { token } = request.query;
      if (!token || !verifyWorkflowToken(request.params.workflowId, token, options.secrets)) {
        return reply.code(401).send({ message: 'unauthorized' });
      }
    },
    handler: async (request, reply) => {
      const body = CallbackBody.safeParse(request.body);
      if (!body.success) return reply.code(400).send({ message: 'bad request' });
      const { workflowId } = request.params;
      try {
        await options.client.workflow
          .getHandle(workflowId)
          .signal(jobFinishedSignal, { jobId: body.data.job_id, status: String(body.data.status) });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ message: 'not found' });
        request.log.error({ err: (err as Error).message, workflowId }, 'signal failed');
        return reply.code(503).send({ message: 'unavailable' });
      }
      return reply.code(200).send({ status: 'accepted' });
    },
  });
  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: `${CALLBACK_PATH}/:workflowId`,
    handler: async (_request, reply) => reply.code(405).header('allow', 'POST').send({ message: 'method not allowed' }),
  });
  return app;
}

export async function startReceiver(options: ReceiverOptions & ListenOptions): Promise<RunningReceiver> {
  const app = buildReceiver(options);
  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : Number(new URL(url).port);
  return { url, port, app, close: () => app.close() };
}
