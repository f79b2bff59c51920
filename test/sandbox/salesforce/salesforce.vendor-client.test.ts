/**
 * The Salesforce simulator checked by jsforce 3, the JavaScript client Salesforce developers use:
 * OAuth 2.0 client-credentials login against the simulator's token endpoint, SOQL paged through
 * `nextRecordsUrl` past a batch (2,000 by default, `Sforce-Query-Options: batchSize=N` honoured
 * within 200..2,000), SOSL, single-record reads, errors as `[{message, errorCode}]` and the
 * `Sforce-Limit-Info` header, all parsed by jsforce itself over real HTTP; and the batched
 * look-ups (an IN list paged through `nextRecordsUrl`, a SOSL search of terms joined by OR) with
 * the request limits a batch meets (a 414 from the web tier, MALFORMED_QUERY for a long string).
 */
import { Connection, OAuth2, type Record as SfRecord } from 'jsforce';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SANDBOX_CREDENTIALS } from '../shared/credentials.js';
import { DEMO, demoCustomer, seededCustomers } from '../shared/seed.js';
import { SALESFORCE_ORG_ID, SALESFORCE_USER_ID, SalesforceSimulator } from './salesforce.simulator.js';

const { clientId, clientSecret } = SANDBOX_CREDENTIALS.salesforce;
const CUSTOMERS = seededCustomers(4500); // more Accounts than two default batches
const ACCOUNTS = CUSTOMERS.filter((c) => c.presentIn.salesforce);
const SOQL = 'SELECT Id, Name, Customer_Number__c FROM Account ORDER BY Customer_Number__c';

interface Account extends SfRecord {
  Id: string;
  Name: string;
  Customer_Number__c: string;
}

const sim = new SalesforceSimulator({ customers: CUSTOMERS });

async function login(secret: string = clientSecret): Promise<Connection> {
  const conn = new Connection({ oauth2: new OAuth2({ loginUrl: sim.url, clientId, clientSecret: secret }), version: '66.0' });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

/** What jsforce rejects with (its HttpApiError carries Salesforce's errorCode). */
async function failure(promise: PromiseLike<unknown>): Promise<{ errorCode?: string; name?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { errorCode?: string; name?: string; message?: string };
  }
  throw new Error('expected jsforce to reject');
}

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(() => {
  sim.reset();
});

describe('login (OAuth 2.0 client credentials)', () => {
  it("Connection.authorize({grant_type: 'client_credentials'}) establishes the session from the simulator's token response", async () => {
    const conn = new Connection({ oauth2: new OAuth2({ loginUrl: sim.url, clientId, clientSecret }), version: '66.0' });
    const user = await conn.authorize({ grant_type: 'client_credentials' });
    expect(user).toEqual({ id: SALESFORCE_USER_ID, organizationId: SALESFORCE_ORG_ID, url: `${sim.url}/id/${SALESFORCE_ORG_ID}/${SALESFORCE_USER_ID}` });
    expect(conn.instanceUrl).toBe(sim.url);
    expect(conn.accessToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(sim.requests('token')[0].body).toContain('grant_type=client_credentials');
  });

  it('a wrong client secret is refused (invalid_client) and no session is established', async () => {
    const err = await failure(login('wrong'));
    expect(err.name).toBe('invalid_client');
    expect(sim.tokens.count).toBe(0);
  });
});

describe('SOQL through jsforce', () => {
  it('pages through nextRecordsUrl in batches of 2,000 by default: totalSize, done and every record once', async () => {
    const conn = await login();
    const result = await conn.query<Account>(SOQL, { autoFetch: true, maxFetch: 10_000 });
    expect(result.done).toBe(true);
    expect(result.totalSize).toBe(ACCOUNTS.length);
    expect(result.records.map((r) => r.Id)).toEqual(ACCOUNTS.map((c) => c.salesforceId));
    expect(sim.callCount('query')).toBe(1);
    expect(sim.callCount('queryMore')).toBe(Math.ceil(ACCOUNTS.length / 2000) - 1);
  });

  it('the first page as jsforce sees it: done false, nextRecordsUrl, 2,000 records with their attributes; queryMore follows it', async () => {
    const conn = await login();
    const first = await conn.query<Account>(SOQL);
    expect(first.done).toBe(false);
    expect(first.totalSize).toBe(ACCOUNTS.length);
    expect(first.records).toHaveLength(2000);
    // jsforce hands the locator back as an absolute URL on the instance
    expect(first.nextRecordsUrl).toMatch(new RegExp(`^${sim.url}/services/data/v66\\.0/query/01g[A-Za-z0-9]{15}-2000$`));
    const c = ACCOUNTS[0];
    expect(first.records[0]).toEqual({
      attributes: { type: 'Account', url: `/services/data/v66.0/sobjects/Account/${c.salesforceId}` },
      Id: c.salesforceId,
      Name: c.name,
      Customer_Number__c: c.customerId,
    });
    const second = await conn.queryMore<Account>(first.nextRecordsUrl ?? '');
    expect(second.records[0].Id).toBe(ACCOUNTS[2000].salesforceId);
    expect(second.records).toHaveLength(2000);
  });

  it.each([
    { asked: '500', pageSize: 500 },
    { asked: '200', pageSize: 200 },
    { asked: '50', pageSize: 200 }, // below the minimum
    { asked: '5000', pageSize: 2000 }, // above the maximum
  ])('Sforce-Query-Options: batchSize=$asked → pages of $pageSize', async ({ asked, pageSize }) => {
    const conn = await login();
    // 'fetch' fires as each page arrives, before its records are added: the counts seen are page boundaries
    const boundaries: number[] = [];
    const query = conn.query<Account>(SOQL, { autoFetch: true, maxFetch: 10_000, headers: { 'Sforce-Query-Options': `batchSize=${asked}` } });
    query.on('fetch', () => boundaries.push(query.records.length));
    const result = await query;
    expect(result.records).toHaveLength(ACCOUNTS.length);
    boundaries.push(result.records.length);
    const sizes = boundaries.slice(1).map((n, i) => n - boundaries[i]);
    expect(sizes).toEqual([...Array.from({ length: Math.floor(ACCOUNTS.length / pageSize) }, () => pageSize), ...(ACCOUNTS.length % pageSize ? [ACCOUNTS.length % pageSize] : [])]);
    expect(sim.callCount('queryMore')).toBe(sizes.length - 1);
  });

  it('a malformed query is rejected with errorCode MALFORMED_QUERY from the [{message, errorCode}] body', async () => {
    const conn = await login();
    const err = await failure(conn.query("SELECT Id FROM Account WHERE Name = 'O'Neil'"));
    expect(err.errorCode).toBe('MALFORMED_QUERY');
    expect(err.message).not.toBe('');
  });

  it('an expired session (401): jsforce logs in again through its refreshFn and retries once', async () => {
    // client credentials issue no refresh token: the refresh is a new client-credentials login
    const conn = new Connection({
      oauth2: new OAuth2({ loginUrl: sim.url, clientId, clientSecret }),
      version: '66.0',
      refreshFn: (c, callback) => {
        c.oauth2.requestToken({ grant_type: 'client_credentials' }).then(
          (res) => callback(undefined, res.access_token, res),
          (err: unknown) => callback(err as Error),
        );
      },
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    const before = conn.accessToken;
    await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    const result = await conn.query<Account>(SOQL);
    expect(result.records).toHaveLength(2000);
    expect(conn.accessToken).not.toBe(before);
    expect(sim.callCount('token')).toBe(2);
    expect(sim.callCount('query')).toBe(2); // the 401 and the retry
  });

  it('without a way to refresh, the 401 body is parsed: INVALID_SESSION_ID; an exhausted limit is REQUEST_LIMIT_EXCEEDED (403)', async () => {
    const token = (await login()).accessToken ?? '';
    const bare = new Connection({ instanceUrl: sim.url, accessToken: token, version: '66.0' });
    await fetch(`${sim.url}/__sim/expire-tokens`, { method: 'POST' });
    const expired = await failure(bare.query(SOQL));
    expect(expired.errorCode).toBe('INVALID_SESSION_ID');
    expect(expired.message).toBe('Session expired or invalid');

    const fresh = await login();
    sim.setFaults({ rateLimitPerSecond: 0, only: ['query'] });
    expect((await failure(fresh.query(SOQL))).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
  });

  it('reads Sforce-Limit-Info into conn.limitInfo (calls so far of the daily 100,000)', async () => {
    const conn = await login();
    await conn.query(SOQL);
    expect(conn.limitInfo).toEqual({ apiUsage: { used: sim.callCount(), limit: 100_000 } });
    await conn.query(SOQL);
    expect(conn.limitInfo.apiUsage?.used).toBe(sim.callCount());
  });
});

describe('SOSL and single records through jsforce', () => {
  it('Connection.search → searchRecords with their attributes', async () => {
    const conn = await login();
    const c = demoCustomer(DEMO.healthy);
    const result = await conn.search(`FIND {\\${c.phone}} IN PHONE FIELDS RETURNING Account(Id, Name, Phone, Customer_Number__c)`);
    expect(result.searchRecords).toEqual([
      { attributes: { type: 'Account', url: `/services/data/v66.0/sobjects/Account/${c.salesforceId}` }, Id: c.salesforceId, Name: c.name, Phone: c.phone, Customer_Number__c: c.customerId },
    ]);
  });

  it('a malformed search is rejected with its errorCode', async () => {
    const conn = await login();
    const err = await failure(conn.search('FIND {+14155550100} IN PHONE FIELDS RETURNING Account(Id)'));
    expect(err.errorCode).toMatch(/^MALFORMED_(SEARCH|QUERY)$/);
  });

  it('SObject.retrieve reads one Account; an unknown Id is NOT_FOUND', async () => {
    const conn = await login();
    const c = demoCustomer(DEMO.healthy);
    const account = await conn.sobject('Account').retrieve(c.salesforceId);
    expect(account).toMatchObject({ attributes: { type: 'Account' }, Id: c.salesforceId, Name: c.name, Customer_Number__c: c.customerId });
    expect((await failure(conn.sobject('Account').retrieve('001000000000000AAA'))).errorCode).toBe('NOT_FOUND');
  });
});

describe('batched look-ups through jsforce', () => {
  it('an IN query of 600 customer numbers pages through nextRecordsUrl (batchSize=200) and returns exactly those Accounts', async () => {
    const conn = await login();
    const wanted = ACCOUNTS.filter((_, i) => i % 7 === 3).slice(0, 600);
    expect(wanted).toHaveLength(600);
    const soql = `SELECT Id, Customer_Number__c FROM Account WHERE Customer_Number__c IN (${wanted.map((c) => `'${c.customerId}'`).join(', ')}) ORDER BY Customer_Number__c`;
    const result = await conn.query<Account>(soql, { autoFetch: true, maxFetch: 10_000, headers: { 'Sforce-Query-Options': 'batchSize=200' } });
    expect(result.totalSize).toBe(600);
    expect(result.records.map((r) => r.Customer_Number__c)).toEqual(wanted.map((c) => c.customerId));
    expect(sim.callCount('queryMore')).toBe(2);
    expect(sim.batchSizes('query')).toEqual([600]);
  });

  it('Connection.search with phones joined by OR returns the Account of each phone', async () => {
    const conn = await login();
    const wanted = [ACCOUNTS[0], ACCOUNTS[10], ACCOUNTS[4000]];
    const result = await conn.search(`FIND {${wanted.map((c) => `\\${c.phone}`).join(' OR ')}} IN PHONE FIELDS RETURNING Account(Id, Customer_Number__c)`);
    expect(result.searchRecords.map((r) => (r as Account).Customer_Number__c).sort()).toEqual(wanted.map((c) => c.customerId).sort());
    expect(sim.batchSizes('search')).toEqual([3]);
  });

  it('a batch too long for the URI fails as jsforce reports a web-tier 414 (ERROR_HTTP_414 with the HTML body); the query never ran', async () => {
    const conn = await login();
    const ids = ACCOUNTS.slice(0, 1500).map((c) => `'${c.customerId}'`);
    const err = await failure(conn.query(`SELECT Id FROM Account WHERE Customer_Number__c IN (${ids.join(', ')})`));
    expect(err.errorCode).toBe('ERROR_HTTP_414');
    expect(err.message).toBe('<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>');
    expect(sim.batchSizes('query')).toEqual([]);
    expect(sim.calls().oversized).toBe(1);
  });

  it('a WHERE string over 4,000 characters is rejected with errorCode MALFORMED_QUERY', async () => {
    const conn = await login();
    const err = await failure(conn.query(`SELECT Id FROM Account WHERE Name = '${'a'.repeat(4001)}'`));
    expect(err.errorCode).toBe('MALFORMED_QUERY');
  });
});
