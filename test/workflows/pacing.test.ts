import { describe, expect, it } from 'vitest';
import {
  isAccountFailureMessage,
  isAccountFailureType,
  jitter,
  MAX_RESUBMIT_DELAY_MS,
  OUTAGE_FIRST_WAIT_MS,
  OUTAGE_MAX_WAIT_MS,
  outageWaitMs,
  resubmitDelayMs,
} from '../../src/workflows/pacing.js';

describe('pacing', () => {
  it('jitters by a factor in [0.8, 1.2), the same for the same job and count, different across jobs', () => {
    const factors = Array.from({ length: 200 }, (_, i) => jitter(`hume-run-x/batch-${i}`, 1));
    expect(factors.every((f) => f >= 0.8 && f < 1.2)).toBe(true);
    expect(new Set(factors.map((f) => f.toFixed(3))).size).toBeGreaterThan(150);
    expect(jitter('job', 3)).toBe(jitter('job', 3));
    expect(jitter('job', 3)).not.toBe(jitter('job', 4));
  });

  it('waits before a resubmission: the base, doubling per attempt, at most 10 minutes', () => {
    const at = (attempt: number) => resubmitDelayMs(30_000, attempt, 'job') / jitter('job', attempt);
    expect(at(2)).toBeCloseTo(30_000, -1);
    expect(at(3)).toBeCloseTo(60_000, -1);
    expect(at(10)).toBeCloseTo(MAX_RESUBMIT_DELAY_MS, -1);
  });

  it('hands an outage over to timers from 30 s, doubling to 10 minutes', () => {
    const waits: number[] = [];
    for (let w = 5_000, i = 0; i < 8; i++) waits.push((w = outageWaitMs(w)));
    expect(waits[0]).toBe(OUTAGE_FIRST_WAIT_MS);
    expect(waits.at(-1)).toBe(OUTAGE_MAX_WAIT_MS);
    expect(waits).toEqual([...waits].sort((a, b) => a - b));
  });

  it('tells account-level failures from job failures by phrase, not by word', () => {
    for (const message of [
      "user 'u-1' has exceeded their usage limit",
      'Usage limit exceeded',
      'quota exceeded for this month',
      'insufficient credits',
      'Payment required',
      'account is suspended',
    ]) expect(isAccountFailureMessage(message), message).toBe(true);
    for (const message of [
      'could not decode /media/credits-roll.mp4',
      'file billing-meeting.wav has no audio track',
      'transcription failed: payment_terms.txt is empty',
      'media decoder crashed',
      undefined,
    ]) expect(isAccountFailureMessage(message), String(message)).toBe(false);
    expect(isAccountFailureType('HUME_UNAUTHORIZED')).toBe(true);
    expect(isAccountFailureType('HUME_FORBIDDEN')).toBe(true);
    expect(isAccountFailureType('HUME_RATE_LIMITED')).toBe(false);
  });
});
