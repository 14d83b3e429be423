/** Refuses, before sending, a job request Hume would reject: schema violations and documented limits. */
import { HumeInvalidRequestError } from './errors.js';
import { HUME_LIMITS } from './limits.js';
import { InferenceBaseRequest } from './schemas.js';

/**
 * Checks a request against the schemas and Hume's documented limits before sending it; returns
 * the parsed request (unknown keys dropped, explicit nulls such as `transcription: null` kept).
 * `sources` requires URLs or texts (a JSON job has nothing else to run on).
 */
export function validateRequest(call: string, request: InferenceBaseRequest, needs: 'sources' | 'files'): InferenceBaseRequest {
  const invalid = (reason: string) => new HumeInvalidRequestError({ call, reason });
  const parsed = InferenceBaseRequest.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`request.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const { urls, text } = parsed.data;
  if (needs === 'sources' && !urls?.length && !text?.length) throw invalid('request needs at least one of urls or text');
  if ((urls?.length ?? 0) > HUME_LIMITS.maxUrlsPerJob) {
    throw invalid(`${urls?.length} urls exceed Hume's limit of ${HUME_LIMITS.maxUrlsPerJob} per job`);
  }
  if ((text?.length ?? 0) > HUME_LIMITS.maxTextsPerJob) {
    throw invalid(`${text?.length} texts exceed Hume's limit of ${HUME_LIMITS.maxTextsPerJob} per job`);
  }
  const tooLong = text?.findIndex((t) => Buffer.byteLength(t) > HUME_LIMITS.maxTextBytes) ?? -1;
  if (tooLong >= 0) throw invalid(`text[${tooLong}] is over Hume's limit of ${HUME_LIMITS.maxTextBytes} bytes`);
  return parsed.data;
}
