import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What the service's Redis user may do, and nothing more: the commands the service sends today
 * (and the commands its Lua scripts call: Redis checks those against the same user), on its keys
 * and channels under one prefix. Production's ACL should grant the same. A command the service
 * starts to use must be added here, or the topology tests refuse it with NOPERM: that is the point
 * (and since the service reads a failed cache command as a miss, such a test must check for hits,
 * not only for answers).
 *
 * - connection: PING; SELECT (a database number in the URL); CLUSTER SLOTS (how a node-redis 5
 *   cluster client learns the topology). AUTH and HELLO need no grant. Not granted, though a client
 *   may send them: CLIENT SETNAME (only with a client `name`), READONLY (only with `useReplicas`),
 *   CLIENT SETINFO (node-redis sends it and ignores the refusal; Redis 7.0 does not know it).
 * - data: GET/MGET/SET (cache, locks, replay marks); DEL, INCR, INCRBY, EXPIRE, PEXPIRE, PTTL (the
 *   lock release, rate-limit and throttle scripts); UNLINK inside MULTI/EXEC (the cache store's
 *   deletes, on invalidation); EVAL, and EVALSHA for scripts sent once and run by hash.
 * - pub/sub: PUBLISH/SUBSCRIBE/UNSUBSCRIBE, and the sharded SPUBLISH/SSUBSCRIBE/SUNSUBSCRIBE a
 *   cluster needs.
 */
export function serviceAclRules(keyPrefix: string): string[] {
  return [
    'resetkeys', `~${keyPrefix}:*`,
    'resetchannels', `&${keyPrefix}:*`,
    '-@all',
    '+ping', '+select', '+cluster|slots',
    '+get', '+mget', '+set', '+del', '+unlink', '+incr', '+incrby', '+hget', '+hset', '+hincrby', '+expire', '+pexpire', '+pttl',
    '+multi', '+exec', '+eval', '+evalsha',
    '+publish', '+subscribe', '+unsubscribe', '+spublish', '+ssubscribe', '+sunsubscribe',
  ];
}

export interface RedisUser {
  username: string;
  password: string;
}

export interface AclUsers {
  /** The ACL file to pass as `--aclfile`. */
  file: string;
  /** The service's user: `serviceAclRules` only. */
  service: RedisUser;
  /** Everything (tests' own resets and inspection, replication, Sentinels, `redis-cli --cluster`). */
  admin: RedisUser;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const secret = () => randomBytes(18).toString('base64url');

/**
 * Writes an ACL file: the default user switched off, the service's user and an admin, each with a
 * password made for this run. The file holds only their SHA-256 hashes, and no password ever
 * appears on a command line (where `ps` would show it).
 */
export async function writeAclFile(dir: string, keyPrefix = 'c360'): Promise<AclUsers> {
  const service = { username: 'c360', password: secret() };
  const admin = { username: 'c360-admin', password: secret() };
  const file = join(dir, 'users.acl');
  const lines = [
    'user default off resetkeys resetchannels -@all',
    `user ${service.username} on #${sha256(service.password)} ${serviceAclRules(keyPrefix).join(' ')}`,
    `user ${admin.username} on #${sha256(admin.password)} ~* &* +@all`,
  ];
  await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
  return { file, service, admin };
}

export interface Certificates {
  /** The test CA's certificate (PEM): what a client trusts. */
  caFile: string;
  /** The server's certificate and key, for 127.0.0.1 and localhost, signed by the CA. */
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate and key signed by the same CA, for mutual TLS. */
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and a client certificate, made with
 * `openssl` for this run (EC P-256: quick to generate; valid for a day).
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const path = (name: string) => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...key, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '1', '-subj', '/CN=c360 test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = async (name: string, subject: string, extensions: string) => {
    await openssl(['req', '-new', ...key, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject]);
    await writeFile(path(`${name}.ext`), extensions);
    await openssl(['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '1', '-extfile', path(`${name}.ext`), '-out', path(`${name}.crt`)]);
  };
  await issue('server', '/CN=localhost', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await issue('client', '/CN=c360', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  return {
    caFile: path('ca.crt'),
    serverCertFile: path('server.crt'),
    serverKeyFile: path('server.key'),
    clientCertFile: path('client.crt'),
    clientKeyFile: path('client.key'),
  };
}
