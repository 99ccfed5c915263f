#!/usr/bin/env node
// The `puhui` command. The CLI is TypeScript run directly by Node's type stripping (Node >= 22.18 / 23.6).
// When an older Node starts this file (a machine's own Node 20, say), re-run it under the Node 24
// that the project pins as a devDependency, so `./bin/puhui.js` works whatever `node` is first on PATH.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)
if (stripsTypes) {
  await import('../src/cli/main.ts')
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  if (!existsSync(pinned)) {
    process.stderr.write(`puhui: Node ${process.versions.node} cannot run TypeScript; run \`npm ci\` first (it installs Node 24)\n`)
    process.exit(1)
  }
  const run = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(run.status ?? 1)
}
