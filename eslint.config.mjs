// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.data/',
      '.tools/',
      'prisma/generated/',
      'eslint.config.mjs',
      'console/dist/',
      'console/src/api/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.tsx', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Tests read arbitrary JSON responses; typing every body would add noise, not safety.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The workflow sandbox: deterministic code only. No Node builtins, no I/O libraries.
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node builtins.',
          })),
          patterns: [
            {
              group: ['@prisma/*', 'prisma', 'express', 'pg', '**/prisma/**', '**/api/**', '**/infra/**'],
              allowTypeImports: true,
              message: 'Workflow code may not import I/O modules (Prisma, express, pg) except as types.',
            },
            {
              group: ['**/activities/**', '**/activities'],
              allowTypeImports: true,
              message: 'Workflows couple to activities by type only (use proxyActivities).',
            },
          ],
        },
      ],
    },
  },
  {
    // The console: a browser app (console/tsconfig.json). React's hook rules; no Node builtins outside its unit
    // tests and its build scripts, so nothing server-side slips into the bundle.
    files: ['console/**/*.ts', 'console/**/*.tsx', 'console/**/*.mts'],
    ...reactHooks.configs.flat.recommended,
    languageOptions: { globals: globals.browser },
    // ESM-only packages (vite, react's plugin) need a resolver that reads package exports.
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js'] })] },
  },
  {
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    ignores: ['console/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'The console runs in the browser: no Node builtins.',
          })),
          patterns: [
            {
              // Out of console/ into the server's folders (console/src/api is the console's own client).
              regex: '^(\\.\\./){2,}(api|domain|infra|activities|workflows|workers|prisma|cli|scripts)(/|$)',
              message: 'The console uses only the public REST API, never server code.',
            },
          ],
        },
      ],
    },
  },
  {
    // The flowctl launcher: plain CommonJS, outside the TypeScript project.
    files: ['bin/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
