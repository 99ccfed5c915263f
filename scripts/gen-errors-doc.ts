// Writes docs/errors.md from the problem catalogue in src/http/problem.ts (a test keeps them equal).
import fs from 'node:fs'
import { renderErrorsDoc } from '../src/http/problem.ts'

fs.writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc())
