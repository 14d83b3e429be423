import type { z } from 'zod';

/** One line per problem, each naming the field: `config.models.face.prob_threshold: Too big: expected number to be <=1`. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
