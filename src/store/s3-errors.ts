/**
 * What an S3 error means, read once: the answers no retry can fix (credentials, permissions, a
 * missing bucket) get one line of cause; anything else (5xx, throttling, a dropped connection) is
 * left as it is, for Temporal to retry. Causes are our own words and the error's code, never the
 * SDK's message, so no signature, key or token can reach a log.
 */
import { ApplicationFailure } from '@temporalio/common';
import { RESULTS_UNWRITABLE } from './fs.js';

interface S3ErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const shape = (err: unknown): S3ErrorShape => (typeof err === 'object' && err !== null ? (err as S3ErrorShape) : {});

export const statusOf = (err: unknown): number | undefined => shape(err).$metadata?.httpStatusCode;

const ACCESS_DENIED = "access denied (403) — check the credentials' permissions";

/** By error code; versitygw answers an unknown access key with its own code. */
const CAUSES = new Map<string, string>([
  ['AccessDenied', ACCESS_DENIED],
  ['AllAccessDisabled', 'all access to the bucket is disabled (403)'],
  ['AccountProblem', 'the account has a problem (403) — ask its owner'],
  ['InvalidAccessKeyId', 'the access key id is unknown (403) — check the credentials'],
  ['XAdminUserNotFound', 'the access key id is unknown — check the credentials'],
  ['SignatureDoesNotMatch', 'the secret key does not match the access key (403) — check the credentials'],
  ['ExpiredToken', 'the session token has expired — renew the credentials'],
  ['InvalidToken', 'the session token is invalid — renew the credentials'],
  ['NoSuchBucket', 'no such bucket'],
  ['InvalidBucketName', 'invalid bucket name'],
  ['PermanentRedirect', 'the bucket is in another region — set AWS_REGION to it'],
]);

/** The SDK's credential chain found nothing (or a profile it cannot use). */
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);

/**
 * One line saying why no retry can help, or undefined for an error worth retrying. `bucketRequest`:
 * the request addressed the bucket itself (HeadBucket), so a body-less 404 means no bucket.
 */
export function unfixableCause(err: unknown, bucketRequest = false): string | undefined {
  const { name, code } = shape(err);
  if (name && NO_CREDENTIALS.has(name)) {
    return 'no credentials — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or another source of the AWS SDK chain';
  }
  const byCode = CAUSES.get(code ?? '') ?? CAUSES.get(name ?? '');
  if (byCode) return byCode;
  const status = statusOf(err);
  // HEAD answers carry no body, so no code: the status is all there is.
  if (status === 403) return ACCESS_DENIED;
  if (status === 404 && bucketRequest) return 'no such bucket';
  return undefined;
}

/** No such object: NoSuchKey from a GET, a body-less 404 from a HEAD (never a 404 about the bucket or the key id). */
export const isNotFound = (err: unknown): boolean => {
  const { name } = shape(err);
  return name === 'NoSuchKey' || (name === 'NotFound' && statusOf(err) === 404);
};

/** `err` as a non-retryable RESULTS_UNWRITABLE failure naming `uri` when no retry can fix it; else `err`. */
export function s3UnwritableFailure(err: unknown, bucket: string, uri: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  const cause = unfixableCause(err);
  if (!cause) return err;
  const { name, code } = shape(err);
  return ApplicationFailure.nonRetryable(`cannot write ${uri}: ${cause}`, RESULTS_UNWRITABLE, { bucket, uri, code: code ?? name });
}
