/**
 * S3 configuration as people get it wrong: each mistake is refused before a run starts, in one line
 * naming the location and the cause, and no message carries a secret. The client is configured the
 * way AWS tools are, from the environment the SDK reads (process.env), so tests set that.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/devserver/server.js';
import { startS3Server, type S3Server } from '../../src/devserver/s3-server.js';
import { checkS3Location, createS3ClientFromEnv, StorageConfigError, WRITE_CHECK_NAME } from '../../src/store/s3-client.js';

const BUCKET = 'results';
const AWS_VARIABLES = /^(AWS_|TEMPORAL_HUME_S3_)/;

let server: S3Server;
const original = { ...process.env };

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
});
afterAll(() => server?.stop());
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in original)) delete process.env[name];
  Object.assign(process.env, original);
});

/** Only `vars` configure AWS: no variables from outside, no ~/.aws files, no instance metadata. */
function awsEnv(vars: Record<string, string>): void {
  for (const name of Object.keys(process.env)) if (AWS_VARIABLES.test(name)) delete process.env[name];
  const nowhere = join(tmpdir(), 'no-such-aws-dir');
  Object.assign(process.env, {
    AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials'),
    AWS_CONFIG_FILE: join(nowhere, 'config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...vars,
  });
}

async function refusal(location: { bucket: string; prefix: string }): Promise<StorageConfigError> {
  const client = createS3ClientFromEnv();
  try {
    const err = await checkS3Location(client, location).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    for (const secret of [server.secretAccessKey, 'wrong-secret-value']) expect(message).not.toContain(secret);
    return err as StorageConfigError;
  } finally {
    client.destroy();
  }
}

describe('checkS3Location', () => {
  it('passes a bucket the credentials may read and write, leaving nothing behind', async () => {
    awsEnv(server.env());
    const client = createS3ClientFromEnv();
    await checkS3Location(client, { bucket: BUCKET, prefix: 'runs' });
    await expect(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `runs/${WRITE_CHECK_NAME}` }))).rejects.toMatchObject({ name: 'NotFound' });
    client.destroy();
  });

  it('refuses a wrong secret key', async () => {
    awsEnv({ ...server.env(), AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
    expect((await refusal({ bucket: BUCKET, prefix: 'runs' })).message).toBe(
      's3://results/runs: the secret key does not match the access key (403) — check the credentials (on list)',
    );
  });

  it('refuses a missing bucket', async () => {
    awsEnv(server.env());
    expect((await refusal({ bucket: 'no-such-bucket', prefix: 'runs' })).message).toBe('s3://no-such-bucket/runs: no such bucket (on list)');
  });

  it('refuses when there are no credentials at all', async () => {
    const { AWS_ACCESS_KEY_ID: _key, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = server.env();
    awsEnv(rest);
    expect((await refusal({ bucket: BUCKET, prefix: '' })).message).toMatch(/^s3:\/\/results: no credentials — set AWS_ACCESS_KEY_ID/);
  });

  it('refuses an endpoint nobody answers on', async () => {
    const port = await freePort();
    awsEnv({ ...server.env(), AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
    expect((await refusal({ bucket: BUCKET, prefix: 'runs' })).message).toBe(`s3://results/runs: cannot reach 127.0.0.1:${port} (ECONNREFUSED) (on list)`);
  });
});

describe('createS3ClientFromEnv', () => {
  const listWith = async (): Promise<number> => {
    const client = createS3ClientFromEnv();
    try {
      return (await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).$metadata.httpStatusCode ?? 0;
    } finally {
      client.destroy();
    }
  };

  it('takes the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, and needs no region', async () => {
    const { AWS_REGION: _region, ...env } = server.env();
    awsEnv(env);
    expect(await listWith()).toBe(200);
    const { AWS_ENDPOINT_URL_S3: endpoint, ...generic } = env;
    awsEnv({ ...generic, AWS_ENDPOINT_URL: endpoint! });
    expect(await listWith()).toBe(200);
  });

  it('addresses buckets by path only with TEMPORAL_HUME_S3_FORCE_PATH_STYLE=true', async () => {
    // By name: the SDK addresses an IP endpoint by path anyway.
    const { TEMPORAL_HUME_S3_FORCE_PATH_STYLE: _pathStyle, ...served } = server.env();
    const env = { ...served, AWS_ENDPOINT_URL_S3: server.endpoint.replace('127.0.0.1', 'localhost') };
    awsEnv(env);
    // Virtual-host style asks for results.localhost, which the resolver does not know.
    await expect(listWith()).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
    awsEnv({ ...env, TEMPORAL_HUME_S3_FORCE_PATH_STYLE: 'true' });
    expect(await listWith()).toBe(200);
  });

});
