/** `temporal-hume/emulator`: a Hume-compatible batch API (v0) server for demos and tests. */
export { startHumeEmulator } from './emulator.js';
export type { HumeEmulator } from './emulator.js';
export { DEFAULTS as EMULATOR_DEFAULTS } from './options.js';
export type { EmulatorLogger, FailNextRule, FaultRoute, Faults, HumeEmulatorOptions } from './options.js';
export type { EmulatorStats } from './stats.js';
export { parseBackendSpecs } from './backends/index.js';
export type { BackendInfo, BackendResult, BackendSource, BackendsOption, HttpBackendOptions, ModelBackend } from './backends/index.js';
export { signCallback } from './callbacks.js';
