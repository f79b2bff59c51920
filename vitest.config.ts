import swc from 'unplugin-swc';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/*
 * Two suffixes, two kinds of test (README, Development):
 * - `*.spec.ts`: a unit spec, beside the module it tests (in src/, or in test/ for the bench's and
 *   the simulators' own modules). In-process only: test/support/unit-isolation.ts makes listening,
 *   connecting and starting a process fail. Project `unit`.
 * - `*.test.ts`: under test/ only. Real processes, sockets and files: the service over HTTP,
 *   redis-server, the simulators, chromium, the deployment artefacts. Projects `integration` and
 *   `processes`.
 * test/support/test-layout.test.ts checks that every test file follows this.
 */

/**
 * Files that start several OS processes each (service replicas, redis-servers, chromium). Run
 * side by side they starve one another on a small machine (a Redis bound or a deadline then
 * expires for reasons no test is about), so they run one at a time, in their own project, while
 * the rest of the suite runs in parallel beside them.
 */
export const PROCESS_HEAVY = [
  'test/integration/replicas.test.ts',
  'test/integration/shutdown.test.ts',
  'test/integration/startup.test.ts',
  'test/integration/resilience.test.ts',
  'test/integration/notifications-prefetch-takeover.test.ts',
  'test/browser/**/*.test.ts',
  'test/support/redis-topologies.test.ts',
  // a Sentinel group (5 redis-servers) and a Cluster (6) each, with two service instances
  'test/integration/redis-topologies-sentinel.test.ts',
  'test/integration/redis-topologies-cluster.test.ts',
];

/** One project: what both share, plus its own files. The global setup stays at the root, so it compiles the service once. */
function project(test: NonNullable<TestProjectInlineConfiguration['test']>): TestProjectInlineConfiguration {
  return {
    plugins: [swc.vite({ module: { type: 'es6' } })],
    test: { environment: 'node', pool: 'forks', testTimeout: 30_000, hookTimeout: 30_000, ...test },
  };
}

/**
 * Specs in src/cache/ that still start a redis-server. They break the rule and belong under test/
 * as *.test.ts; they stay where they are (run with the integration project) while src/cache/ is
 * reworked for issue 15, and move when that lands.
 */
export const SPECS_WITH_SOCKETS = ['src/cache/replica-lock.spec.ts', 'src/cache/source-cache.spec.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      project({ name: 'unit', include: ['{src,test}/**/*.spec.ts'], exclude: [...configDefaults.exclude, ...SPECS_WITH_SOCKETS], setupFiles: ['./test/support/unit-isolation.ts'] }),
      project({ name: 'integration', include: ['test/**/*.test.ts', ...SPECS_WITH_SOCKETS], exclude: [...configDefaults.exclude, ...PROCESS_HEAVY] }),
      project({ name: 'processes', include: PROCESS_HEAVY, fileParallelism: false }),
    ],
  },
});
