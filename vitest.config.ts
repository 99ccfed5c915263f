/**
 * Two projects: `unit` (pure cores, no database, `*.test.ts` beside the code) and `db` (anything that
 * needs PostgreSQL: `*.db.test.ts` and `test/**`). The db project's global setup starts the embedded
 * server (or uses DATABASE_URL) and migrates a template database that each test file clones.
 */
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.db.test.ts'],
        },
      },
      {
        test: {
          name: 'db',
          include: ['src/**/*.db.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
