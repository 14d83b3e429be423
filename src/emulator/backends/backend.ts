/**
 * Where one model's scores come from. The emulator's job machinery (states, callbacks, limits,
 * faults, listing, artifacts) never changes; a backend only answers "this model, on this file".
 */
import type { ModelName } from '../../hume/schemas.js';
import type { MediaKind } from '../media.js';
import type { ModelOutput } from '../predictions.js';

/** One file to predict for: a whole source, or one entry of an archive. */
export interface BackendSource {
  /** Reported as `predictions[].file`: the upload's name, the URL's last segment, an archive entry's path. */
  file: string;
  kind: Exclude<MediaKind, 'archive' | 'unknown'>;
  /** The file's bytes (a text as UTF-8) on local disk; absent when the emulator has no bytes (an unfetched URL). */
  path?: string;
  contentType?: string | null;
}

/** What a backend says about itself, on the startup line and `GET /v0/info`. */
export interface BackendInfo {
  model: ModelName;
  /** `synthetic`, `face-api`, or the model server's URL. */
  backend: string;
  /** False for hash-derived scores. */
  real: boolean;
  /** Expression names this backend scores, when they are not Hume's. */
  labels?: readonly string[];
  /** Request options honoured, and those echoed but ignored. */
  honoured?: readonly string[];
  ignored?: readonly string[];
  note?: string;
}

/** A model's output in Hume's shape, or one per-file error message. */
export type BackendResult = { output: ModelOutput } | { error: string };

export interface ModelBackend {
  info(): BackendInfo;
  /**
   * Predicts `model` for one file. `config` is the model's entry of the job request's `models`
   * (`{}` when given without options). Failures of the model (a timeout, a bad answer, an
   * unreadable image) are returned as `{ error }`, never thrown: a job must not get stuck.
   * Thrown errors are reserved for `signal` aborts.
   */
  predict(source: BackendSource, config: Record<string, unknown>, signal: AbortSignal): Promise<BackendResult>;
  /** Frees what `create` loaded (model weights, connection pools). */
  close?(): Promise<void>;
}
