import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { allBindings } from '../../src/app.config.js';
import { loadConfig } from '../../src/app.config.js';
import { config, dockerfile, ports, read, schema, secrets, SITE_VALUES, template, templates, type Tree, values } from './artefacts.js';

/*
 * The chart and the config module agree: every setting the chart can give (values.yaml `config`,
 * `secrets.files`, the ones deployment.yaml fixes) exists in the config module and vice versa,
 * secrets only ever arrive as mounted files, the schema types each setting as the service parses
 * it, the defaults match, and the image, chart and package.json stay in step. A new setting
 * therefore needs: its key in values.yaml (`config`, or `secrets.files` for a secret) with the
 * service's default, and its entry in values.schema.json.
 */

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
    Object.assign(env, SITE_VALUES);
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
    expect(pkg.scripts.start, 'npm start runs what the image runs, node flags included').toBe(dockerfile().entrypoint.join(' '));
  });
});
