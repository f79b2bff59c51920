import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that start several OS processes each (service replicas, redis-servers, chromium). Run
 * side by side they starve one another on a small machine (a 100 ms Redis bound or a deadline
 * then expires for reasons no test is about), so they run one at a time, in their own project,
 * while the rest of the suite runs in parallel beside them.
 */
const PROCESS_HEAVY = [
  'test/integration/replicas.test.ts',
  'test/integration/shutdown.test.ts',
  'test/integration/startup.test.ts',
  'test/integration/resilience.test.ts',
  'test/browser/**/*.test.ts',
];

/** What both projects share (the global setup stays at the root: it compiles the service once). */
const shared = {
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: { environment: 'node', pool: 'forks', testTimeout: 30_000, hookTimeout: 30_000 },
} as const;

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      {
        ...shared,
        test: { ...shared.test, name: 'parallel', include: ['src/**/*.spec.ts', 'test/bench/**/*.spec.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...PROCESS_HEAVY] },
      },
      {
        ...shared,
        test: { ...shared.test, name: 'processes', include: PROCESS_HEAVY, fileParallelism: false },
      },
    ],
  },
});
