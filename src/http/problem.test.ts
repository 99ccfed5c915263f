import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Problem, problemBody, problemCatalog, renderErrorsDoc } from './problem.ts'

describe('problem catalogue', () => {
  it('is documented in docs/errors.md (run `node scripts/gen-errors-doc.ts` after changing codes)', () => {
    const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    expect(doc).toBe(renderErrorsDoc())
    for (const code of Object.keys(problemCatalog)) expect(doc).toContain(`| \`${code}\` |`)
  })
  it('uses snake_case codes and 4xx/5xx statuses', () => {
    for (const [code, entry] of Object.entries(problemCatalog)) {
      expect(code).toMatch(/^[a-z]+(_[a-z0-9]+)*$/)
      expect(entry.status).toBeGreaterThanOrEqual(400)
      expect(entry.status).toBeLessThan(600)
    }
  })
  it('renders RFC 9457 bodies with the stable code', () => {
    const body = problemBody(new Problem('forbidden', 'needs admin'), '/v1/users', 'req-1')
    expect(body).toEqual({ type: 'https://puhui.dev/errors#forbidden', title: 'Forbidden', status: 403, code: 'forbidden', detail: 'needs admin', instance: '/v1/users', requestId: 'req-1' })
  })
})
