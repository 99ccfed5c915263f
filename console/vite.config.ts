// Vite build of the web console: console/ → console/dist, served by the API server at /.
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The dashboard chunk is lazy and carries ECharts (~520 kB minified, ~176 kB gzip, though imported
    // modularly: echarts/core alone is ~415 kB); the entry chunk (React + shell) is ~250 kB.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite --config console/vite.config.ts` for development against `npm start` on :3000.
    proxy: { '/v1': 'http://127.0.0.1:3000', '/docs': 'http://127.0.0.1:3000' },
  },
})
