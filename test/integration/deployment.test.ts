import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { allBindings, loadConfig } from '../../src/config/load-config.js';
import { Metrics } from '../../src/observability/metrics.js';

/*
 * The container image, the Helm chart and the Grafana dashboard agree with the service: every
 * setting the chart can give exists in the config module and vice versa, secrets only ever arrive
 * as mounted files, the values schema refuses what would deploy something unsafe, and the
 * dashboard queries only series the service registers. helm is not needed to run these checks.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'helm/customer360');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Tree = Record<string, unknown>;
const values = parseYaml(read('helm/customer360/values.yaml')) as Tree;
const schema = JSON.parse(read('helm/customer360/values.schema.json')) as Tree;
const config = values.config as Record<string, string | number | boolean>;
const secrets = values.secrets as { existingSecret: string; mountPath: string; files: Record<string, string> };
const ports = values.ports as { http: number; management: number };

const bindings = allBindings();
const secretNames = bindings.filter((b) => b.secret).map((b) => b.name);

/** Set by the chart itself (deployment.yaml), so absent from values.config. */
const FIXED_BY_CHART: Record<string, string> = {
  NODE_ENV: 'production',
  HOST: '0.0.0.0',
  PORT: String(ports.http),
  MANAGEMENT_PORT: String(ports.management),
};

/** Values whose empty default the chart fills in itself (configmap.yaml). */
const DERIVED_BY_CHART = ['EXPECTED_REPLICAS'];

/** How the service parses a binding (load-config.ts: an 'auto' type follows the default's type). */
function effectiveType(b: (typeof bindings)[number]): 'number' | 'boolean' | 'list' | 'string' {
  if (b.type !== 'auto') return b.type;
  const d = b.defaultValue;
  return typeof d === 'number' ? 'number' : typeof d === 'boolean' ? 'boolean' : Array.isArray(d) ? 'list' : 'string';
}

/** A default as the string an environment variable would hold ('' = none). */
function defaultAsEnv(value: unknown): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Helm's merge of user values over the chart's: maps merge, null deletes, anything else replaces. */
function withValues(patch: Tree, base: Tree = values): Tree {
  const out: Tree = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = withValues(v, out[k]);
    else out[k] = v;
  }
  return out;
}
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
const templates = filesUnder(join(CHART, 'templates')).map((path) => ({ name: relative(CHART, path), text: readFileSync(path, 'utf8') }));
const template = (name: string): string => templates.find((t) => t.name === `templates/${name}`)?.text ?? '';

// Helm validates values with a draft-07 validator (as the schema declares)
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
/** 'No errors', or each error with where it is and what it names (e.g. the additional property). */
const errorsOf = (v: Tree): string => (validate(v) ? 'No errors' : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n'));

describe('values.schema.json', () => {
  it('is a valid draft-07 schema whose patterns Go (RE2, as helm uses) can compile too', () => {
    expect(ajv.validateSchema(schema), ajv.errorsText(ajv.errors)).toBe(true);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const patterns = [...JSON.stringify(schema).matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) expect(p, `no look-around or back-references: ${p}`).not.toMatch(/\(\?[=!<]|\\[1-9]/);
  });

  it('accepts the chart defaults', () => {
    expect(errorsOf(values)).toBe('No errors');
  });

  it('accepts a typical production override: ingress with allowlist and mTLS, CSI secrets, a pinned image', () => {
    const prod = withValues({
      image: { repository: 'registry.example.com/customer360', digest: `sha256:${'ab'.repeat(32)}` },
      config: { LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: '25000', SALESFORCE_ENABLED: 'false', SAP_AUTH: 'oauth', EXPECTED_REPLICAS: 6 },
      secrets: { existingSecret: '', csi: { enabled: true, secretProviderClass: 'customer360-vault' }, files: { SAP_PASSWORD: '', SAP_OAUTH_CLIENT_SECRET: 'sap-oauth-client-secret' } },
      ingress: {
        enabled: true,
        allowedSourceRanges: ['52.1.2.0/24', '2001:db8::/32'],
        mtls: { enabled: true, caSecret: 'contact-center/genesys-client-ca' },
        hosts: [{ host: 'c360.example.com', paths: [{ path: '/genesys', pathType: 'Prefix' }, { path: '/v1/webhooks', pathType: 'Prefix' }] }],
        tls: [{ secretName: 'c360-tls', hosts: ['c360.example.com'] }],
      },
      serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      grafanaDashboard: { enabled: true, namespace: 'monitoring' },
    });
    expect(errorsOf(prod)).toBe('No errors');
  });

  it.each([
    ['a secret placed under config', { config: { REDIS_URL: 'redis://:hunter2@redis:6379/0' } }, 'REDIS_URL'],
    ['a secret value where its file key belongs', { secrets: { files: { SAP_PASSWORD: 's3cr3t/value with spaces' } } }, 'SAP_PASSWORD'],
    ['a non-secret setting under secrets.files', { secrets: { files: { LOG_LEVEL: 'log-level' } } }, 'LOG_LEVEL'],
    ['a setting the service does not know', { config: { SALESFORCE_PASSWORD: 'x' } }, 'SALESFORCE_PASSWORD'],
    ['a word where a number belongs', { config: { CACHE_FRESH_TTL_MS: 'thirty seconds' } }, 'CACHE_FRESH_TTL_MS'],
    ['a word where a boolean belongs', { config: { SAP_ENABLED: 'yes please' } }, 'SAP_ENABLED'],
    ['a string replica count', { replicaCount: '3' }, 'replicaCount'],
    ['an unknown top-level key', { replicas: 3 }, 'replicas'],
    ['several replicas without Redis', { secrets: { files: { REDIS_URL: '' } } }, 'REDIS_URL'],
    ['a writable root filesystem', { securityContext: { readOnlyRootFilesystem: false } }, 'readOnlyRootFilesystem'],
    ['privilege escalation', { securityContext: { allowPrivilegeEscalation: true } }, 'allowPrivilegeEscalation'],
    ['running as root', { podSecurityContext: { runAsNonRoot: false, runAsUser: 0 } }, 'runAsNonRoot'],
    ['capabilities kept', { securityContext: { capabilities: { drop: ['NET_RAW'] } } }, 'capabilities'],
    ['/metrics on the ingress', { ingress: { enabled: true, hosts: [{ host: 'a.example.com', paths: [{ path: '/metrics', pathType: 'Prefix' }] }] } }, 'path'],
    ['the whole service on the ingress', { ingress: { enabled: true, hosts: [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }] } }, 'path'],
    ['mTLS without a CA', { ingress: { mtls: { enabled: true } } }, 'caSecret'],
    ['an allowlist entry that is no CIDR', { ingress: { allowedSourceRanges: ['genesys'] } }, 'allowedSourceRanges'],
    ['CSI without a SecretProviderClass', { secrets: { csi: { enabled: true } } }, 'secretProviderClass'],
    ['an image digest that is a tag', { image: { digest: 'latest' } }, 'digest'],
  ])('rejects %s', (_what, patch, mentioned) => {
    const errors = errorsOf(withValues(patch as Tree));
    expect(errors).not.toBe('No errors');
    expect(errors).toContain(mentioned);
  });

  it('lets a single replica run without Redis (in-memory cache)', () => {
    expect(errorsOf(withValues({ autoscaling: { enabled: false }, replicaCount: 1, secrets: { files: { REDIS_URL: '' } } }))).toBe('No errors');
  });
});

describe('chart ⇄ config module', () => {
  const configKeys = Object.keys(config);
  const fileKeys = Object.keys(secrets.files);
  const schemaConfig = ((schema.properties as Tree).config as { properties: Tree }).properties;
  const schemaFiles = (((schema.properties as Tree).secrets as { properties: Tree }).properties.files as { properties: Tree }).properties;

  it('can set exactly the settings the service reads: config keys + secret files + the ones the chart fixes', () => {
    const chartSettable = [...configKeys, ...fileKeys, ...Object.keys(FIXED_BY_CHART)];
    expect(new Set(chartSettable).size, 'each setting has one place in the chart').toBe(chartSettable.length);
    expect([...chartSettable].sort()).toEqual(bindings.map((b) => b.name).sort());
  });

  it('gives every secret only as a file, never as a value', () => {
    expect([...fileKeys].sort()).toEqual([...secretNames].sort());
    for (const name of secretNames) {
      expect(configKeys, `${name} is a secret`).not.toContain(name);
      expect(Object.keys(schemaConfig), `${name} is a secret`).not.toContain(name);
    }
    const all = templates.map((t) => t.text).join('\n');
    expect(all, 'no env var takes a value from a Secret').not.toMatch(/secretKeyRef|secretRef/);
    expect(all, 'the chart never creates a Secret').not.toMatch(/^kind:\s*Secret\s*$/m);
    expect(template('configmap.yaml')).not.toContain('.Values.secrets');
    // the deployment turns each mapped key into <NAME>_FILE=<mountPath>/<key>
    expect(template('deployment.yaml')).toMatch(/range \$name, \$key := \.Values\.secrets\.files[\s\S]*?- name: \{\{ \$name \}\}_FILE\s+value: \{\{ printf "%s\/%s" \$\.Values\.secrets\.mountPath \$key/);
    expect(secrets.mountPath).toMatch(/^\/var\/run\/secrets\//);
  });

  it('sets the fixed settings in the deployment and nothing else by name', () => {
    const deployment = template('deployment.yaml');
    const literalEnv = [...deployment.matchAll(/^\s*- name: ([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1]);
    expect(literalEnv.sort()).toEqual(Object.keys(FIXED_BY_CHART).sort());
    expect(deployment).toMatch(/- name: NODE_ENV\s+value: production/);
    expect(deployment).toMatch(/- name: HOST\s+value: "0\.0\.0\.0"/);
    expect(deployment).toMatch(/- name: PORT\s+value: \{\{ include "customer360\.settingValue" \.Values\.ports\.http \| quote \}\}/);
    expect(deployment).toMatch(/- name: MANAGEMENT_PORT\s+value: \{\{ include "customer360\.settingValue" \.Values\.ports\.management \| quote \}\}/);
    expect(deployment).toMatch(/envFrom:\s+- configMapRef:\s+name: \{\{ include "customer360\.fullname" \. \}\}/);
    expect(template('configmap.yaml')).toContain('range $name, $value := .Values.config');
  });

  it('types each setting in the schema the way the service parses it', () => {
    expect(Object.keys(schemaConfig).sort()).toEqual([...configKeys].sort());
    expect(Object.keys(schemaFiles).sort()).toEqual([...secretNames].sort());
    const expected = { number: '#/definitions/integerSetting', boolean: '#/definitions/booleanSetting', list: '#/definitions/listSetting', string: '#/definitions/stringSetting' };
    for (const b of bindings.filter((x) => x.name in schemaConfig)) {
      expect((schemaConfig[b.name] as { $ref: string }).$ref, b.name).toBe(expected[effectiveType(b)]);
    }
  });

  it("mirrors the service's defaults, so an untouched key changes nothing", () => {
    const differing = bindings
      .filter((b) => b.name in config && config[b.name] !== '' && String(config[b.name]) !== defaultAsEnv(b.defaultValue))
      .map((b) => `${b.name}: chart ${String(config[b.name])}, service ${defaultAsEnv(b.defaultValue)}`);
    expect(differing).toEqual([]);
    for (const name of DERIVED_BY_CHART) expect(config[name], `${name} is filled in by the chart`).toBe('');
    expect(template('configmap.yaml')).toMatch(/eq \$name "EXPECTED_REPLICAS"[\s\S]*customer360\.maxReplicas/);
  });

  it('yields a configuration the service accepts in production once the site-specific values are filled in', () => {
    const autoscaling = values.autoscaling as { enabled: boolean; maxReplicas: number };
    const env: Record<string, string> = { ...FIXED_BY_CHART };
    for (const [name, value] of Object.entries(config)) if (value !== '') env[name] = String(value);
    env.EXPECTED_REPLICAS = String(autoscaling.enabled ? autoscaling.maxReplicas : values.replicaCount);
    Object.assign(env, {
      SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
      SALESFORCE_CLIENT_ID: 'connected-app-key',
      SAP_BASE_URL: 'https://s4.acme.example',
      SAP_USERNAME: 'C360_TECH',
      SERVICENOW_BASE_URL: 'https://acme.service-now.com',
      SERVICENOW_USERNAME: 'c360.integration',
      TOKEN_CLIENT_ID: 'genesys-data-actions',
      PUBLIC_BASE_URL: 'https://c360.acme.example',
    });
    const files: Record<string, string> = {};
    for (const [name, key] of Object.entries(secrets.files)) {
      if (!key) continue;
      const path = `${secrets.mountPath}/${key}`;
      env[`${name}_FILE`] = path;
      files[path] = name === 'REDIS_URL' ? 'redis://redis.contact-center.svc:6379/0\n' : `${name.toLowerCase()}-0123456789abcdef0123456789\n`;
    }
    const read: string[] = [];
    const cfg = loadConfig(env, (path) => {
      read.push(path);
      if (!(path in files)) throw new Error(`no such file ${path}`);
      return files[path];
    });
    expect(cfg.server.mode).toBe('production');
    expect(cfg.server.port).toBe(ports.http);
    expect(cfg.server.managementPort).toBe(ports.management);
    expect(cfg.redis.url).toBe('redis://redis.contact-center.svc:6379/0');
    expect(read.sort()).toEqual(Object.keys(files).sort());
  });

  it('keeps the image, the chart and package.json in step', () => {
    const chart = parseYaml(read('helm/customer360/Chart.yaml')) as Tree;
    const pkg = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(pkg.version);
    const security = values.securityContext as { runAsUser: number };
    expect(dockerfile().user).toBe(String(security.runAsUser));
    expect(dockerfile().exposed).toEqual(expect.arrayContaining([String(ports.http), String(ports.management)]));
    expect(pkg.scripts.start).toBe(`node ${dockerfile().entrypoint[1]}`);
  });
});

describe('chart templates (a lint without helm)', () => {
  const actionsOf = (text: string): string[] => {
    const actions: string[] = [];
    let at = 0;
    for (;;) {
      const open = text.indexOf('{{', at);
      const close = text.indexOf('}}', at);
      if (open === -1) {
        expect(close, 'a "}}" without "{{"').toBe(-1);
        return actions;
      }
      expect(close, 'a "{{" without "}}"').toBeGreaterThan(open);
      const next = text.indexOf('{{', open + 2);
      expect(next === -1 || next > close, 'a "{{" inside an action').toBe(true);
      actions.push(text.slice(open + 2, close).replace(/^-\s*/, '').replace(/\s*-$/, '').trim());
      at = close + 2;
    }
  };

  it('has the layout helm create gives, with the resources the deployment needs', () => {
    const names = templates.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        '_helpers.tpl', 'NOTES.txt', 'configmap.yaml', 'deployment.yaml', 'grafana-dashboard.yaml', 'hpa.yaml', 'ingress.yaml', 'networkpolicy.yaml',
        'pdb.yaml', 'service.yaml', 'serviceaccount.yaml', 'servicemonitor.yaml', 'tests/test-connection.yaml',
      ].map((n) => `templates/${n}`).sort(),
    );
    for (const f of ['Chart.yaml', 'values.yaml', 'values.schema.json', '.helmignore', 'dashboards/customer360.json']) expect(statSync(join(CHART, f)).isFile(), f).toBe(true);
  });

  it('balances {{ }} and every if/range/with/define with an end', () => {
    for (const t of templates) {
      let depth = 0;
      for (const action of actionsOf(t.text)) {
        if (action.startsWith('/*')) {
          expect(action.endsWith('*/'), `${t.name}: unterminated comment`).toBe(true);
          continue;
        }
        if (/^(if|range|with|define|block)\b/.test(action)) depth++;
        else if (/^else\b/.test(action)) expect(depth, `${t.name}: else outside a block`).toBeGreaterThan(0);
        else if (action === 'end') depth--;
        expect(depth, `${t.name}: an end without a block`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${t.name}: a block without an end`).toBe(0);
    }
  });

  it('refers only to values that exist in values.yaml', () => {
    const missing: string[] = [];
    for (const t of templates) {
      const aliases = new Map<string, string>();
      for (const m of t.text.matchAll(/\$(\w+)\s*:=\s*\.Values((?:\.\w+)+)/g)) aliases.set(m[1], m[2]);
      const refs = [...t.text.matchAll(/(?<![\w$])\$?\.Values((?:\.\w+)+)/g)].map((m) => m[1]);
      for (const m of t.text.matchAll(/\$(\w+)((?:\.\w+)+)/g)) if (aliases.has(m[1])) refs.push(aliases.get(m[1]) + m[2]);
      for (const ref of refs) {
        let node: unknown = values;
        for (const key of ref.slice(1).split('.')) {
          if (!isMap(node) || !(key in node)) {
            missing.push(`${t.name}: .Values${ref}`);
            break;
          }
          node = node[key];
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('includes only templates it defines and ships the files it reads', () => {
    const all = templates.map((t) => t.text).join('\n');
    const defined = new Set([...all.matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    for (const m of all.matchAll(/include "([^"]+)"/g)) expect(defined, m[1]).toContain(m[1]);
    for (const m of all.matchAll(/\.Files\.Get "([^"]+)"/g)) expect(statSync(join(CHART, m[1])).isFile(), m[1]).toBe(true);
  });

  it('gates the optional resources by their switch and uses current API versions', () => {
    const gates: Array<[string, string, string]> = [
      ['ingress.yaml', 'if .Values.ingress.enabled', 'networking.k8s.io/v1'],
      ['hpa.yaml', 'if .Values.autoscaling.enabled', 'autoscaling/v2'],
      ['pdb.yaml', 'if and .Values.podDisruptionBudget.enabled (gt (include "customer360.minReplicas" . | int) 1)', 'policy/v1'],
      ['networkpolicy.yaml', 'if .Values.networkPolicy.enabled', 'networking.k8s.io/v1'],
      ['servicemonitor.yaml', 'if .Values.serviceMonitor.enabled', 'monitoring.coreos.com/v1'],
      ['grafana-dashboard.yaml', 'if .Values.grafanaDashboard.enabled', 'v1'],
      ['serviceaccount.yaml', 'if .Values.serviceAccount.create', 'v1'],
    ];
    for (const [file, gate, apiVersion] of gates) {
      const text = template(file);
      expect(actionsOf(text)[0], file).toBe(gate);
      expect(text, file).toContain(`apiVersion: ${apiVersion}\n`);
    }
    expect(template('deployment.yaml')).toContain('apiVersion: apps/v1\n');
  });

  it('runs the pod locked down, probed on the management port, rolled on config change and drained gently', () => {
    const d = template('deployment.yaml');
    expect(d).toMatch(/startupProbe:\s+httpGet:\s+path: \/health\/live\s+port: management/);
    expect(d).toMatch(/livenessProbe:\s+httpGet:\s+path: \/health\/live\s+port: management/);
    expect(d).toMatch(/readinessProbe:\s+httpGet:\s+path: \/health\/ready\s+port: management/);
    expect(d).toContain('checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}');
    expect(d).toContain('automountServiceAccountToken: false');
    expect(d).toMatch(/preStop:\s+sleep:\s+seconds: \{\{ \.Values\.shutdown\.preStopSleepSeconds \}\}/);
    expect(d).toContain('terminationGracePeriodSeconds: {{ include "customer360.terminationGracePeriodSeconds" . }}');
    expect(d).toMatch(/- name: tmp\s+mountPath: \/tmp/);
    const helpers = template('_helpers.tpl');
    expect(helpers).toMatch(/define "customer360.terminationGracePeriodSeconds"[\s\S]*SHUTDOWN_GRACE_MS[\s\S]*preStopSleepSeconds[\s\S]*extraGraceSeconds[\s\S]*?end/);
    const pod = values.podSecurityContext as Tree;
    const container = values.securityContext as Tree;
    expect(pod).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container).toMatchObject({ runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const resources = values.resources as { requests: Tree; limits: Tree };
    expect(Object.keys(resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(resources.limits.memory, 'a memory limit (a leak restarts the pod instead of starving the node)').toMatch(/^\d+(Mi|Gi)$/);
  });

  it('keeps health and metrics off the public paths: management Service, ServiceMonitor and NetworkPolicy use the management port', () => {
    expect(template('service.yaml')).toMatch(/name: \{\{ include "customer360.managementName" \. \}\}[\s\S]*type: ClusterIP[\s\S]*- name: management/);
    expect(template('servicemonitor.yaml')).toMatch(/- port: management\s+path: \/metrics/);
    expect(template('ingress.yaml')).toMatch(/port:\s+name: http\b/);
    expect(template('ingress.yaml')).toContain('nginx.ingress.kubernetes.io/whitelist-source-range');
    expect(template('ingress.yaml')).toContain('nginx.ingress.kubernetes.io/auth-tls-secret');
    const np = template('networkpolicy.yaml');
    expect(np).toMatch(/- port: http\b/);
    expect(np).toMatch(/- port: management\b/);
    expect(np).toMatch(/port: 53\s+protocol: UDP\s+- port: 53\s+protocol: TCP/);
    expect(np).toContain('$np.egress.redis.port');
    expect(np).toContain('policyTypes:\n    - Ingress\n    - Egress');
  });
});

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** An exec-form (JSON array) instruction's words; a shell-form one yields ['/bin/sh', '-c', …] as Docker runs it. */
function execForm(args: string | undefined): string[] {
  if (args === undefined) return [];
  try {
    const words: unknown = JSON.parse(args);
    if (Array.isArray(words) && words.every((w) => typeof w === 'string')) return words;
  } catch {
    // shell form
  }
  return ['/bin/sh', '-c', args];
}

/** The Dockerfile as stages of instructions (comments dropped, continuation lines joined). */
function dockerfile(): { globalArgs: Instruction[]; stages: Stage[]; user?: string; exposed: string[]; entrypoint: string[] } {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.trim() };
    if (instruction.keyword === 'FROM') {
      const [, from, name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0) globalArgs.push(instruction);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  const final = stages[stages.length - 1];
  const last = (k: string) => final.instructions.filter((i) => i.keyword === k).pop();
  return {
    globalArgs,
    stages,
    user: last('USER')?.args.split(':')[0],
    exposed: final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)),
    entrypoint: execForm(last('ENTRYPOINT')?.args),
  };
}

describe('Dockerfile', () => {
  const { globalArgs, stages, user, entrypoint } = dockerfile();
  const final = stages[stages.length - 1];
  const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  it('builds from the current Node LTS line on a slim Debian base, overridable by build args', () => {
    const nodeVersion = globalArgs.find((a) => a.args.startsWith('NODE_VERSION='))?.args.split('=')[1];
    expect(Number(nodeVersion) % 2, 'LTS lines are even').toBe(0);
    expect(Number(nodeVersion)).toBeGreaterThanOrEqual(24);
    expect(globalArgs.map((a) => a.args)).toContain('NODE_IMAGE=node:${NODE_VERSION}-trixie-slim');
    for (const s of stages) expect(s.from).toBe('${NODE_IMAGE}');
  });

  it('is multi-stage: production dependencies in one stage, the build in another, neither tool chain in the image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const deps = stages.find((s) => runs(s).some((r) => /npm ci\b.*--omit=dev/.test(r)));
    expect(deps?.name).toBeDefined();
    const build = stages.find((s) => runs(s).some((r) => r.includes('npm run build')));
    expect(build?.name).toBeDefined();
    expect(final).not.toBe(deps);
    expect(final).not.toBe(build);
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain(`--from=${deps?.name} /app/node_modules ./node_modules`);
    expect(copies).toContain(`--from=${build?.name} /app/dist/src ./dist/src`);
    expect(copies.some((c) => /\bdist\/test\b|\/app\/dist \./.test(c)), 'the sandbox under dist/test stays out').toBe(false);
    expect(runs(final).some((r) => /npm (ci|install|i)\b/.test(r)), 'nothing installed in the final stage').toBe(false);
    expect(final.instructions).toContainEqual({ keyword: 'ENV', args: 'NODE_ENV=production' });
  });

  it('runs as a numeric non-root user, with no HEALTHCHECK, and node itself as PID 1 (exec form)', () => {
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    expect(stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'HEALTHCHECK')).toBe(false);
    expect(entrypoint).toEqual(['node', 'dist/src/main.js']);
    expect(final.instructions.some((i) => i.keyword === 'CMD')).toBe(false);
  });

  it('keeps the build context clean with .dockerignore', () => {
    const ignored = read('.dockerignore').split(/\r?\n/).map((l) => l.trim());
    for (const entry of ['node_modules', '.git', 'dist', 'coverage', 'test-artifacts', 'bench-results', '.env', '.env.*', '*.log']) expect(ignored, entry).toContain(entry);
    for (const kept of ['src', 'test', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(ignored, `${kept} is needed by the build`).not.toContain(kept);
  });
});

describe('Grafana dashboard', () => {
  interface Target {
    expr: string;
    datasource: { uid: string };
  }
  interface Panel {
    id: number;
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: Target[];
    gridPos: { x: number; w: number };
  }
  interface Variable {
    name: string;
    type: string;
    query: string | { query: string };
  }
  const dashboard = JSON.parse(read('helm/customer360/dashboards/customer360.json')) as { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const variables = dashboard.templating.list;
  const exprs = [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...variables.map((v) => (typeof v.query === 'string' ? '' : v.query.query)).filter(Boolean)];

  it('has a stable uid, a Prometheus data source variable, and namespace/pod variables', () => {
    expect(dashboard.uid).toBe('customer360');
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.map((v) => v.name)).toEqual(['datasource', 'namespace', 'pod']);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('has the rows an on-call engineer looks for', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Traffic', 'CRMs', 'Cache', 'Rate limits', 'Auth', 'Runtime']);
    expect(panels.some((p) => p.type === 'state-timeline' && p.targets?.[0].expr.includes('c360_breaker_state'))).toBe(true);
  });

  it('queries the chosen data source, namespace and pods in every panel', () => {
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource.uid, p.title).toBe('${datasource}');
        for (const m of t.expr.matchAll(/\b(c360_\w+)(\{[^}]*\})?/g)) {
          expect(m[2], `${p.title}: ${m[1]} is filtered`).toContain('namespace="$namespace"');
          expect(m[2], `${p.title}: ${m[1]} is filtered`).toContain('pod=~"$pod"');
        }
      }
    }
  });

  it('queries only series the service registers, with their labels (c360_* from the Metrics class)', async () => {
    const metrics = new Metrics();
    const registered = new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    const labelsOf = (name: string): string[] => {
      const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] } | undefined;
      return [...(metric?.labelNames ?? [])];
    };
    /** The registered metric a series belongs to: histograms expose _bucket/_sum/_count, counters are registered with _total. */
    const metricOf = (series: string): string | undefined => {
      if (registered.has(series)) return series;
      const m = /^(.*)_(bucket|sum|count)$/.exec(series);
      if (!m) return undefined;
      const type = registered.get(m[1]);
      return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket') ? m[1] : undefined;
    };
    // the suffix rule, checked on series that exist already (Node's GC histogram, CPU counter)
    expect(metricOf('c360_nodejs_gc_duration_seconds_bucket')).toBe('c360_nodejs_gc_duration_seconds');
    expect(metricOf('c360_process_cpu_seconds_total')).toBe('c360_process_cpu_seconds_total');
    expect(metricOf('c360_breaker_state_count')).toBeUndefined();
    const TARGET_LABELS = ['namespace', 'pod', 'job', 'instance', 'service', 'endpoint', 'container'];
    const problems: string[] = [];
    const used = new Set<string>();
    for (const expr of exprs) {
      for (const m of expr.matchAll(/\b(c360_\w+)(?:\{([^}]*)\})?/g)) {
        const metric = metricOf(m[1]);
        used.add(m[1]);
        if (!metric) {
          problems.push(`${m[1]} is not registered`);
          continue;
        }
        const allowed = [...labelsOf(metric), ...TARGET_LABELS, ...(m[1].endsWith('_bucket') ? ['le'] : [])];
        for (const [, label] of (m[2] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) if (!allowed.includes(label)) problems.push(`${m[1]} has no label ${label}`);
      }
    }
    expect(used.size).toBeGreaterThan(15);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('is shipped by the chart as a ConfigMap Grafana’s sidecar picks up', () => {
    const t = template('grafana-dashboard.yaml');
    expect(t).toContain('{{- .Files.Get "dashboards/customer360.json" | nindent 4 }}');
    expect((values.grafanaDashboard as { labels: Tree }).labels).toEqual({ grafana_dashboard: '1' });
  });
});
