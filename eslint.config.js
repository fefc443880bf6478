// The shape of @antfu/eslint-config (what unplugin-starter uses), built from its parts: its
// current releases need Node 22 (Object.groupBy, Set#union), and this project still runs on Node 20.
import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import perfectionist from 'eslint-plugin-perfectionist'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['data/**', 'dist/**', 'fixtures/**', 'playground/dist/**', 'test-artifacts/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  stylistic.configs.customize({ indent: 2, quotes: 'single', semi: false, braceStyle: 'stroustrup', arrowParens: false }),
  {
    plugins: { perfectionist },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Blob: 'readonly', URLSearchParams: 'readonly', globalThis: 'readonly' } },
    rules: {
      '@stylistic/max-len': ['error', { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      'perfectionist/sort-imports': ['error', { type: 'natural', internalPattern: ['^~/.+'], newlinesBetween: 'ignore', groups: ['type', ['parent-type', 'sibling-type', 'index-type', 'internal-type'], 'builtin', 'external', 'internal', ['parent', 'sibling', 'index'], 'side-effect', 'object', 'unknown'] }],
      'perfectionist/sort-named-imports': ['error', { type: 'natural' }],
    },
  },
)
