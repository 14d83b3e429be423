/**
 * The S3 client as every AWS tool configures it, and a check of a results location before anything
 * is submitted to it.
 *
 * Read by the SDK itself (from `process.env` and ~/.aws, whatever `env` is given): credentials
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE, SSO, web identity,
 * container and instance roles), the region (AWS_REGION, the profile's), and the endpoint
 * (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, or the profile's `endpoint_url`).
 * Ours: TEMPORAL_HUME_S3_FORCE_PATH_STYLE=true addresses buckets as `<endpoint>/<bucket>` instead of
 * `<bucket>.<endpoint>`, which S3-compatible servers (MinIO, versitygw, Ceph) usually need.
 */
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { formatLocation } from './location.js';
import { unfixableCause } from './s3-errors.js';
import type { S3Location } from './s3.js';

/** What S3-compatible servers take unless told otherwise; the SDK will not sign a request without a region. */
const DEFAULT_REGION = 'us-east-1';

/** A client configured as AWS tools are; `env` is where our path-style switch is read. */
export function createS3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  // The SDK's own region chain, borrowed from a client built without options (the chain is not
  // exported), with a default when it finds none.
  const chain = new S3Client({});
  const fromChain = chain.config.region;
  chain.destroy();
  return new S3Client({
    region: () => fromChain().catch(() => DEFAULT_REGION),
    forcePathStyle: env.TEMPORAL_HUME_S3_FORCE_PATH_STYLE === 'true',
    // A bucket in another region than the configured one answers with a redirect: follow it.
    followRegionRedirects: true,
  });
}

/** A results location that cannot work as configured; the message is one line, without secrets. */
export class StorageConfigError extends Error {
  override readonly name = 'StorageConfigError';
}

/** A tiny object written and removed to prove the credentials may write and delete under the prefix. */
export const WRITE_CHECK_NAME = '.temporal-hume-write-check';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Throws a StorageConfigError when `location` cannot be read and written with `client`: no
 * credentials, no such bucket, access denied, an unreachable endpoint. It lists (read) and puts and
 * deletes one small object (write): listing alone would pass read-only credentials, which then fail
 * at the first result a run writes, hours later; two requests are cheap next to that.
 */
export async function checkS3Location(client: S3Client, location: S3Location): Promise<void> {
  const where = formatLocation({ kind: 's3', bucket: location.bucket, key: location.prefix });
  const probe = { Bucket: location.bucket, Key: location.prefix ? `${location.prefix}/${WRITE_CHECK_NAME}` : WRITE_CHECK_NAME };
  const steps: [string, () => Promise<unknown>][] = [
    ['list', () => client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix ? `${location.prefix}/` : '', MaxKeys: 1 }))],
    ['write', () => client.send(new PutObjectCommand({ ...probe, Body: Buffer.alloc(0), ContentLength: 0 }))],
    ['delete', () => client.send(new DeleteObjectCommand(probe))],
  ];
  for (const [step, send] of steps) {
    try {
      await send();
    } catch (err) {
      throw new StorageConfigError(`${where}: ${describe(err)} (on ${step})`);
    }
  }
}

function describe(err: unknown): string {
  const cause = unfixableCause(err);
  if (cause) return cause;
  const { code, name } = err as { code?: string; name?: string };
  if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError') return `cannot reach ${peerOf(err)} (${code ?? name})`;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `unexpected answer ${name ?? 'error'}${status === undefined ? '' : ` (${status})`}`;
}

/** The host a connection failed to, from Node's error (host and port only: never a URL's user info). */
function peerOf(err: unknown): string {
  const { address, hostname, port } = err as { address?: string; hostname?: string; port?: number };
  const host = hostname ?? address;
  if (!host) return 'the S3 endpoint';
  return port === undefined ? host : `${host}:${port}`;
}
