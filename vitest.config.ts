import swc from 'unplugin-swc';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Files that start several OS processes each (service replicas, redis-servers, chromium). Run
 * side by side they starve one another on a small machine (a Redis bound or a deadline then
 * expires for reasons no test is about), so they run one at a time, in their own project, while
 * the rest of the suite runs in parallel beside them.
 */
const PROCESS_HEAVY = [
  'test/integration/replicas.test.ts',
  'test/integration/shutdown.test.ts',
  'test/integration/startup.test.ts',
  'test/integration/resilience.test.ts',
  'test/integration/notifications-prefetch-takeover.test.ts',
  'test/browser/**/*.test.ts',
  'test/support/redis-topologies.test.ts',
];

/** One project: what both share, plus its own files. The global setup stays at the root, so it compiles the service once. */
function project(test: NonNullable<TestProjectInlineConfiguration['test']>): TestProjectInlineConfiguration {
  return {
    plugins: [swc.vite({ module: { type: 'es6' } })],
    test: { environment: 'node', pool: 'forks', testTimeout: 30_000, hookTimeout: 30_000, ...test },
  };
}

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      project({ name: 'parallel', include: ['src/**/*.spec.ts', 'test/bench/**/*.spec.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...PROCESS_HEAVY] }),
      project({ name: 'processes', include: PROCESS_HEAVY, fileParallelism: false }),
    ],
  },
});
