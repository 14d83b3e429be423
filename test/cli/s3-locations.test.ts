/**
 * `temporal-hume run` with S3 locations, before any server is involved: the manifest and the
 * results root are checked with the caller's own AWS_* configuration, and a dry run plans an S3
 * manifest whose files are S3 keys.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManifestActivities } from '../../src/activities/manifest.js';
import { type S3Server, startS3Server } from '../../src/devserver/s3-server.js';
import { createStorage } from '../../src/store/storage.js';
import { runCli } from '../helpers/spawn.js';
import { cleanEnv, expectOneLine } from './helpers.js';

describe('temporal-hume run with s3:// locations', () => {
  let s3: S3Server;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('inputs');
    const put = (key: string, body: string) => s3.client().send(new PutObjectCommand({ Bucket: 'inputs', Key: key, Body: body }));
    await put('set/manifest.jsonl', `${[{ file: 'media/a.wav' }, { file: 'media/missing.wav' }, { text: 'hello there' }].map((l) => JSON.stringify(l)).join('\n')}\n`);
    await put('set/media/a.wav', 'RIFF fake audio');
    env = cleanEnv(s3.env());
  });
  afterAll(() => s3?.stop());

  it('plans an S3 manifest in a dry run: its S3 files are sized, a missing key is an invalid line', async () => {
    const result = await runCli(['run', 's3://inputs/set/manifest.jsonl', '--dry-run', '--skip-invalid', '--json'], env);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan).toMatchObject({ items: 3, validItems: 2, invalidCount: 1, uploadBytes: 'RIFF fake audio'.length, manifest: { path: 's3://inputs/set/manifest.jsonl' } });
    expect(plan.invalid).toEqual([expect.objectContaining({ line: 2, field: 'file', value: 's3://inputs/set/media/missing.wav', rule: 'object not found' })]);
  });

  it('keeps S3 files inside an allowed root: an S3 prefix admits its keys only, a local root no S3 key at all', async () => {
    const plan = (allowedRoot: string) =>
      createManifestActivities(createStorage({ s3: s3.client() })).humePlanManifest({ runDir: mkdtempSync(join(tmpdir(), 'allowed-')), manifest: { path: 's3://inputs/set/manifest.jsonl' }, config: {}, allowedRoot, skipInvalid: true });
    expect((await plan('s3://inputs/set')).validItems).toBe(2);
    for (const root of ['s3://inputs/other', 's3://inputs/se', tmpdir()]) {
      const refused = await plan(root);
      expect(refused.validItems, root).toBe(1);
      expect(refused.invalid.map((line) => [line.line, line.rule])).toEqual([
        [1, `the file is outside the allowed root ${root}`],
        [2, `the file is outside the allowed root ${root}`],
      ]);
    }
  });

  it('refuses a manifest that is not there, in one line naming it (exit 2)', async () => {
    expectOneLine(await runCli(['run', 's3://inputs/set/nope.jsonl', '--dry-run'], env), 2, /manifest not found: s3:\/\/inputs\/set\/nope\.jsonl$/);
  });

  it('refuses a results root in a bucket that does not exist before anything starts, in one line naming the bucket (exit 2)', async () => {
    const result = await runCli(['run', 's3://inputs/set/manifest.jsonl', '--out', 's3://no-such-bucket/results', '--skip-invalid'], env);
    expectOneLine(result, 2, /--out s3:\/\/no-such-bucket\/results: no such bucket/);
  });

  it('refuses credentials the server does not know, without quoting them', async () => {
    const result = await runCli(['run', 's3://inputs/set/manifest.jsonl', '--out', 's3://inputs/results'], { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret-key-0123456789' });
    expectOneLine(result, 2, /cannot read the manifest s3:\/\/inputs\/set\/manifest\.jsonl \((access denied|the secret key does not match)/);
    expect(result.stderr).not.toContain('not-the-secret-key');
  });

  it('refuses a location that is not one, naming the flag', async () => {
    expectOneLine(await runCli(['run', 's3://inputs/set/manifest.jsonl', '--out', 's3://Bad_Bucket/x'], env), 2, /--out: s3:\/\/Bad_Bucket\/x: "Bad_Bucket" is not a valid S3 bucket name/);
  });
});
