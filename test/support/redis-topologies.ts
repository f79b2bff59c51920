import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { createClient } from '@redis/client';

import { type AclUsers, type Certificates,makeCertificates, writeAclFile } from './redis-credentials.js';
import { DATA_NODE_READY, dataNodeDirectives, type Directive,freePorts, HOST, pairs, parseFields, RedisProcess, tempDir, until, writeConf } from './redis-process.js';

/**
 * The Redis deployments production runs, for tests: a Cluster (3 masters, 3 replicas), a Sentinel
 * group (a primary, a replica, 3 Sentinels) and a TLS server with an ACL user. Each runs real
 * `redis-server` processes on free ports, persists no data (a cluster node keeps its nodes.conf,
 * which is its identity, not data) in a temporary directory that `stop()` removes, and waits for
 * readiness by log lines, events, or a condition polled within a bound.
 *
 * By default each one also has ACL users (`users`): the service's user, limited to what the service
 * needs (`serviceAclRules`), and an admin for the tests' own resets; the default user is off.
 */

export { type AclUsers, type Certificates, type RedisUser,serviceAclRules } from './redis-credentials.js';
export { RedisProcess } from './redis-process.js';

const run = promisify(execFile);

/** Rejects with a clear message when `promise` has not settled within `ms` (a deadline for an awaited event). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function aclDirectives(users: AclUsers | undefined): Directive[] {
  // replicas authenticate to their primary as the admin
  return users ? [['aclfile', users.file], ['masteruser', users.admin.username], ['masterauth', users.admin.password]] : [];
}

/** `redis://127.0.0.1:<port>`, with the user when given. */
function urlOf(scheme: 'redis' | 'rediss', port: number, user?: { username: string; password: string }): string {
  const auth = user ? `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@` : '';
  return `${scheme}://${auth}${HOST}:${port}`;
}

// ───────────────────────────────────────────── Cluster ─────────────────────────────────────────────

export interface ClusterOptions {
  /** Masters, each with one replica (default 3: the smallest cluster that can fail a master over). */
  masters?: number;
  /** `cluster-node-timeout`: how long a master is unreachable before a failover starts (default 1000 ms). */
  nodeTimeoutMs?: number;
  /** ACL users (default true). */
  acl?: boolean;
  /** The service user's key and channel prefix (default `c360`). */
  keyPrefix?: string;
}

/** One line of CLUSTER NODES, as one node sees another. */
export interface ClusterNodeView {
  id: string;
  port: number;
  flags: string[];
  /** For a replica, the id of its master. */
  masterId: string | undefined;
  /** Slot ranges (`0-5460`) a master serves. */
  slots: string[];
  connected: boolean;
}

function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master, , , , link, ...slots] = line.trim().split(' ');
      return {
        id,
        port: Number(address.split('@')[0].split(':').pop()),
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        slots: slots.filter((s) => !s.startsWith('[')), // `[slot->-id]`: a slot being migrated
        connected: link === 'connected',
      };
    });
}

const isMaster = (n: ClusterNodeView) => n.flags.includes('master');
const isFailing = (n: ClusterNodeView) => n.flags.includes('fail') || n.flags.includes('fail?');

/** 3 masters + 3 replicas (by default), created with `redis-cli --cluster create`. */
export class RedisClusterTopology {
  private constructor(
    readonly nodes: RedisProcess[],
    readonly users: AclUsers | undefined,
    private readonly dir: { path: string; remove: () => Promise<void> },
  ) {}

  static async start(options: ClusterOptions = {}): Promise<RedisClusterTopology> {
    const masters = options.masters ?? 3;
    const count = masters * 2;
    const dir = await tempDir('redis-cluster');
    try {
      const users = options.acl === false ? undefined : await writeAclFile(dir.path, options.keyPrefix);
      const ports = await freePorts(count * 2); // a client port and a cluster bus port for each node
      const nodes: RedisProcess[] = [];
      for (let i = 0; i < count; i++) {
        const port = ports[i];
        const nodeDir = join(dir.path, String(port));
        await mkdir(nodeDir);
        const conf = await writeConf(join(nodeDir, 'redis.conf'), [
          ...dataNodeDirectives(port, nodeDir),
          ['cluster-enabled', 'yes'],
          ['cluster-port', String(ports[count + i])],
          ['cluster-config-file', 'nodes.conf'],
          ['cluster-node-timeout', String(options.nodeTimeoutMs ?? 1000)],
          // a replica may always take over (its data is as fresh as this test made it), and stays with its master
          ['cluster-replica-validity-factor', '0'],
          ['cluster-allow-replica-migration', 'no'],
          ...aclDirectives(users),
        ]);
        nodes.push(new RedisProcess(port, [conf], DATA_NODE_READY, users?.admin));
      }
      const cluster = new RedisClusterTopology(nodes, users, dir);
      try {
        await Promise.all(nodes.map((n) => n.start()));
        await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes', ...(users ? ['--user', users.admin.username] : [])], {
          env: { ...process.env, ...(users ? { REDISCLI_AUTH: users.admin.password } : {}) },
        });
        await cluster.settled('the new cluster to agree on every slot');
        return cluster;
      } catch (err) {
        await cluster.stop();
        throw err;
      }
    } catch (err) {
      await dir.remove();
      throw err;
    }
  }

  /** `127.0.0.1:p1,127.0.0.1:p2,…`: every node, as a service's node list. */
  get nodeList(): string {
    return this.nodes.map((n) => n.address).join(',');
  }

  /** Every node as a `createCluster` root node (`redis://127.0.0.1:<port>`; credentials go in `defaults`). */
  get rootNodes(): { url: string }[] {
    return this.nodes.map((n) => ({ url: urlOf('redis', n.port) }));
  }

  node(port: number): RedisProcess {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  }

  /** The cluster as `via` (default: the first running node) sees it. */
  async view(via?: RedisProcess): Promise<ClusterNodeView[]> {
    const node = via ?? this.nodes.find((n) => n.running);
    if (!node) throw new Error('no cluster node is running');
    return parseClusterNodes(String(await node.command(['CLUSTER', 'NODES'])));
  }

  /** The master that serves `key`'s slot now. */
  async masterOf(key: string): Promise<RedisProcess> {
    const via = this.nodes.find((n) => n.running);
    if (!via) throw new Error('no cluster node is running');
    const slot = Number(await via.command(['CLUSTER', 'KEYSLOT', key]));
    const owner = (await this.view(via)).find((n) => isMaster(n) && !isFailing(n) && n.slots.some((range) => inRange(slot, range)));
    if (!owner) throw new Error(`no master serves slot ${slot}`);
    return this.node(owner.port);
  }

  /** The replicas of `master`, as the cluster sees them now. */
  async replicasOf(master: RedisProcess): Promise<RedisProcess[]> {
    const view = await this.view(this.nodes.find((n) => n.running && n !== master));
    const id = view.find((n) => n.port === master.port)?.id;
    return view.filter((n) => n.masterId === id).map((n) => this.node(n.port));
  }

  /**
   * Kills a master (SIGKILL; default: the first master) and waits until one of its replicas has
   * taken its slots over and every running node reports the cluster ok again.
   */
  async killMaster(master?: RedisProcess): Promise<{ killed: RedisProcess; promoted: RedisProcess }> {
    const killed = master ?? this.node((await this.view()).find(isMaster)!.port);
    const replicas = await this.replicasOf(killed);
    if (replicas.length === 0) throw new Error(`the master on port ${killed.port} has no replica to take over`);
    await killed.kill();
    const promoted = await until(`a replica of ${killed.address} to take its slots over`, async () => {
      for (const replica of replicas) {
        if ((await replica.info('replication')).get('role') === 'master') return replica;
      }
      return undefined;
    });
    await this.settled(`the cluster to be ok again after ${promoted.address} took over from ${killed.address}`);
    return { killed, promoted };
  }

  /**
   * Starts a killed node again with the same configuration (its nodes.conf keeps its identity;
   * its data is gone). A master that was failed over rejoins as a replica of its successor.
   * Resolves when every node sees it and, as a replica, it is in sync.
   */
  async restart(node: RedisProcess): Promise<void> {
    await node.start();
    await this.settled(`${node.address} to rejoin the cluster`);
  }

  /** Stops every node and removes the directory. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    await this.dir.remove();
  }

  /**
   * Waits until every running node reports `cluster_state:ok` with every slot served, they all
   * agree on who is master and who replicates whom (each master with a replica in sync), and none
   * sees a running node as failing.
   */
  private async settled(what: string): Promise<void> {
    const running = () => this.nodes.filter((n) => n.running);
    await until(what, async () => {
      const live = running();
      const runningPorts = new Set(live.map((n) => n.port));
      let roles: string | undefined;
      for (const node of live) {
        const info = parseFields(String(await node.command(['CLUSTER', 'INFO'])), ':');
        if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_ok') !== '16384') return undefined;
        const view = await this.view(node);
        if (view.some((n) => runningPorts.has(n.port) && (isFailing(n) || (!n.connected && !n.flags.includes('myself'))))) return undefined;
        const summary = view
          .filter((n) => runningPorts.has(n.port))
          .map((n) => `${n.port}:${isMaster(n) ? 'M' : `S>${view.find((m) => m.id === n.masterId)?.port}`}`)
          .sort()
          .join(' ');
        if (roles !== undefined && summary !== roles) return undefined;
        roles = summary;
        if (!isMaster(view.find((n) => n.flags.includes('myself'))!) && (await node.info('replication')).get('master_link_status') !== 'up') return undefined;
      }
      return true;
    });
  }
}

function inRange(slot: number, range: string): boolean {
  const [from, to = from] = range.split('-').map(Number);
  return slot >= from && slot <= to;
}

// ───────────────────────────────────────────── Sentinel ─────────────────────────────────────────────

export interface SentinelOptions {
  /** The name the Sentinels monitor the primary under (default `c360-primary`). */
  masterName?: string;
  /** How long the primary is unreachable before a Sentinel thinks it down (default 1000 ms). */
  downAfterMs?: number;
  /** `failover-timeout` (default 2000 ms; the same primary name cannot fail over again within twice this). */
  failoverTimeoutMs?: number;
  /** ACL users on the data nodes (default true; the Sentinels themselves take no password). */
  acl?: boolean;
  keyPrefix?: string;
}

const sentinelId = () => randomBytes(20).toString('hex');

/**
 * A primary, one replica and 3 Sentinels (quorum 2) monitoring it. Each Sentinel has its own
 * writable configuration file, and knows the replica and the other Sentinels from it, so the group
 * is ready without waiting for Sentinel's discovery messages (every 2 s).
 */
export class RedisSentinelTopology {
  private constructor(
    readonly masterName: string,
    /** The data nodes: the first primary, then its replica (roles swap on failover). */
    readonly dataNodes: RedisProcess[],
    readonly sentinels: RedisProcess[],
    readonly users: AclUsers | undefined,
    private readonly dir: { path: string; remove: () => Promise<void> },
  ) {}

  static async start(options: SentinelOptions = {}): Promise<RedisSentinelTopology> {
    const name = options.masterName ?? 'c360-primary';
    const dir = await tempDir('redis-sentinel');
    try {
      const users = options.acl === false ? undefined : await writeAclFile(dir.path, options.keyPrefix);
      const [primaryPort, replicaPort, ...sentinelPorts] = await freePorts(5);
      const dataNode = async (port: number, extra: Directive[]) => {
        const nodeDir = join(dir.path, String(port));
        await mkdir(nodeDir);
        const conf = await writeConf(join(nodeDir, 'redis.conf'), [...dataNodeDirectives(port, nodeDir), ...aclDirectives(users), ...extra]);
        return new RedisProcess(port, [conf], DATA_NODE_READY, users?.admin);
      };
      const primary = await dataNode(primaryPort, []);
      const replica = await dataNode(replicaPort, [['replicaof', HOST, String(primaryPort)]]);
      const ids = sentinelPorts.map(sentinelId);
      const sentinels: RedisProcess[] = [];
      for (const [i, port] of sentinelPorts.entries()) {
        const conf = await writeConf(join(dir.path, `sentinel-${port}.conf`), [
          ['port', String(port)],
          ['bind', HOST],
          ['dir', dir.path],
          ['daemonize', 'no'],
          ['sentinel', 'myid', ids[i]],
          ['sentinel', 'monitor', name, HOST, String(primaryPort), '2'],
          ['sentinel', 'down-after-milliseconds', name, String(options.downAfterMs ?? 1000)],
          ['sentinel', 'failover-timeout', name, String(options.failoverTimeoutMs ?? 2000)],
          ['sentinel', 'parallel-syncs', name, '1'],
          ...(users ? ([['sentinel', 'auth-user', name, users.admin.username], ['sentinel', 'auth-pass', name, users.admin.password]] satisfies Directive[]) : []),
          ['sentinel', 'known-replica', name, HOST, String(replicaPort)],
          ...sentinelPorts.flatMap((other, j): Directive[] => (j === i ? [] : [['sentinel', 'known-sentinel', name, HOST, String(other), ids[j]]])),
        ]);
        sentinels.push(new RedisProcess(port, [conf, '--sentinel'], `+monitor master ${name}`));
      }
      const topology = new RedisSentinelTopology(name, [primary, replica], sentinels, users, dir);
      try {
        await Promise.all([primary.start(), replica.start()]);
        await Promise.all(sentinels.map((s) => s.start()));
        await topology.settled('the Sentinels to see the primary, its replica in sync and each other');
        return topology;
      } catch (err) {
        await topology.stop();
        throw err;
      }
    } catch (err) {
      await dir.remove();
      throw err;
    }
  }

  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`: the Sentinels, as a service's sentinel list. */
  get sentinelList(): string {
    return this.sentinels.map((s) => s.address).join(',');
  }

  /** The Sentinels as `createSentinel`'s `sentinelRootNodes`. */
  get sentinelRootNodes(): { host: string; port: number }[] {
    return this.sentinels.map((s) => ({ host: HOST, port: s.port }));
  }

  /** The data node the Sentinels name as primary now (asking the first running Sentinel). */
  async primary(): Promise<RedisProcess> {
    const sentinel = this.sentinels.find((s) => s.running);
    if (!sentinel) throw new Error('no Sentinel is running');
    const reply = (await sentinel.command(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName])) as string[] | null;
    if (!reply) throw new Error(`the Sentinels do not know ${this.masterName}`);
    return this.dataNode(Number(reply[1]));
  }

  dataNode(port: number): RedisProcess {
    const node = this.dataNodes.find((n) => n.port === port);
    if (!node) throw new Error(`no data node on port ${port}`);
    return node;
  }

  /**
   * Kills the primary (SIGKILL) and resolves when every running Sentinel has announced the new one
   * on its `+switch-master` channel (the event Sentinel publishes, not a poll): from then on any
   * Sentinel a client asks names the promoted replica.
   */
  async killPrimary(timeoutMs = 20_000): Promise<{ killed: RedisProcess; promoted: RedisProcess }> {
    const killed = await this.primary();
    const subscribers = await Promise.all(
      this.sentinels
        .filter((s) => s.running)
        .map(async (s) => {
          const client = createClient({ socket: { host: HOST, port: s.port, reconnectStrategy: false }, disableClientInfo: true, maintNotifications: 'disabled' });
          client.on('error', () => undefined);
          await client.connect();
          let announced!: (port: number) => void;
          const switched = new Promise<number>((resolve) => (announced = resolve));
          // "<master name> <old ip> <old port> <new ip> <new port>"
          await client.subscribe('+switch-master', (message) => {
            const [name, , , , port] = message.split(' ');
            if (name === this.masterName) announced(Number(port));
          });
          return { client, switched };
        }),
    );
    try {
      await killed.kill();
      const ports = await within(Promise.all(subscribers.map((s) => s.switched)), timeoutMs, `every Sentinel to announce a new primary for ${this.masterName}`);
      if (new Set(ports).size !== 1) throw new Error(`the Sentinels announced different primaries: ${ports.join(', ')}`);
      return { killed, promoted: this.dataNode(ports[0]) };
    } finally {
      for (const s of subscribers) s.client.destroy();
    }
  }

  /**
   * Starts a killed data node again, as a replica of the current primary: what the Sentinels make
   * of a returning former primary anyway, only without their 8 s wait before reconfiguring it. Its
   * data is gone; it resyncs. Resolves when it is in sync and every Sentinel sees it up.
   */
  async restart(node: RedisProcess): Promise<void> {
    const primary = await this.primary();
    if (primary === node) throw new Error(`${node.address} is still the primary`);
    await node.start(['--replicaof', HOST, String(primary.port)]);
    await this.settled(`${node.address} to be back as a replica of ${primary.address}`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.dataNodes].map((n) => n.kill()));
    await this.dir.remove();
  }

  /**
   * Waits until every running Sentinel sees the primary up, every running replica up with its link
   * to the primary up, and the other Sentinels connected.
   */
  private async settled(what: string): Promise<void> {
    const down = (flags: string | undefined) => flags === undefined || /s_down|o_down|disconnected/.test(flags);
    await until(what, async () => {
      const primary = await this.primary();
      const replicas = this.dataNodes.filter((n) => n.running && n !== primary);
      for (const replica of replicas) {
        const info = await replica.info('replication');
        if (info.get('role') !== 'slave' || info.get('master_port') !== String(primary.port) || info.get('master_link_status') !== 'up') return undefined;
      }
      for (const sentinel of this.sentinels.filter((s) => s.running)) {
        const master = pairs(await sentinel.command(['SENTINEL', 'MASTER', this.masterName]));
        if (master.get('port') !== String(primary.port) || down(master.get('flags'))) return undefined;
        const seen = ((await sentinel.command(['SENTINEL', 'REPLICAS', this.masterName])) as unknown[]).map(pairs);
        if (replicas.some((r) => down(seen.find((s) => s.get('port') === String(r.port))?.get('flags')))) return undefined;
        const others = ((await sentinel.command(['SENTINEL', 'SENTINELS', this.masterName])) as unknown[]).map(pairs);
        if (others.length !== this.sentinels.length - 1 || others.some((o) => this.sentinels.find((s) => String(s.port) === o.get('port'))?.running && down(o.get('flags')))) return undefined;
      }
      return true;
    });
  }
}

// ──────────────────────────────────────────── TLS + ACL ────────────────────────────────────────────

export interface TlsOptions {
  /**
   * `tls-auth-clients`: `optional` (default) accepts a client with or without a certificate (and
   * checks one that is shown), `required` refuses a client without one, `none` never asks.
   */
  clientCertificates?: 'optional' | 'required' | 'none';
  keyPrefix?: string;
}

/**
 * A `redis-server` that speaks TLS only (`--port 0`), with a server certificate from a CA made for
 * this run, the default user off and the service's ACL user.
 */
export class RedisTlsServer {
  readonly node: RedisProcess;

  private constructor(
    readonly port: number,
    readonly users: AclUsers,
    readonly certificates: Certificates,
    private readonly dir: { path: string; remove: () => Promise<void> },
    conf: string,
    private readonly tlsFiles: { ca: string; cert: string; key: string },
  ) {
    this.node = new RedisProcess(port, [conf], DATA_NODE_READY, { ...users.admin, tls: tlsFiles });
  }

  static async start(options: TlsOptions = {}): Promise<RedisTlsServer> {
    const dir = await tempDir('redis-tls');
    try {
      const users = await writeAclFile(dir.path, options.keyPrefix);
      const certificates = await makeCertificates(dir.path);
      const [port] = await freePorts(1);
      const clientAuth = { optional: 'optional', required: 'yes', none: 'no' }[options.clientCertificates ?? 'optional'];
      const conf = await writeConf(join(dir.path, 'redis.conf'), [
        ...dataNodeDirectives(0, dir.path), // port 0: no plain TCP listener
        ['tls-port', String(port)],
        ['tls-cert-file', certificates.serverCertFile],
        ['tls-key-file', certificates.serverKeyFile],
        ['tls-ca-cert-file', certificates.caFile],
        ['tls-auth-clients', clientAuth],
        ['aclfile', users.file],
      ]);
      const [ca, cert, key] = await Promise.all([certificates.caFile, certificates.clientCertFile, certificates.clientKeyFile].map((f) => readFile(f, 'utf8')));
      const server = new RedisTlsServer(port, users, certificates, dir, conf, { ca, cert, key });
      await server.node.start();
      return server;
    } catch (err) {
      await dir.remove();
      throw err;
    }
  }

  /** `rediss://c360:<password>@127.0.0.1:<port>`: the service's user. */
  get url(): string {
    return urlOf('rediss', this.port, this.users.service);
  }

  /** `rediss://c360-admin:<password>@127.0.0.1:<port>`: for the tests' own resets. */
  get adminUrl(): string {
    return urlOf('rediss', this.port, this.users.admin);
  }

  get caFile(): string {
    return this.certificates.caFile;
  }

  get clientCertFile(): string {
    return this.certificates.clientCertFile;
  }

  get clientKeyFile(): string {
    return this.certificates.clientKeyFile;
  }

  /** node-redis `socket` TLS options: trust the test CA, and show the client certificate unless told not to. */
  tlsSocket({ clientCertificate = true } = {}): { tls: true; ca: string; cert?: string; key?: string } {
    const { ca, cert, key } = this.tlsFiles;
    return clientCertificate ? { tls: true, ca, cert, key } : { tls: true, ca };
  }

  get running(): boolean {
    return this.node.running;
  }

  /** Kills the server (SIGKILL): an outage. */
  kill(): Promise<void> {
    return this.node.kill();
  }

  /** Starts it again on the same port, with the same certificates and users (and no data). */
  resume(): Promise<void> {
    return this.node.start();
  }

  /** Empties the database as the admin (starting the server first if it is down). */
  async flush(): Promise<void> {
    await this.resume();
    await this.node.command(['FLUSHALL']);
  }

  async stop(): Promise<void> {
    await this.node.kill();
    await this.dir.remove();
  }
}
