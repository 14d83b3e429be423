/** How our workflows take part in Worker Versioning (CONTRIBUTING, "Rolling out a workflow change"). */
import type { WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/**
 * Pinned on a worker that belongs to a worker deployment, nothing otherwise: the SDK refuses a
 * declared behaviour from an unversioned worker (whose version is only a build id, no deployment).
 */
export const pinnedWhenVersioned = (): WorkflowDefinitionOptions =>
  workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'PINNED' } : {};
