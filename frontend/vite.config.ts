/// <reference types="vitest/config" />
import { defineConfig, loadEnv } from 'vite';

export default defineConfig(({ mode }) => {
  // During `npm run dev`, the API is proxied to a locally running
  // `billbridge serve`. Override the target with BILLBRIDGE_URL (environment
  // or a .env.local file).
  const env = loadEnv(mode, '.', 'BILLBRIDGE_');
  const backend = env.BILLBRIDGE_URL ?? 'http://127.0.0.1:8080';

  return {
    // The Rust binary serves dist/ at the site root.
    base: '/',
    // No React plugin: Vite's built-in Oxc transform compiles TSX with the
    // automatic JSX runtime, which is all this app needs (no Fast Refresh).
    oxc: {
      jsx: { runtime: 'automatic' },
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
    },
    server: {
      proxy: {
        '/graphql/ws': { target: backend, ws: true },
        '/graphql': backend,
        '/auth': backend,
      },
    },
    test: {
      environment: 'jsdom',
      setupFiles: ['src/testing/setup.ts'],
      restoreMocks: true,
      unstubGlobals: true,
    },
  };
});
