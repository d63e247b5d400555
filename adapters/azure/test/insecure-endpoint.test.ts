import { azureBucket } from '@polycloud/azure/blob';
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { afterEach, describe, expect, it } from 'vitest';

// A connection string or endpoint naming plain http off this machine is refused before any I/O
// unless allowed; Azurite on loopback (and the development-storage shorthand) stays allowed.
const KEY = Buffer.from('not-a-real-key').toString('base64');
const remote = (proto: string) =>
  `DefaultEndpointsProtocol=${proto};AccountName=acct;AccountKey=${KEY};EndpointSuffix=core.windows.net`;
const refused = (host: string) => (e: unknown) =>
  isPolycloudError(e, 'INVALID_ARGUMENT') &&
  e.message.includes(host) &&
  e.message.includes('allowInsecureHttp') &&
  !e.message.includes(KEY);

describe('Azure: a plain-http endpoint off this machine is refused unless allowed', () => {
  afterEach(() => {
    delete process.env.AZURE_STORAGE_CONNECTION_STRING;
  });

  it('from a connection string (option or AZURE_STORAGE_CONNECTION_STRING) and the endpoint option', async () => {
    const driverOptions = { connectionString: remote('http') };
    await expect(openBucket('azblob://ccc', { driverOptions })).rejects.toSatisfy(
      refused('acct.blob.core.windows.net'),
    );
    await expect(openQueue('azqueue://qqq', { driverOptions })).rejects.toSatisfy(
      refused('acct.queue.core.windows.net'),
    );
    await expect(openKv('aztable://ttt', { driverOptions })).rejects.toSatisfy(
      refused('acct.table.core.windows.net'),
    );
    process.env.AZURE_STORAGE_CONNECTION_STRING = remote('http');
    await expect(openBucket('azblob://ccc')).rejects.toSatisfy(refused('AZURE_STORAGE_CONNECTION_STRING'));
    expect(() =>
      azureBucket({ container: 'c', account: 'a', accountKey: KEY, endpoint: 'http://10.1.1.1:10000/a' }),
    ).toThrow(/allowInsecureHttp/);
    await expect(
      openBucket(`azblob://ccc?account=a&endpoint=${encodeURIComponent('http://10.1.1.1:10000/a')}`, {
        driverOptions: { accountKey: KEY },
      }),
    ).rejects.toSatisfy(refused('http://10.1.1.1:10000'));
  });

  it('allowInsecureHttp (URL parameter or driverOptions), https and loopback open', async () => {
    const opened = [
      await openBucket('azblob://ccc?allowInsecureHttp=true', {
        driverOptions: { connectionString: remote('http') },
      }),
      await openQueue('azqueue://qqq', {
        driverOptions: { connectionString: remote('http'), allowInsecureHttp: true },
      }),
      await openKv('aztable://ttt', { driverOptions: { connectionString: remote('https') } }),
      await openBucket('azblob://ccc', { driverOptions: { connectionString: 'UseDevelopmentStorage=true' } }),
    ];
    for (const o of opened) await o.close();
  });
});
