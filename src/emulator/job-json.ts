/**
 * The job object of the wire contract (`UnionJob`) as a byte stream. Hume echoes `request.text`,
 * and a text may be 255 MB: each is copied from its file, JSON-escaped chunk by chunk, so an echo
 * never forms one JS string. The list route streams its jobs the same way.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { EMULATOR_USER_ID, type Job } from './jobs.js';

/** One job as JSON. */
export const jobJsonStream = (job: Job): Readable => Readable.from(batched(jobChunks(job)));

/** An array of jobs as JSON. */
export const jobListJsonStream = (jobs: Job[]): Readable =>
  Readable.from(batched((async function* () {
    yield '[';
    for (const [i, job] of jobs.entries()) {
      if (i > 0) yield ',';
      yield* jobChunks(job);
    }
    yield ']';
  })()));

/** Joins small pieces into writes of about 64 KiB: thousands of tiny writes cost more than the bytes. */
async function* batched(pieces: AsyncIterable<string>): AsyncGenerator<string> {
  let pending = '';
  for await (const piece of pieces) {
    pending += piece;
    if (pending.length >= 65_536) {
      yield pending;
      pending = '';
    }
  }
  if (pending) yield pending;
}

async function* jobChunks(job: Job): AsyncGenerator<string> {
  const { text, ...request } = job.request;
  // `request` goes last and `text` last in it, so the texts are spliced in before the closing `}}`.
  const head = JSON.stringify({ type: 'INFERENCE', job_id: job.id, user_id: EMULATOR_USER_ID, state: jobState(job), request });
  yield `${head.slice(0, -2)},"text":[`;
  for (const [i, t] of text.entries()) {
    if (i > 0) yield ',';
    if (t.short !== undefined) {
      yield JSON.stringify(t.short);
      continue;
    }
    yield '"';
    // A utf8-decoding stream never splits a character, so each chunk escapes on its own.
    for await (const chunk of createReadStream(t.path, { encoding: 'utf8' })) yield JSON.stringify(chunk).slice(1, -1);
    yield '"';
  }
  yield ']}}';
}

/** Each state's fields only. */
function jobState(job: Job): Record<string, unknown> {
  const state: Record<string, unknown> = { status: job.status, created_timestamp_ms: job.createdMs };
  if (job.status !== 'QUEUED') state['started_timestamp_ms'] = job.startedMs;
  if (job.status === 'COMPLETED' || job.status === 'FAILED') state['ended_timestamp_ms'] = job.endedMs;
  if (job.status === 'COMPLETED') Object.assign(state, { num_predictions: job.numPredictions, num_errors: job.numErrors });
  if (job.status === 'FAILED') state['message'] = job.message;
  return state;
}
