/**
 * Shards written at fetch make the same CSVs as a finalize that has to write them itself (a folder
 * from before shards), also when a later job's predictions carry score names the run's header
 * lacks: that job's rows are laid out again under the run's header, the extra names in `other_scores`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Predictions } from '../../src/hume/schemas.js';
import { SourceMatcher } from '../../src/results/mapping.js';
import { writeShards } from '../../src/results/shards.js';
import type { ItemRecord } from '../../src/schemas/batch.js';
import { createFsStore } from '../../src/store/fs.js';
import { finalize, item, jsonlLoader, manifestLine, mapSources, range, urlResult, writeRun, type RunFixture } from './helpers.js';
import { fileOf } from '../../src/store/storage.js';

const ITEMS = [item(1, 'url', 'https://x.test/one.jpg', 'one', { k: 1 }), item(2, 'url', 'https://x.test/two.jpg', 'two')];
const RANGES = [range(0, 1, 1, 1), range(1, 2, 2, 1)];

/** A face prediction for `url` whose `facs` has these names (never published, so the first job's decide). */
function withFacs(url: string, names: string[]): Predictions[number] {
  const result = urlResult(url);
  for (const group of result.results!.predictions[0]!.models.face!.grouped_predictions) {
    for (const p of group.predictions) p.facs = names.map((name, i) => ({ name, score: i / 10 }));
  }
  return result;
}

let dir: string;
const predictionsOf = [[withFacs('https://x.test/one.jpg', ['AU1', 'AU2'])], [withFacs('https://x.test/two.jpg', ['AU2', 'AU3'])]];
const fixture = (): RunFixture => ({
  manifest: ITEMS.map(manifestLine),
  ranges: RANGES,
  invalid: [],
  jobs: RANGES.map((r, b) => ({
    outcome: { batch: b, jobId: `job-${b}`, status: 'COMPLETED' as const, predictionsPath: `jobs/${b}-job-${b}/predictions.json`, items: mapSources(predictionsOf[b]!, [ITEMS[b]!]) },
    predictions: predictionsOf[b]!,
  })),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shards-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('gives the same CSVs from fetch-time shards as from shards finalize writes, under the first job’s header', async () => {
  const fetched = await writeRun(join(dir, 'fetched'), fixture());
  const store = createFsStore(fetched.runDir);
  for (const r of RANGES) {
    // As humeFetchResults does: each job's shards from its own first predictions.
    const matcher = new SourceMatcher(await jsonlLoader(fetched.plan.manifest, r, fetched.validation));
    await writeShards(store, `jobs/${r.index}-job-${r.index}`, fileOf(store, `jobs/${r.index}-job-${r.index}/predictions.json`), {
      jobId: `job-${r.index}`,
      claim: (_, source): ItemRecord | undefined => matcher.claim(source),
    });
  }
  const second = JSON.parse(await readFile(join(fetched.runDir, 'jobs/1-job-1/shard.json'), 'utf8')) as { specs: { face: { facs: string[] } } };
  expect(second.specs.face.facs).toEqual(['AU2', 'AU3']);
  await finalize(fetched);

  const old = await writeRun(join(dir, 'before-shards'), fixture());
  await finalize(old);

  const face = await readFile(join(fetched.runDir, 'csv/face.csv'), 'utf8');
  expect(face).toBe(await readFile(join(old.runDir, 'csv/face.csv'), 'utf8'));
  const [header, one, two] = parse(face) as string[][];
  expect(header!.filter((c) => c.startsWith('facs_'))).toEqual(['facs_AU1', 'facs_AU2']);
  const column = (name: string) => header!.indexOf(name);
  expect([one![0], one![column('facs_AU1')], one![column('facs_AU2')], one![column('other_scores')], one![column('meta.k')]]).toEqual(['one', '0', '0.1', '', '1']);
  expect([two![0], two![column('facs_AU1')], two![column('facs_AU2')], two![column('other_scores')], two![column('meta.k')]]).toEqual(['two', '', '0', '{"facs":{"AU3":0.1}}', '']);
});
