/**
 * The HTTP surface: the v0 batch routes under /v0/batch, and the admin routes under /_emulator.
 * Every API request goes through, in order: latency, injected faults, the key check, the rate
 * limit. Errors are answered as JSON `{message}` (401 in Hume's Apigee `fault` shape).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { JOB_STATUSES } from '../hume/schemas.js';
import { modelConfigs, type BackendInfo } from './backends/index.js';
import type { FaultDecision, FaultInjector } from './faults.js';
import type { JobFiles } from './job-files.js';
import { jobJsonStream, jobListJsonStream } from './job-json.js';
import type { Job, JobStore, ServedFile } from './jobs.js';
import { readJsonStream } from './json-intake.js';
import { readMultipart, type MultipartJob } from './multipart.js';
import type { FaultRoute, ResolvedOptions } from './options.js';
import { TokenBucket } from './ratelimit.js';
import { echoRequest, parseBaseRequest, ValidationError } from './request.js';
import { serveFile } from './serve-file.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** API route name (faults, stats, rate limit); admin routes have none. */
    route?: FaultRoute;
    /** Answered without the API key. */
    public?: boolean;
  }
}

// From src/emulator/ and dist/emulator/ alike, the package's own package.json.
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface ServerDeps {
  options: ResolvedOptions;
  jobs: JobStore;
  files: JobFiles;
  faults: FaultInjector;
  stats: EmulatorStats;
  timers: Timers;
  backends: () => BackendInfo[];
}

const INVALID_KEY = { fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'oauth.v2.InvalidApiKey' } } };

const ListQuery = z.object({
  limit: z.coerce.number().int().min(0).default(50),
  status: z.union([z.enum(JOB_STATUSES), z.array(z.enum(JOB_STATUSES))]).optional(),
  when: z.enum(['created_before', 'created_after']).optional(),
  timestamp_ms: z.coerce.number().int().optional(),
  sort_by: z.enum(['created', 'started', 'ended']).default('created'),
  direction: z.enum(['asc', 'desc']).default('desc'),
});

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { options, jobs, files, faults, stats, timers, backends } = deps;
  const { limits } = options;
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const bucket = options.rateLimit === null ? undefined : new TokenBucket(options.rateLimit);

  void app.register(multipart, {
    throwFileSizeLimit: false, // truncated uploads are reported by readMultipart, naming the file
    // A `json` text field is buffered by busboy, so it may hold texts; as a file part it streams.
    limits: { fileSize: limits.maxLocalFileBytes, files: limits.maxFilesPerJob + 2, fieldSize: 2 * limits.maxTextBytes },
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err instanceof ValidationError ? 400 : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    void reply.code(status).send({ message: err.message });
  });
  app.setNotFoundHandler((_req, reply) => void reply.code(404).send({ message: 'not found' }));

  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.config.route;
    if (route) {
      stats.requests[route]++;
      const { latencyMs } = faults.faults;
      if (latencyMs > 0) await timers.sleep(latencyMs);
      const fault = faults.before(route);
      if (fault) return injectFault(fault, req, reply);
    }
    if (!req.routeOptions.config.public && !authorized(req, options.apiKey)) return reply.code(401).send(INVALID_KEY);
    const wait = route ? bucket?.take() : 0;
    if (wait) return throttle(reply, wait, `rate limit exceeded: more than ${options.rateLimit} requests per second`);
    return undefined;
  });

  const injectFault = (fault: FaultDecision, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    stats.faultsInjected++;
    if (fault.kind === 'reset') {
      reply.hijack();
      req.raw.socket.destroy();
      return reply;
    }
    if (fault.retryAfterSeconds !== undefined) void reply.header('retry-after', String(fault.retryAfterSeconds));
    return reply.code(fault.status).send({ message: fault.message });
  };

  const throttle = (reply: FastifyReply, seconds: number, message: string): FastifyReply => {
    stats.throttled++;
    return reply.code(429).header('retry-after', String(seconds)).send({ message });
  };

  /** Runs a handler, then swaps its answer (body and headers) for a queued `afterHandling` fault, if any. */
  const api = <T>(route: FaultRoute, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<T>) => ({
    config: { route },
    handler: async (req: FastifyRequest, reply: FastifyReply): Promise<T | FastifyReply> => {
      const result = await handler(req, reply);
      const fault = faults.after(route);
      if (!fault) return result;
      if (result instanceof Readable) result.destroy();
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      return injectFault(fault, req, reply);
    },
  });

  const findJob = (req: FastifyRequest): Job => {
    const job = jobs.get((req.params as { id: string }).id);
    if (!job) throw Object.assign(new Error('job not found'), { statusCode: 404 });
    return job;
  };

  /** Predictions and artifacts exist only for COMPLETED jobs. */
  const completedJob = (req: FastifyRequest): Job & { predictions: ServedFile } => {
    const job = findJob(req);
    if (job.status === 'QUEUED') throw new ValidationError('Job is still queued');
    if (job.status === 'IN_PROGRESS') throw new ValidationError('Job is still in progress');
    if (job.status === 'FAILED') throw new ValidationError(`Job failed: ${job.message}`);
    if (!job.predictions) throw new Error(`job ${job.id} is COMPLETED without predictions`);
    return job as Job & { predictions: ServedFile };
  };

  /** Strong, and stable for the job's life: a job's files never change once written. */
  const etag = (job: Job, name: string, file: ServedFile): string => `"${job.id}-${name}-${file.bytes}"`;

  /** Reads the body into the job's folder: texts and uploads to files, the rest parsed. */
  const intake = async (req: FastifyRequest, dir: string): Promise<MultipartJob> => {
    if (req.isMultipart()) return readMultipart(req, dir, limits);
    if (req.body instanceof Readable) return { ...(await readJsonStream(req.body, 'the body', dir, limits)), uploads: [] };
    return { value: req.body, texts: [], uploads: [] };
  };

  app.get('/v0/batch/jobs', api('list', async (req, reply) => {
    const parsed = ListQuery.safeParse(req.query);
    if (!parsed.success) {
      throw new ValidationError(`invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const q = parsed.data;
    void reply.type('application/json');
    return jobListJsonStream(jobs
      .list({
        ...(q.status === undefined ? {} : { statuses: [q.status].flat() }),
        ...(q.when === undefined && q.timestamp_ms === undefined
          ? {}
          : { when: q.when ?? 'created_before', timestampMs: q.timestamp_ms ?? Date.now() }),
        sortBy: q.sort_by,
        direction: q.direction,
        limit: q.limit,
      }));
  }));

  // Its own scope, so only this route takes a JSON body as a raw stream (the intake parses it).
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', (_req, payload, done) => done(null, payload));
    scope.post('/v0/batch/jobs', api('submit', async (req, reply) => {
      if (jobs.queuedCount >= options.maxQueuedJobs) {
        const seconds = Math.max(1, Math.ceil(options.timing.queuedMs[1] / 1000));
        return throttle(reply, seconds, `too many queued jobs: ${jobs.queuedCount} queued (limit maxQueuedJobs = ${options.maxQueuedJobs})`);
      }
      const folder = await files.newJob();
      try {
        const { value, texts, uploads } = await intake(req, folder.dir);
        const base = parseBaseRequest(value);
        const request = echoRequest(base, texts, uploads.map((u) => u.echo), limits);
        return { job_id: jobs.create({ ...folder, request, configs: modelConfigs(base.models), uploads }).id };
      } catch (err) {
        await files.removeJob(folder.id);
        throw err;
      }
    }));
  });

  app.get('/v0/batch/jobs/:id', api('details', async (req, reply) => {
    const job = findJob(req);
    void reply.type('application/json');
    return jobJsonStream(job);
  }));

  app.get('/v0/batch/jobs/:id/predictions', api('predictions', async (req, reply) => {
    const job = completedJob(req);
    return serveFile(req, reply, job.predictions, { etag: etag(job, 'predictions', job.predictions), contentType: 'application/json', stats });
  }));

  app.get('/v0/batch/jobs/:id/artifacts', api('artifacts', async (req, reply) => {
    const job = completedJob(req);
    const zip = await jobs.artifacts(job);
    return serveFile(req, reply, zip, { etag: etag(job, 'artifacts', zip), contentType: 'application/octet-stream', stats });
  }));

  // Public, like a health check: lets any client tell real models from synthetic ones. It shows
  // model servers without credentials or query (backends/http.ts) and never the API key.
  app.get('/v0/info', { config: { public: true } }, async () => ({ version: VERSION, backends: backends() }));

  // Admin routes: change faults and read stats from another process (same key).
  app.get('/_emulator/faults', async () => faults.faults);
  app.put('/_emulator/faults', async (req) => faults.set(req.body ?? {}));
  // `rssBytes` lets a test in another process watch this one's memory.
  app.get('/_emulator/stats', async () => ({ ...stats, rssBytes: process.memoryUsage().rss }));
  app.post('/_emulator/fail-next', async (req) => {
    faults.failNext(req.body);
    return { ok: true };
  });
  app.post('/_emulator/fail-next-jobs', async (req) => {
    const { count, message } = (req.body ?? {}) as { count?: unknown; message?: unknown };
    faults.failNextJobs(count as number, typeof message === 'string' ? message : undefined);
    return { ok: true };
  });

  return app;
}

/** `X-Hume-Api-Key`, `Authorization: Bearer`, or the historic `?apiKey=`. */
function authorized(req: FastifyRequest, apiKey: string): boolean {
  const header = req.headers['x-hume-api-key'];
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const query = (req.query as Record<string, unknown> | undefined)?.['apiKey'];
  return [header, bearer, query].some((k) => k === apiKey);
}
