/**
 * A codec server for the Temporal UI and CLI: `POST /encode` and `POST /decode` run payloads
 * through our codecs, so people with access to the keys can read encrypted histories in the UI.
 * Point the UI at it with `--ui-codec-endpoint` (dev server) or `TEMPORAL_CODEC_ENDPOINT` (UI
 * container); the browser calls it directly, hence CORS for the UI's origin.
 */
import { timingSafeEqual } from 'node:crypto';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { PayloadDecryptionError } from './encryption.js';
import { fromJson, JsonPayloads, toJson } from './json.js';

export interface CodecServerOptions {
  /** The DataConverter's `payloadCodecs`: applied in order to encode, in reverse to decode. */
  codecs: readonly PayloadCodec[];
  /** Browser origins allowed to call, e.g. `http://localhost:8233` (the dev server's UI). @default [] */
  origins?: readonly string[];
  /** The exact `Authorization` header required, e.g. `Bearer <token>`; unset means none is checked. */
  authorization?: string;
  /** Largest request accepted. @default 32 MiB */
  bodyLimit?: number;
}

export interface RunningCodecServer {
  /** e.g. `http://127.0.0.1:8888`: the value for `--ui-codec-endpoint`. */
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 32 * 1024 * 1024;
// The UI sends X-Namespace with every call, Authorization when it passes a token.
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  if (options.codecs.length === 0) throw new TypeError('CodecServerOptions.codecs: at least one codec is required');
  const origins = new Set(options.origins ?? []);
  const expectedAuth = options.authorization === undefined ? undefined : Buffer.from(options.authorization);
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
    }
    // Preflights carry no credentials: they are answered without the auth check.
    if (request.method === 'OPTIONS') {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .send();
    }
    if (expectedAuth && !sameBytes(Buffer.from(request.headers.authorization ?? ''), expectedAuth)) {
      return reply.code(401).send({ message: 'unauthorized' });
    }
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ message: 'not found' }));
  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode ?? 500;
    return reply.code(status).send({ message: status === 413 ? 'body too large' : status < 500 ? 'bad request' : 'codec error' });
  });

  const route = (path: string, run: (payloads: ReturnType<typeof fromJson>) => Promise<ReturnType<typeof fromJson>>) => {
    app.post(path, async (request, reply) => {
      const body = JsonPayloads.safeParse(request.body);
      if (!body.success) return reply.code(400).send({ message: 'expected {"payloads": [{"metadata": {…}, "data": "<base64>"}]}' });
      try {
        return toJson(await run(fromJson(body.data)));
      } catch (err) {
        // Decryption errors name a key id at most, never key material: useful to the operator.
        if (err instanceof PayloadDecryptionError) return reply.code(400).send({ message: err.message });
        throw err;
      }
    });
  };
  route('/encode', async (payloads) => {
    for (const codec of options.codecs) payloads = await codec.encode(payloads);
    return payloads;
  });
  route('/decode', async (payloads) => {
    for (const codec of [...options.codecs].reverse()) payloads = await codec.decode(payloads);
    return payloads;
  });
  return app;
}

export async function startCodecServer(options: CodecServerOptions & { host?: string; port?: number }): Promise<RunningCodecServer> {
  const app = buildCodecServer(options);
  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { url, app, close: () => app.close() };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
