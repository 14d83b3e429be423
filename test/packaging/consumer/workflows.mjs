// A consumer's own workflows file: its own parent workflow beside ours, re-exported.
import { executeChild } from '@temporalio/workflow';

export { humeBatch, humeJob } from 'temporal-hume/workflows';

/** Runs a batch and a single job as children, and returns where the batch's results are. */
export async function survey({ outDir, resultDir, texts }) {
  const batch = await executeChild('humeBatch', {
    workflowId: `${outDir.split('/').pop()}-batch`,
    args: [{ items: texts.map((text) => ({ text })), outDir, config: { models: { language: {} } } }],
  });
  const job = await executeChild('humeJob', {
    workflowId: `${outDir.split('/').pop()}-job`,
    args: [{ texts, config: { models: { language: {} } }, resultDir, polling: { firstPollAfter: 100 } }],
  });
  return { batch, job };
}
