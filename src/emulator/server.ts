/**
 * The HTTP surface: the v0 batch routes under /v0/batch, and the admin routes under /_emulator.
 * Every API request goes through, in order: latency, injected faults, the key check, the rate
 * limit. Errors are answered as JSON `{message}` (401 in Hume's Apigee `fault` shape).
 */
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { JOB_STATUSES } from '../hume/schemas.js';
import { artifactsZip } from './artifacts.js';
import type { FaultDecision, FaultInjector } from './faults.js';
import { jobJson, type Job, type JobStore } from './jobs.js';
import { readMultipart } from './multipart.js';
import type { FaultRoute, ResolvedOptions } from './options.js';
import { TokenBucket } from './ratelimit.js';
import { echoRequest, parseBaseRequest, ValidationError } from './request.js';
import type { EmulatorStats } from './stats.js';
import type { Timers } from './timers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** API route name (faults, stats, rate limit); admin routes have none. */
    route?: FaultRoute;
  }
}

export interface ServerDeps {
  options: ResolvedOptions;
  jobs: JobStore;
  faults: FaultInjector;
  stats: EmulatorStats;
  timers: Timers;
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
  const { options, jobs, faults, stats, timers } = deps;
  const { limits } = options;
  const app = Fastify({
    logger: false,
    // A JSON body may carry up to 100 texts; one text alone may be 255 MB.
    bodyLimit: 2 * limits.maxTextBytes,
    forceCloseConnections: true,
  });
  const bucket = options.rateLimit === null ? undefined : new TokenBucket(options.rateLimit);

  void app.register(multipart, {
    throwFileSizeLimit: false, // truncated uploads are reported by readMultipart, naming the file
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
    if (!authorized(req, options.apiKey)) return reply.code(401).send(INVALID_KEY);
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

  /** Runs a handler, then swaps its answer for a queued `afterHandling` fault, if any. */
  const api = <T>(route: FaultRoute, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<T>) => ({
    config: { route },
    handler: async (req: FastifyRequest, reply: FastifyReply): Promise<T | FastifyReply> => {
      const result = await handler(req, reply);
      const fault = faults.after(route);
      if (!fault) return result;
      (result as { destroy?: () => void } | undefined)?.destroy?.();
      return injectFault(fault, req, reply);
    },
  });

  const findJob = (req: FastifyRequest): Job => {
    const job = jobs.get((req.params as { id: string }).id);
    if (!job) throw Object.assign(new Error('job not found'), { statusCode: 404 });
    return job;
  };

  /** Predictions and artifacts exist only for COMPLETED jobs. */
  const completedJob = (req: FastifyRequest): Job => {
    const job = findJob(req);
    if (job.status === 'QUEUED') throw new ValidationError('Job is still queued');
    if (job.status === 'IN_PROGRESS') throw new ValidationError('Job is still in progress');
    if (job.status === 'FAILED') throw new ValidationError(`Job failed: ${job.message}`);
    return job;
  };

  app.get('/v0/batch/jobs', api('list', async (req) => {
    const parsed = ListQuery.safeParse(req.query);
    if (!parsed.success) {
      throw new ValidationError(`invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const q = parsed.data;
    return jobs
      .list({
        ...(q.status === undefined ? {} : { statuses: [q.status].flat() }),
        ...(q.when === undefined && q.timestamp_ms === undefined
          ? {}
          : { when: q.when ?? 'created_before', timestampMs: q.timestamp_ms ?? Date.now() }),
        sortBy: q.sort_by,
        direction: q.direction,
        limit: q.limit,
      })
      .map(jobJson);
  }));

  app.post('/v0/batch/jobs', api('submit', async (req, reply) => {
    if (jobs.queuedCount >= options.maxQueuedJobs) {
      const seconds = Math.max(1, Math.ceil(options.timing.queuedMs[1] / 1000));
      return throttle(reply, seconds, `too many queued jobs: ${jobs.queuedCount} queued (limit maxQueuedJobs = ${options.maxQueuedJobs})`);
    }
    const { json, files } = req.isMultipart() ? await readMultipart(req, limits) : { json: req.body, files: [] };
    const job = jobs.create(echoRequest(parseBaseRequest(json), files, limits));
    return { job_id: job.id };
  }));

  app.get('/v0/batch/jobs/:id', api('details', async (req) => jobJson(findJob(req))));

  app.get('/v0/batch/jobs/:id/predictions', api('predictions', async (req) => jobs.predictions(completedJob(req))));

  app.get('/v0/batch/jobs/:id/artifacts', api('artifacts', async (req, reply) => {
    const job = completedJob(req);
    void reply.type('application/octet-stream');
    return artifactsZip(job.id, jobs.predictions(job));
  }));

  // Admin routes: change faults and read stats from another process (same key).
  app.get('/_emulator/faults', async () => faults.faults);
  app.put('/_emulator/faults', async (req) => faults.set(req.body ?? {}));
  app.get('/_emulator/stats', async () => stats);
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
