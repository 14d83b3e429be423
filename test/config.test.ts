import { describe, expect, it } from 'vitest';
import { callbackBaseUrl, ConfigError, connectReason, loadHumeEnv, loadTemporalConnectConfig, TemporalUnreachableError, webhookSecrets } from '../src/config.js';

describe('configuration from the environment', () => {
  it('has defaults for everything but the secrets', () => {
    expect(loadHumeEnv({})).toMatchObject({
      HUME_BASE_URL: 'https://api.hume.ai',
      TEMPORAL_TASK_QUEUE: 'temporal-hume',
      HUME_WEBHOOK_HOST: '127.0.0.1',
      HUME_WEBHOOK_PORT: 8787,
      HUME_WEBHOOK_RECEIVER: 'on',
      HUME_MAX_REQUESTS_PER_SECOND: 10,
      HUME_MAX_CONCURRENT_TRANSFERS: 4,
    });
    expect(loadTemporalConnectConfig({})).toMatchObject({ connectionOptions: { address: 'localhost:7233' }, namespace: 'default' });
  });

  it('reads Temporal settings the way Temporal tools do', () => {
    expect(loadTemporalConnectConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'research' })).toMatchObject({
      connectionOptions: { address: 'temporal:7233' },
      namespace: 'research',
    });
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => loadHumeEnv({ HUME_BASE_URL: 'ftp://x' })).toThrow(/HUME_BASE_URL/);
    expect(() => loadHumeEnv({ HUME_WEBHOOK_SECRET: 'short' })).toThrow(/HUME_WEBHOOK_SECRET: must be at least 16 characters/);
    expect(() => loadHumeEnv({ HUME_WEBHOOK_RECEIVER: 'maybe' })).toThrow(/HUME_WEBHOOK_RECEIVER/);
    expect(() => loadHumeEnv({ HUME_MAX_REQUESTS_PER_SECOND: '0' })).toThrow(/HUME_MAX_REQUESTS_PER_SECOND/);
    expect(() => loadHumeEnv({ HUME_MAX_REQUESTS_PER_SECOND: 'fast' })).toThrow(/HUME_MAX_REQUESTS_PER_SECOND/);
    expect(() => loadHumeEnv({ HUME_MAX_CONCURRENT_TRANSFERS: '0' })).toThrow(/HUME_MAX_CONCURRENT_TRANSFERS/);
    expect(() => loadHumeEnv({ HUME_MAX_CONCURRENT_TRANSFERS: '2.5' })).toThrow(/HUME_MAX_CONCURRENT_TRANSFERS/);
    expect(() => loadHumeEnv({ HUME_CALLBACK_BASE_URL: 'https://cb.example.com' })).toThrow(ConfigError);
    expect(() => loadHumeEnv({ HUME_CALLBACK_BASE_URL: 'https://cb.example.com' })).toThrow(/HUME_WEBHOOK_SECRET is not/);
  });

  it('reads the request rate to Hume, fractions included', () => {
    expect(loadHumeEnv({ HUME_MAX_REQUESTS_PER_SECOND: '2.5' }).HUME_MAX_REQUESTS_PER_SECOND).toBe(2.5);
    expect(loadHumeEnv({ HUME_MAX_REQUESTS_PER_SECOND: '' }).HUME_MAX_REQUESTS_PER_SECOND).toBe(10);
  });

  it('accepts the previous webhook secret during a rotation, current first', () => {
    const config = loadHumeEnv({ HUME_WEBHOOK_SECRET: 'the-new-secret-0123', HUME_WEBHOOK_SECRET_PREVIOUS: 'the-old-secret-0123' });
    expect(webhookSecrets(config)).toEqual(['the-new-secret-0123', 'the-old-secret-0123']);
  });

  it('HUME_CALLBACK_BASE_URL=auto: the receiver\'s own address, for a loopback receiver of the worker\'s own only', () => {
    const secret = { HUME_WEBHOOK_SECRET: 'the-new-secret-0123' };
    const config = loadHumeEnv({ ...secret, HUME_CALLBACK_BASE_URL: 'auto', HUME_WEBHOOK_PORT: '0' });
    expect(config).toMatchObject({ HUME_CALLBACK_BASE_URL: 'auto', HUME_WEBHOOK_PORT: 0 });
    expect(callbackBaseUrl(config, 'http://127.0.0.1:41234')).toBe('http://127.0.0.1:41234');
    expect(callbackBaseUrl(loadHumeEnv({ ...secret, HUME_CALLBACK_BASE_URL: 'https://cb.example.com' }), 'http://127.0.0.1:1')).toBe('https://cb.example.com');
    expect(() => loadHumeEnv({ ...secret, HUME_CALLBACK_BASE_URL: 'auto', HUME_WEBHOOK_HOST: '0.0.0.0' })).toThrow(/auto is for a receiver on a loopback address \(HUME_WEBHOOK_HOST is 0\.0\.0\.0\)/);
    expect(() => loadHumeEnv({ ...secret, HUME_CALLBACK_BASE_URL: 'auto', HUME_WEBHOOK_RECEIVER: 'off' })).toThrow(/HUME_WEBHOOK_RECEIVER=on/);
    expect(() => loadHumeEnv({ HUME_CALLBACK_BASE_URL: 'auto' })).toThrow(/HUME_WEBHOOK_SECRET is not/);
    expect(() => loadHumeEnv({ ...secret, HUME_CALLBACK_BASE_URL: 'automatic' })).toThrow(/HUME_CALLBACK_BASE_URL/);
  });

  it('cuts a Temporal connection error to its reason, naming the address', () => {
    const refused = new Error(
      'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
    );
    const dns = new Error(
      'tonic::transport::Error(Transport, ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, error: "failed to lookup address information: Name or service not known" })))',
    );
    expect(new TemporalUnreachableError('127.0.0.1:1', refused).message).toBe('cannot reach Temporal at 127.0.0.1:1 (Connection refused)');
    expect(connectReason(dns)).toBe('failed to lookup address information: Name or service not known');
    expect(connectReason(new Error('Failed to connect before the deadline'))).toBe('no answer before the connect timeout');
  });
});
