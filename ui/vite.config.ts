/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The UI is served by `weir serve` at `/` (or under any prefix), so every asset path is relative, and the
// JSON API is asked at `api/v1/...` relative to the page. `npm run dev` forwards it to a running server.
const api = process.env.WEIR_API ?? 'http://127.0.0.1:28080';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: true },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
