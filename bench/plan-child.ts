/**
 * Child process of benchmark 3: plans one manifest with the planning activity, as the worker runs
 * it, and reports time and peak RSS. Usage: plan-child.ts <manifest> <runDir>
 */
import { createManifestActivities } from '../src/activities/manifest.js';
import { report } from './child.js';
import { vm } from './proc.js';

export interface PlanFigures {
  ms: number;
  batches: number;
  /** RSS once loaded, before planning. */
  baseRss: number;
  peakRss: number;
}

const [path, runDir] = process.argv.slice(2);
if (!path || !runDir) throw new Error('usage: plan-child.ts <manifest> <runDir>');
const { humePlanManifest } = createManifestActivities();
const baseRss = vm('VmRSS');
const started = performance.now();
const plan = await humePlanManifest({ runDir, manifest: { path }, config: { models: { language: {} } } });
report({ ms: performance.now() - started, batches: plan.batches, baseRss, peakRss: vm('VmHWM') } satisfies PlanFigures);
