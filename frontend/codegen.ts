import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for every operation written with `graphql(...)` in src/, generated from the
// server's schema. Output goes to src/gql/ (git-ignored): `npm run build`, `npm test`
// and `npm run dev` regenerate it first, so it can never be stale.
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Operations travel as plain strings: no graphql-js parser in the bundle.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
