/**
 * Workflow entry point, safe inside the Temporal sandbox: bundle it with `workflowsPath` or import
 * from `temporal-hume/workflows` to start our workflows as children of your own.
 */
export { humeJob } from './humeJob.js';
export { humeBatch } from './humeBatch.js';
export * from './definitions.js';
export { humeFailureOf, type FailureDetails, type HumeFailure } from './failures.js';
