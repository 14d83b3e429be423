import { Client, Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';

describe('the shared Temporal dev server', () => {
  it('answers a real client on the address the global setup provides', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection });
      const info = await client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
      const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: 'default' });
      expect(namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });
});
