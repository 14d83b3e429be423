/**
 * `npm start` is `temporal-hume demo`: from nothing to a results folder, on an embedded Temporal
 * dev server and the Hume-compatible server. Run as a user would, twice, and interrupted.
 */
import { mkdtempSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForLine } from '../helpers/spawn.js';

const env = { ...process.env, HUME_API_KEY: '' };
const examples = (await readFile(new URL('../../examples/manifest.jsonl', import.meta.url), 'utf8')).trim().split('\n');
const mediaItems = examples.filter((line) => line.includes('"file"')).length;

describe('temporal-hume demo', () => {
  const out = mkdtempSync(join(tmpdir(), 'demo-'));

  it('runs the examples to a complete results folder, and again', async () => {
    for (let round = 1; round <= 2; round++) {
      const demo = await runCli(['demo', '--out', out], env);
      expect(demo.code, demo.stderr).toBe(0);
      expect(demo.stderr).toMatch(/using the Hume-compatible server/);
      const folder = /^folder\s+(\S+)$/m.exec(demo.stdout)?.[1];
      expect(folder, demo.stdout).toBeTruthy();
      const index = (await readFile(join(folder!, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      // Every example, plus each media file once more as a loopback URL.
      expect(index).toHaveLength(examples.length + mediaItems);
      expect(index.every((row) => row.status === 'completed')).toBe(true);
      expect((await readdir(join(folder!, 'csv'))).sort()).toEqual(['burst.csv', 'face.csv', 'language.csv', 'prosody.csv']);
      expect(JSON.parse(await readFile(join(folder!, 'summary.json'), 'utf8'))).toMatchObject({ state: 'completed' });
    }
    expect((await readdir(out)).filter((name) => name.startsWith('demo-'))).toHaveLength(2);
  }, 240_000);

  it('with --backend face=face-api, writes the real face model\'s boxes and seven expressions to csv/face.csv', async () => {
    const demo = await runCli(['demo', '--out', out, '--backend', 'face=face-api'], env);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stderr).toMatch(/^backends: face=face-api \(real, 7 expressions\), others synthetic$/m);
    const folder = /^folder\s+(\S+)$/m.exec(demo.stdout)?.[1];
    const [header, ...lines] = (await readFile(join(folder!, 'csv', 'face.csv'), 'utf8')).trim().split('\n');
    const columns = header!.split(',');
    expect(columns.slice(columns.indexOf('prob') + 1, columns.indexOf('other_scores'))).toEqual(['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised']);
    const rows = lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell])));
    // face-api's own sample1.jpg has three faces (its test records their boxes); hash-derived scores could not place them.
    const sample1 = rows.filter((row) => row.item_id === 'face-api-sample1').map((row) => [Number(row.box_x), Number(row.box_y)]);
    expect(sample1).toHaveLength(3);
    expect(sample1).toEqual(expect.arrayContaining([[776, 445], [1421, 215], [335, 395]]));
    for (const row of rows) {
      const seven = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'].map((name) => Number(row[name]));
      expect(seven.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    }
  }, 240_000);

  it('stops everything cleanly on Ctrl-C', async () => {
    const demo = spawnCli(['demo', '--out', out], env);
    const [, address] = await waitForLine(demo, /Temporal at (\S+),/);
    await waitForLine(demo, /run \S+ started/);
    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));
    demo.kill('SIGINT');
    expect(await exited).toBe(130);
    // The embedded dev server went with it.
    await expect(Connection.connect({ address: address!, connectTimeout: 1_000 })).rejects.toThrow();
  }, 120_000);
});
