/**
 * @module scoring/monitoring
 * Drift of a deployed scorecard (pure): the population stability index of its scores against the
 * training score distribution, and the characteristic stability index of each variable's bins against
 * the training bin counts. Conventional reading: below 0.1 stable, 0.1 to 0.25 watch, above shift.
 */
import { psi } from './metrics.ts'
import type { CompiledScorecard, ScorecardArtefact } from './scorecard.ts'

export const psiWatch = 0.1
export const psiShift = 0.25
export type Stability = 'stable' | 'watch' | 'shift'
export type ScoredObservation = { score: number; bins: readonly number[] }
export type MonitoringReport = { n: number; scorePsi: number | null; scoreStability: Stability | null; csi: Record<string, number | null>; shiftedVariables: string[] }

export function stabilityOf(index: number): Stability {
  return index < psiWatch ? 'stable' : index < psiShift ? 'watch' : 'shift'
}

/** The bin each variable of the card puts a row in (what CSI counts). */
export function assignBins(compiled: CompiledScorecard, valueOf: (name: string) => string | number | null | undefined): number[] {
  return compiled.card.variables.map((v, j) => (compiled.assigners[j] as (value: string | number | null) => number)(valueOf(v.name) ?? null))
}

/** Compares observed scores and bins with the training data recorded in the artefact. */
export function monitorScorecard(artefact: ScorecardArtefact, observations: readonly ScoredObservation[]): MonitoringReport {
  const n = observations.length
  const bands = (artefact.metrics.scoreDistribution ?? artefact.metrics.training) as unknown
  const distribution = Array.isArray(bands) ? (bands as { from: number; to: number; n: number }[]) : findDistribution(artefact.metrics)
  let scorePsi: number | null = null
  if (n > 0 && distribution.length > 1) {
    const actual = distribution.map(() => 0)
    for (const { score } of observations) {
      let k = distribution.findIndex((band) => score < band.to)
      if (k < 0) k = distribution.length - 1
      actual[k] = (actual[k] as number) + 1
    }
    const value = psi(distribution.map((band) => band.n), actual)
    scorePsi = Number.isFinite(value) ? value : null
  }
  const csi: Record<string, number | null> = {}
  artefact.card.variables.forEach((variable, j) => {
    if (n === 0) {
      csi[variable.name] = null
      return
    }
    const actual = variable.bins.map(() => 0)
    for (const observation of observations) {
      const bin = observation.bins[j]
      if (bin !== undefined) actual[bin] = (actual[bin] as number) + 1
    }
    const expected = variable.bins.map((bin) => bin.count)
    const value = psi(expected, actual)
    csi[variable.name] = Number.isFinite(value) ? value : null
  })
  const shiftedVariables = Object.entries(csi).filter(([, value]) => value !== null && value >= psiShift).map(([name]) => name)
  return { n, scorePsi, scoreStability: scorePsi === null ? null : stabilityOf(scorePsi), csi, shiftedVariables }
}

/** The training score distribution stored in the artefact's metrics (wherever the trainer put it). */
function findDistribution(metrics: Record<string, unknown>): { from: number; to: number; n: number }[] {
  for (const value of Object.values(metrics)) {
    if (value !== null && typeof value === 'object' && Array.isArray((value as { scoreDistribution?: unknown }).scoreDistribution)) {
      return (value as { scoreDistribution: { from: number; to: number; n: number }[] }).scoreDistribution
    }
  }
  return []
}
