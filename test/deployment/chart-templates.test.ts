import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART, isMap, template, templates, values, type Tree } from './artefacts.js';

/* The chart's templates, linted without helm: layout, balanced actions, existing values, gates, a locked-down pod. */

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
