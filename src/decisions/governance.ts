/**
 * @module decisions/governance
 * The life of a strategy version, as a pure state machine with maker-checker:
 *
 *   draft ──submit──► submitted ──approve (not the author, not the submitter)──► approved ──activate──► active
 *     ▲                   │                                                          │                   │
 *     └──────reject───────┘                                                          └──────retire───────┴──► retired
 *
 * Only a draft may be edited (the shell checks `isStrategyEditable`); a rejected version returns to
 * draft with the checker's note, and must be submitted and approved again. Versions are never deleted:
 * retiring keeps the version, its document and its history for the decisions that cite it. At most one
 * version of a strategy name is active: `planActivation` retires the one it replaces.
 *
 * Pure: the actor and the instant are passed in; the shell persists the result in one transaction.
 */
import { assert, assertNever } from '../core/assert.ts'

export type StrategyStatus = 'draft' | 'submitted' | 'approved' | 'active' | 'retired'
export type StrategyAction =
  | { readonly type: 'submit' }
  | { readonly type: 'approve'; readonly note?: string }
  | { readonly type: 'reject'; readonly note: string }
  | { readonly type: 'activate' }
  | { readonly type: 'retire'; readonly note?: string }
export type StrategyActor = { readonly id: string }
export type StrategyEvent = {
  readonly action: StrategyAction['type']
  readonly actorId: string
  /** The instant, as an ISO string passed in by the shell. */
  readonly at: string
  readonly from: StrategyStatus
  readonly to: StrategyStatus
  readonly note?: string
}
export type StrategyVersion = {
  readonly name: string
  readonly version: number
  readonly status: StrategyStatus
  readonly authorId: string
  readonly submittedBy: string | null
  readonly approvedBy: string | null
  readonly history: readonly StrategyEvent[]
}

/** Expected refusals, highest precedence first. */
export type TransitionStatus =
  | 'ok'
  /** The action does not apply to the version's current status (e.g. approving a draft). */
  | 'action_not_allowed_in_status'
  /** Maker-checker: the author cannot approve their own strategy. */
  | 'approver_must_differ_from_author'
  /** Maker-checker: whoever submitted it cannot approve it either. */
  | 'approver_must_differ_from_submitter'
  /** A rejection tells the author why. */
  | 'rejection_requires_note'
export type TransitionResult =
  | { readonly status: 'ok'; readonly version: StrategyVersion }
  | { readonly status: Exclude<TransitionStatus, 'ok'>; readonly detail: string }

/** Which status each action moves from, and to. */
export const strategyTransitions = {
  submit: { from: ['draft'], to: 'submitted' },
  approve: { from: ['submitted'], to: 'approved' },
  reject: { from: ['submitted'], to: 'draft' },
  activate: { from: ['approved'], to: 'active' },
  retire: { from: ['approved', 'active'], to: 'retired' },
} as const satisfies Record<StrategyAction['type'], { from: readonly StrategyStatus[]; to: StrategyStatus }>

/** A new draft: version numbers are assigned by the shell (the next number for the name). */
export function createStrategyVersion(name: string, version: number, author: StrategyActor): StrategyVersion {
  assert(name.length > 0)
  assert(Number.isInteger(version) && version >= 1)
  assert(author.id.length > 0)
  return { name, version, status: 'draft', authorId: author.id, submittedBy: null, approvedBy: null, history: [] }
}

export function isStrategyEditable(version: StrategyVersion): boolean {
  return version.status === 'draft'
}

/** Applies one governance action, or says why it is refused. */
export function transitionStrategy(version: StrategyVersion, action: StrategyAction, actor: StrategyActor, at: string): TransitionResult {
  assert(actor.id.length > 0, 'an actor has an id')
  const rule = strategyTransitions[action.type]
  if (!(rule.from as readonly StrategyStatus[]).includes(version.status)) {
    return { status: 'action_not_allowed_in_status', detail: `cannot ${action.type} a version that is ${version.status}` }
  }
  const note = 'note' in action && action.note !== undefined && action.note.trim() !== '' ? action.note.trim() : undefined
  let submittedBy = version.submittedBy
  let approvedBy = version.approvedBy
  switch (action.type) {
    case 'submit':
      submittedBy = actor.id
      approvedBy = null
      break
    case 'approve':
      if (actor.id === version.authorId) return { status: 'approver_must_differ_from_author', detail: `${actor.id} wrote this version` }
      if (actor.id === version.submittedBy) return { status: 'approver_must_differ_from_submitter', detail: `${actor.id} submitted this version` }
      approvedBy = actor.id
      break
    case 'reject':
      if (note === undefined) return { status: 'rejection_requires_note', detail: 'say what the author should change' }
      submittedBy = null
      break
    case 'activate':
    case 'retire':
      break
    default:
      assertNever(action)
  }
  const event: StrategyEvent = { action: action.type, actorId: actor.id, at, from: version.status, to: rule.to, ...(note === undefined ? {} : { note }) }
  const next: StrategyVersion = { ...version, status: rule.to, submittedBy, approvedBy, history: [...version.history, event] }
  assert(next.status !== 'active' || (next.approvedBy !== null && next.approvedBy !== next.authorId), 'an active version was approved by a checker')
  return { status: 'ok', version: next }
}

export type ActivationResult =
  | { readonly status: 'ok'; readonly changed: readonly StrategyVersion[] }
  | { readonly status: Exclude<TransitionStatus, 'ok'>; readonly detail: string }

/**
 * Activates `target` among the versions of its name: the currently active version (if any) is retired
 * in the same change, so at most one version is active. The shell writes `changed` in one transaction.
 */
export function planActivation(versions: readonly StrategyVersion[], target: StrategyVersion, actor: StrategyActor, at: string): ActivationResult {
  assert(versions.every((v) => v.name === target.name), 'versions of one strategy name')
  const activated = transitionStrategy(target, { type: 'activate' }, actor, at)
  if (activated.status !== 'ok') return activated
  const changed: StrategyVersion[] = []
  for (const current of versions) {
    if (current.status !== 'active' || current.version === target.version) continue
    const retired = transitionStrategy(current, { type: 'retire', note: `replaced by version ${target.version}` }, actor, at)
    assert(retired.status === 'ok', 'an active version can always be retired')
    changed.push(retired.version)
  }
  assert(changed.length <= 1, 'at most one version was active')
  changed.push(activated.version)
  return { status: 'ok', changed }
}
