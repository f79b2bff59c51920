import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import { read, template, values, type Tree } from './artefacts.js';

/* The Grafana dashboard the chart ships: variables, rows, and only series (and labels) the service registers. */

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
