/** How our workflows take part in Worker Versioning (CONTRIBUTING, "Rolling out a workflow change"). */
import type { WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/**
 * Pinned on a worker that belongs to a worker deployment, nothing otherwise: the server refuses a
 * declared behaviour from an unversioned worker (whose version is only a build id, no deployment).
 */
export const pinnedWhenVersioned = (): WorkflowDefinitionOptions =>
  workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'PINNED' } : {};

/**
 * The server's own suggestion to continue as new, heeded once a run has done some work: some
 * servers (1.30.0) suggest it on every task of a pinned run whose build is no longer current,
 * which a run continuing onto that same build would do forever.
 */
export const MIN_EVENTS_BEFORE_SUGGESTED_CAN = 50;

export function continueAsNewSuggested(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested && info.historyLength >= MIN_EVENTS_BEFORE_SUGGESTED_CAN;
}

/** This run's build, to tell a move that took from one that did not. */
export const currentBuild = (): string | undefined => workflowInfo().currentDeploymentVersion?.buildId || undefined;

/**
 * A newer build was made current, and this run is not one that already tried to move off this
 * build and landed on it again (a pinned override is inherited across continue-as-new; servers
 * before 1.31 keep signalling then).
 */
export function newBuildIsCurrent(triedToLeave: string | undefined): boolean {
  return workflowInfo().targetWorkerDeploymentVersionChanged && (triedToLeave === undefined || currentBuild() !== triedToLeave);
}
