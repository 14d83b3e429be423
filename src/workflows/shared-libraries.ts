/**
 * The libraries every workflow execution on a worker shares (`sharedWorkflowModules` in
 * worker.ts): loaded once per workflow thread instead of once per execution. Only libraries
 * without workflow state belong here. The SDK freezes what they export, so our own schemas
 * (zod completes them lazily) are still built per execution.
 */
import { z } from 'zod';

// zod completes its global config (default locale, memoizer) when it builds its first schema:
// done here, before the SDK freezes it, or every execution's first schema would fail.
z.object({ warm: z.string() }).safeParse({ warm: '' });

export { z };
