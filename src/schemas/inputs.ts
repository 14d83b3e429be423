/**
 * The whole job and run inputs, Hume model config included: what clients and activities parse.
 * Apart from the rest of src/schemas/ so that workflow code never loads Hume's schemas (see
 * `anyJobConfig`).
 */
import type { z } from 'zod';
import { JobConfig } from '../hume/schemas.js';
import { humeBatchInputSchema } from './batch.js';
import { humeJobInputSchema } from './humeJob.js';

export const HumeJobInput = humeJobInputSchema(JobConfig);
export type HumeJobInput = z.input<typeof HumeJobInput>;

export const HumeBatchInput = humeBatchInputSchema(JobConfig);
export type HumeBatchInput = z.input<typeof HumeBatchInput>;
