/**
 * @module flows/score-enterprise
 * Scores an enterprise with the champion of a model name: its features as of a business date (credit
 * module: consented sources only, the read audited) become the model's inputs (scoring module), and the
 * score is kept for monitoring with the enterprise as its subject. One transaction; the two modules do
 * not know each other, this flow joins them.
 */
import type { Actor } from '../access/index.ts'
import { fail, ok, type Result } from '../core/result.ts'
import { computeEnterpriseFeatures, type CreditDeps, type FeatureReport, type Purpose } from '../credit/index.ts'
import type { Tx } from '../db/database.ts'
import { findChampion, scoreWithModel, type ScoreResult } from '../scoring/index.ts'

export type EnterpriseScore = ScoreResult & { model: { id: string; name: string; version: number }; features: FeatureReport }

export async function scoreEnterprise(
  trx: Tx,
  deps: CreditDeps,
  input: { tenantId: string; enterpriseId: string; purpose: Purpose; modelName: string; asOf: string; knownBy: Date; actor: Actor; requestId?: string },
): Promise<Result<EnterpriseScore, 'no_champion_model'>> {
  const champion = await findChampion(trx, input.modelName)
  if (champion === undefined) return fail('no_champion_model', `model ${input.modelName} has no champion`)
  const features = await computeEnterpriseFeatures(trx, deps, input)
  const scored = await scoreWithModel(trx, deps, { tenantId: input.tenantId, id: champion.id, rows: [{ subject: input.enterpriseId, values: features.features }] })
  if (scored.status !== 'ok') return fail('no_champion_model', scored.status)
  const result = scored.value[0] as ScoreResult
  return ok({ ...result, model: { id: champion.id, name: champion.name, version: champion.version }, features })
}
