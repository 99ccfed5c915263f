/**
 * Tests of the strategy version state machine: the happy path, maker-checker, rejections with notes,
 * one active version per name, and a property: whatever sequence of actions and actors is tried, an
 * approved or active version was approved by someone other than its author and its submitter.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createStrategyVersion, isStrategyEditable, planActivation, transitionStrategy, type StrategyAction, type StrategyVersion } from './governance.ts'

const at = '2026-03-31T09:00:00Z'
const alice = { id: 'alice' }
const bob = { id: 'bob' }
const carol = { id: 'carol' }

function okOrThrow(version: StrategyVersion, action: StrategyAction, actor: { id: string }): StrategyVersion {
  const result = transitionStrategy(version, action, actor, at)
  if (result.status !== 'ok') throw new Error(`${result.status}: ${result.detail}`)
  return result.version
}

describe('strategy governance', () => {
  it('goes draft → submitted → approved by another user → active → retired, keeping the history', () => {
    let version = createStrategyVersion('sme-310', 1, alice)
    expect(isStrategyEditable(version)).toBe(true)
    version = okOrThrow(version, { type: 'submit' }, alice)
    expect(isStrategyEditable(version)).toBe(false)
    version = okOrThrow(version, { type: 'approve', note: 'cut-offs match the validation report' }, bob)
    expect(version).toEqual(expect.objectContaining({ status: 'approved', authorId: 'alice', submittedBy: 'alice', approvedBy: 'bob' }))
    version = okOrThrow(version, { type: 'activate' }, bob)
    version = okOrThrow(version, { type: 'retire' }, carol)
    expect(version.status).toBe('retired')
    expect(version.history.map((e) => `${e.action}:${e.actorId}:${e.from}→${e.to}`)).toEqual([
      'submit:alice:draft→submitted', 'approve:bob:submitted→approved', 'activate:bob:approved→active', 'retire:carol:active→retired',
    ])
    expect(version.history[1]?.note).toBe('cut-offs match the validation report')
  })
  it('refuses approval by the author or the submitter (maker-checker)', () => {
    const submitted = okOrThrow(createStrategyVersion('sme-310', 2, alice), { type: 'submit' }, alice)
    expect(transitionStrategy(submitted, { type: 'approve' }, alice, at).status).toBe('approver_must_differ_from_author')
    const submittedByBob = okOrThrow(createStrategyVersion('sme-310', 3, alice), { type: 'submit' }, bob)
    expect(transitionStrategy(submittedByBob, { type: 'approve' }, bob, at).status).toBe('approver_must_differ_from_submitter')
    expect(transitionStrategy(submittedByBob, { type: 'approve' }, carol, at).status).toBe('ok')
  })
  it('refuses actions out of order, status first', () => {
    const draft = createStrategyVersion('sme-310', 1, alice)
    expect(transitionStrategy(draft, { type: 'approve' }, alice, at).status).toBe('action_not_allowed_in_status')
    expect(transitionStrategy(draft, { type: 'activate' }, bob, at).status).toBe('action_not_allowed_in_status')
    const submitted = okOrThrow(draft, { type: 'submit' }, alice)
    expect(transitionStrategy(submitted, { type: 'activate' }, bob, at).status).toBe('action_not_allowed_in_status')
    expect(transitionStrategy(submitted, { type: 'submit' }, alice, at).status).toBe('action_not_allowed_in_status')
  })
  it('sends a rejected version back to draft, and a rejection needs a note', () => {
    const submitted = okOrThrow(createStrategyVersion('sme-310', 1, alice), { type: 'submit' }, alice)
    expect(transitionStrategy(submitted, { type: 'reject', note: '  ' }, bob, at).status).toBe('rejection_requires_note')
    const rejected = okOrThrow(submitted, { type: 'reject', note: 'the exposure cap is too high' }, bob)
    expect(rejected).toEqual(expect.objectContaining({ status: 'draft', submittedBy: null, approvedBy: null }))
    expect(rejected.history.at(-1)?.note).toBe('the exposure cap is too high')
    const again = okOrThrow(okOrThrow(rejected, { type: 'submit' }, alice), { type: 'approve' }, bob)
    expect(again.status).toBe('approved')
  })
  it('keeps one active version per name: activation retires the previous one', () => {
    const approve = (n: number) => okOrThrow(okOrThrow(createStrategyVersion('sme-310', n, alice), { type: 'submit' }, alice), { type: 'approve' }, bob)
    const v1 = okOrThrow(approve(1), { type: 'activate' }, bob)
    const v2 = approve(2)
    const plan = planActivation([v1, v2], v2, carol, at)
    expect(plan.status).toBe('ok')
    if (plan.status !== 'ok') return
    expect(plan.changed.map((v) => `${v.version}:${v.status}`)).toEqual(['1:retired', '2:active'])
    expect(plan.changed[0]?.history.at(-1)?.note).toBe('replaced by version 2')
    expect(planActivation([v1], createStrategyVersion('sme-310', 3, alice), carol, at).status).toBe('action_not_allowed_in_status')
  })
})

describe('governance properties', () => {
  const action = fc.oneof(
    fc.constant<StrategyAction>({ type: 'submit' }),
    fc.constant<StrategyAction>({ type: 'approve' }),
    fc.constantFrom<StrategyAction>({ type: 'reject', note: 'no' }, { type: 'reject', note: '' }),
    fc.constant<StrategyAction>({ type: 'activate' }),
    fc.constant<StrategyAction>({ type: 'retire' }),
  )
  it('never lets a version be approved or activated without a distinct checker', () => {
    fc.assert(fc.property(fc.array(fc.tuple(action, fc.constantFrom(alice, bob, carol)), { maxLength: 30 }), (steps) => {
      let version = createStrategyVersion('sme-310', 1, alice)
      for (const [step, actor] of steps) {
        const result = transitionStrategy(version, step, actor, at)
        if (result.status !== 'ok') {
          expect('version' in result).toBe(false)
          continue
        }
        expect(result.version.history.length).toBe(version.history.length + 1)
        version = result.version
        if (version.status === 'approved' || version.status === 'active') {
          expect(version.approvedBy).not.toBeNull()
          expect(version.approvedBy).not.toBe(version.authorId)
          expect(version.approvedBy).not.toBe(version.submittedBy)
        }
      }
      if (version.status === 'retired') expect(transitionStrategy(version, { type: 'activate' }, bob, at).status).toBe('action_not_allowed_in_status')
    }), { numRuns: 500 })
  })
})
