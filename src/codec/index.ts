export {
  createEncryptionCodec,
  isEncrypted,
  CodecKeyError,
  PayloadDecryptionError,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  type CodecKey,
} from './encryption.js';
export { codecKeysFromEnv, dataConverterFromEnv } from './env.js';
export { buildCodecServer, startCodecServer, type CodecServerOptions, type RunningCodecServer } from './server.js';
