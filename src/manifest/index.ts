export { detectFormat } from './format.js';
export { ManifestError } from './errors.js';
export { type ManifestEntry, type ReadOptions, readManifest } from './reader.js';
export { type ItemValidator, type ValidationContext, createValidator } from './validate.js';
export { type ManifestPlan, type PlanSinks, planManifestFile } from './plan-manifest.js';
export { type SliceItems, itemsOfSlice } from './slice-items.js';
export { JsonlWriter, readJsonlPage } from './jsonl-file.js';
