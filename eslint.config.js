import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', 'bench-results/**', 'eslint.config.js', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      // one import order everywhere (packages, then ours by path); `eslint --fix` applies it
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through src/config only.' }],
    },
  },
  {
    files: ['src/config/process-env.ts', 'test/**/*.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  // the agent side panel's browser script: plain JavaScript, outside the TypeScript project
  { ...tseslint.configs.disableTypeChecked, files: ['src/widget/public/**/*.js'] },
  {
    files: ['src/widget/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', history: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', URLSearchParams: 'readonly', crypto: 'readonly', TextEncoder: 'readonly', btoa: 'readonly' },
    },
  },
);
