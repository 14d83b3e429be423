/** The documented payload variants (hume-batch-api.md §3, §4, §9) parse, and keep what they carry. */
import { describe, expect, it } from 'vitest';
import { ErrorBody, InferenceJob, Predictions } from '../../src/hume/schemas.js';

/** FERN's COMPLETED example, verbatim but for the elided job id. */
const FERN_COMPLETED = JSON.parse(`{"type":"INFERENCE","job_id":"9f1a2b3c-0000-4000-8000-000000000001","request":{"callback_url":null,"files":[],"models":{"burst":{},"face":{"descriptions":null,"facs":null,"fps_pred":3,"identify_faces":false,"min_face_size":60,"prob_threshold":0.99,"save_faces":false},"facemesh":{},"language":{"granularity":"word","identify_speakers":false,"sentiment":null,"toxicity":null},"ner":{"identify_speakers":false},"prosody":{"granularity":"utterance","identify_speakers":false,"window":null}},"notify":true,"text":[],"urls":["https://hume-tutorials.s3.amazonaws.com/faces.zip"]},
 "state":{"status":"COMPLETED","created_timestamp_ms":1712590457884,"started_timestamp_ms":1712590457995,"ended_timestamp_ms":1712590462252,"num_predictions":10,"num_errors":0}}`);

const withState = (state: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...FERN_COMPLETED,
  ...extra,
  state,
});

describe('InferenceJob', () => {
  it('parses the FERN COMPLETED example', () => {
    const job = InferenceJob.parse(FERN_COMPLETED);
    expect(job.state).toMatchObject({ status: 'COMPLETED', num_predictions: 10, num_errors: 0 });
    expect(job.request.models?.face).toMatchObject({ facs: null, fps_pred: 3 });
  });

  it('keeps user_id and unknown fields, at every level', () => {
    const job = InferenceJob.parse({
      ...FERN_COMPLETED,
      user_id: 'a0b1c2d3-0000-4000-8000-0000000000aa',
      new_top_level: 1,
      request: { ...FERN_COMPLETED.request, new_request_field: 'x' },
      state: { ...FERN_COMPLETED.state, queue_position: 3 },
    });
    expect(job.user_id).toBe('a0b1c2d3-0000-4000-8000-0000000000aa');
    expect(job).toMatchObject({ new_top_level: 1, request: { new_request_field: 'x' }, state: { queue_position: 3 } });
  });

  it('accepts explicit nulls for optional fields and unrequested models (2023 payload)', () => {
    const job = InferenceJob.parse({
      type: null,
      job_id: 'j',
      user_id: null,
      request: {
        callback_url: null,
        files: [{ filename: null, content_type: null, md5sum: 'd41d8cd98f00b204e9800998ecf8427e' }],
        models: { burst: null, face: null, facemesh: null, language: null, ner: null, prosody: { granularity: 'utterance' } },
        notify: null,
        transcription: null,
        urls: null,
        registry_files: null,
      },
      state: { status: 'QUEUED', created_timestamp_ms: 1 },
    });
    expect(job.request.models?.burst).toBeNull();
    expect(job.request.text).toBeUndefined(); // absent in the 2023 payload
  });

  it('parses FAILED without a message, and with one', () => {
    expect(InferenceJob.parse(withState({ status: 'FAILED', created_timestamp_ms: 1 })).state.status).toBe('FAILED');
    const failed = InferenceJob.parse(
      withState({ status: 'FAILED', created_timestamp_ms: 1, started_timestamp_ms: 2, ended_timestamp_ms: 3, message: "user 'u' has exceeded their usage limit" }),
    );
    expect(failed.state).toMatchObject({ message: "user 'u' has exceeded their usage limit" });
  });

  it('keeps an unknown status value and unknown job type', () => {
    const job = InferenceJob.parse(withState({ status: 'CANCELLED', created_timestamp_ms: 5, reason: 'x' }, { type: 'NEW_KIND' }));
    expect(job.state).toEqual({ status: 'CANCELLED', created_timestamp_ms: 5, reason: 'x' });
    expect(job.type).toBe('NEW_KIND');
  });

  it('refuses a known status that lacks its fields, rather than passing it off as unknown', () => {
    expect(InferenceJob.safeParse(withState({ status: 'COMPLETED', created_timestamp_ms: 1 })).success).toBe(false);
  });

  it('accepts floats where integers were sent (float32 artifacts)', () => {
    const job = InferenceJob.parse({
      ...FERN_COMPLETED,
      request: {
        ...FERN_COMPLETED.request,
        models: { face: { fps_pred: 3.0, min_face_size: 60.0, prob_threshold: 0.9900000095367432 } },
      },
      state: { ...FERN_COMPLETED.state, num_predictions: 10.0, created_timestamp_ms: 1712590457884.0 },
    });
    expect(job.request.models?.face).toMatchObject({ prob_threshold: 0.9900000095367432 });
  });
});

describe('Predictions', () => {
  const score = (name: string) => ({ name, score: 0.123456789 });

  it('parses url, file and text sources with file_type, nulls and per-file errors', () => {
    const predictions = Predictions.parse([
      {
        source: { type: 'url', url: 'https://hume-tutorials.s3.amazonaws.com/faces.zip' },
        results: {
          predictions: [
            {
              file: 'faces/100.jpg',
              models: {
                face: {
                  metadata: null,
                  grouped_predictions: [
                    {
                      id: 'unknown',
                      predictions: [
                        { frame: 0, time: 0, prob: 0.9994, box: { x: 1187.9, y: 1397.7, w: 1401.7, h: 1961.4 }, emotions: [score('Joy')], facs: null, descriptions: null },
                      ],
                    },
                  ],
                },
              },
            },
          ],
          errors: [{ message: 'transcript confidence (0.0) below threshold value (0.5)', file: 'faces/101.jpg' }],
        },
      },
      {
        source: { type: 'file', filename: 'audio.wav', content_type: 'audio/wav', md5sum: 'abc' },
        results: {
          predictions: [
            {
              file: 'audio.wav',
              file_type: 'audio',
              models: {
                prosody: {
                  metadata: { confidence: 0.936, detected_language: 'ja' },
                  grouped_predictions: [
                    { id: 'unknown', predictions: [{ text: '…', time: { begin: 4.22, end: 6.64 }, confidence: 0.927, speaker_confidence: null, emotions: [score('Calmness')] }] },
                  ],
                },
              },
            },
          ],
          errors: [],
        },
      },
      { source: { type: 'text' }, results: null, error: 'download failed' },
      { source: { type: 'registry', id: 'r1' }, error: null },
    ]);
    expect(predictions[1]?.results?.predictions[0]).toMatchObject({ file_type: 'audio' });
    expect(predictions[2]).toMatchObject({ error: 'download failed' });
    expect(predictions[3]?.source).toEqual({ type: 'registry', id: 'r1' });
  });
});

describe('ErrorBody', () => {
  it('reads {message} and the Apigee fault shape', () => {
    expect(ErrorBody.parse({ message: 'job not found' })).toMatchObject({ message: 'job not found' });
    expect(ErrorBody.parse({ fault: { faultstring: 'Invalid ApiKey', detail: { errorcode: 'x' } } })).toMatchObject({
      fault: { faultstring: 'Invalid ApiKey' },
    });
  });
});
