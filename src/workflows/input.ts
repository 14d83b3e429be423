/** Workflow input checked at entry: bad input fails the workflow at once, naming the field, instead of failing its task forever. */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeIssues } from '../schemas/issues.js';
import { FAILURE_TYPES } from './definitions.js';

export function parseWorkflowInput<S extends z.ZodType>(schema: S, input: unknown, workflow: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid ${workflow} input: ${describeIssues(parsed.error)}`, FAILURE_TYPES.invalidInput);
  }
  return parsed.data;
}
