// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules, the rules of
// hooks, and the app's one architectural rule — a feature folder never imports another.
// `npm run lint` runs it with `prettier --check`; `npm test` runs both.
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** src/features/<feature>/: one folder per page. */
const FEATURES = readdirSync(new URL('./src/features/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

const SHARED = 'shared code lives outside src/features (src/ui, src/api, src/session, src/push)';

/**
 * For a file `depth` folders below its feature's folder, an import that leaves the feature
 * for a sibling folder (`../history/…` from src/features/push/) or goes through
 * src/features to another feature (`../../features/history/…`).
 */
function crossFeature(feature, depth) {
  const up = '\\.\\./'.repeat(depth + 1);
  return [
    { regex: `^${up}(?!\\.\\./)`, message: `src/features/${feature} imports another feature: ${SHARED}.` },
    { regex: `(^|/)features/(?!${feature}/)`, message: `src/features/${feature} imports another feature: ${SHARED}.` },
  ];
}

/** A depth for each level of folders a feature may grow (`*` is one folder). */
const DEPTHS = [0, 1, 2, 3];

export default tseslint.config(
  { ignores: ['dist/', 'src/gql/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    extends: [reactHooks.configs.flat.recommended],
    rules: {
      // A leading underscore names a parameter kept for its position (a fake fetch's `_init`).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['*.{js,ts}', 'scripts/**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  // Features do not import each other.
  ...FEATURES.flatMap((feature) =>
    DEPTHS.map((depth) => ({
      files: [`src/features/${feature}/${'*/'.repeat(depth)}*.{ts,tsx}`],
      rules: { 'no-restricted-imports': ['error', { patterns: crossFeature(feature, depth) }] },
    })),
  ),
  // Shared code does not import features (only the app's shell, App.tsx, composes them).
  {
    files: ['src/{api,push,session,testing,ui}/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)features/', message: 'shared code never imports a feature.' }] }],
    },
  },
);
