/** Reading and writing a test's S3 buckets directly, to set up manifests and audit results. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Puts every file under `dir` at `s3://bucket/prefix/<relative path>`. */
export async function uploadFolder(client: S3Client, bucket: string, prefix: string, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${relative(dir, path)}`, Body: await readFile(path) }));
  }
}

/** Every key under `prefix`, sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function readObject(client: S3Client, bucket: string, key: string): Promise<string> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await Body?.transformToString('utf8')) ?? '';
}

/** A JSONL object, parsed. */
export async function readJsonlObject<T>(client: S3Client, bucket: string, key: string): Promise<T[]> {
  return (await readObject(client, bucket, key)).split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}
