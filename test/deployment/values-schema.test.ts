import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { schema, values, withValues, type Tree } from './artefacts.js';

/* values.schema.json: a valid draft-07 schema helm can use, that accepts the defaults and real overrides and refuses what would deploy something unsafe. */

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
