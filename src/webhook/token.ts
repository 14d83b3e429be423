/**
 * The callback URL is our only authentication for Hume's callbacks (they are unsigned): it carries
 * the target workflow id and an HMAC of it, so nobody without the secret can signal a workflow.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Path prefix of callback URLs on the receiver. */
export const CALLBACK_PATH = '/hume/callback';

export function signWorkflowId(workflowId: string, secret: string): string {
  return createHmac('sha256', secret).update(workflowId, 'utf8').digest('base64url');
}

/**
 * Checks `token` against every accepted secret (the current one first, then older ones during a
 * rotation) in constant time.
 */
export function verifyWorkflowToken(workflowId: string, token: string, secrets: readonly string[]): boolean {
  const given = Buffer.from(token, 'utf8');
  let ok = false;
  for (const secret of secrets) {
    const expected = Buffer.from(signWorkflowId(workflowId, secret), 'utf8');
    // Compare every secret, without an early exit, so timing says nothing about which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/**
 * Without a receiver, jobs still get a callback URL, only so Hume echoes the submission key back:
 * a `.invalid` host (RFC 2606) never resolves, so nothing is ever called.
 */
export const NO_RECEIVER_BASE_URL = 'https://no-receiver.temporal-hume.invalid';

/**
 * `<base>/hume/callback/<workflow id>?token=…&key=…`. `key` identifies one submission; Hume echoes
 * the URL back in job details, which lets a retried submit find the job it already created.
 * Without a secret (no receiver) the URL carries no token.
 */
export function buildCallbackUrl(baseUrl: string, workflowId: string, secret: string | undefined, key: string): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${CALLBACK_PATH}/${encodeURIComponent(workflowId)}`;
  if (secret) url.searchParams.set('token', signWorkflowId(workflowId, secret));
  url.searchParams.set('key', key);
  return url.toString();
}

/** The submission key a callback URL carries, if any. */
export function submissionKeyOf(callbackUrl: string | null | undefined): string | undefined {
  if (!callbackUrl) return undefined;
  try {
    return new URL(callbackUrl).searchParams.get('key') ?? undefined;
  } catch {
    return undefined;
  }
}
