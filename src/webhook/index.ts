export { buildReceiver, startReceiver } from './receiver.js';
export type { ReceiverOptions, ListenOptions, RunningReceiver } from './receiver.js';
export { buildCallbackUrl, signWorkflowId, verifyWorkflowToken, submissionKeyOf, CALLBACK_PATH } from './token.js';
