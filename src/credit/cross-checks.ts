/**
 * @module credit/cross-checks
 * Cross-checks between sources that flag fabricated or inconsistent data (pure). Each flag carries its
 * evidence (the figures it compared) and a sentence in English and Chinese, so a reviewer can see why.
 * Thresholds are named here; a tenant may tighten them later.
 */
import type { FeatureRecord, FeatureValues } from './features.ts'
import { lastClosedMonth } from './features.ts'
import { Temporal } from 'temporal-polyfill'

export type Flag = { code: string; severity: 'high' | 'medium'; evidence: Record<string, number | string>; en: string; zh: string }

export const crossCheckThresholds = {
  /** Declared revenue below half of observed sales: under-declaration, or sales that are not real. */
  declaredToObservedMin: 0.5,
  /** Declared revenue above twice observed sales: revenue inflated in the filings. */
  declaredToObservedMax: 2,
  /** Money received below 30 % of sales over 6 months: orders that never turn into cash. */
  inflowToGmvMin: 0.3,
  /** Last month's sales above 3× the median of the 6 before it: a spike just before applying. */
  spikeMultiple: 3,
  /** Inflow and outflow within 5 % of each other: money passing straight through. */
  passThroughNetRatioMax: 0.05,
} as const

const round = (value: number) => Math.round(value * 1000) / 1000

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The checks that need only the enterprise's own records and features. */
export function runCrossChecks(features: FeatureValues, records: readonly FeatureRecord[], asOf: Temporal.PlainDate): Flag[] {
  const flags: Flag[] = []
  const declared = features.declared_to_observed_revenue_12m
  if (declared !== null && declared !== undefined) {
    if (declared < crossCheckThresholds.declaredToObservedMin) {
      flags.push({ code: 'revenue_under_declared', severity: 'medium', evidence: { declaredRevenue12m: features.declared_revenue_12m ?? 0, gmv12m: features.gmv_12m ?? 0, ratio: round(declared) }, en: 'Revenue declared for tax is less than half of observed sales', zh: '纳税申报收入不足观测销售额的一半' })
    } else if (declared > crossCheckThresholds.declaredToObservedMax) {
      flags.push({ code: 'revenue_over_declared', severity: 'high', evidence: { declaredRevenue12m: features.declared_revenue_12m ?? 0, gmv12m: features.gmv_12m ?? 0, ratio: round(declared) }, en: 'Revenue declared for tax is more than twice observed sales', zh: '纳税申报收入超过观测销售额两倍' })
    }
  }
  const inflowToGmv = features.inflow_to_gmv_6m
  if (inflowToGmv !== null && inflowToGmv !== undefined && inflowToGmv < crossCheckThresholds.inflowToGmvMin) {
    flags.push({ code: 'sales_without_cash', severity: 'high', evidence: { inflow6m: features.inflow_6m ?? 0, gmv6m: features.gmv_6m ?? 0, ratio: round(inflowToGmv) }, en: 'Money received is far below recorded sales (possible fabricated orders)', zh: '资金流入远低于订单销售额（疑似虚假交易）' })
  }
  const end = lastClosedMonth(asOf)
  const gmvOf = (month: Temporal.PlainYearMonth) => {
    const record = records.findLast((r) => r.source === 'orders' && r.fields.month === month.toString())
    return record === undefined ? undefined : Number.parseFloat(String(record.fields.gmvMinor)) / 100
  }
  const last = gmvOf(end)
  const before = Array.from({ length: 6 }, (_, i) => gmvOf(end.subtract({ months: i + 1 }))).filter((v): v is number => v !== undefined)
  if (last !== undefined && before.length >= 3) {
    const base = median(before)
    if (base > 0 && last > crossCheckThresholds.spikeMultiple * base) {
      flags.push({ code: 'sales_spike_before_application', severity: 'medium', evidence: { lastMonthGmv: last, medianPrevious6: base, multiple: round(last / base) }, en: 'Sales jumped to more than three times their usual level in the last month', zh: '上月销售额骤增至平常水平的三倍以上' })
    }
  }
  return flags
}

/**
 * Circular trading among related enterprises (shared owners or phones): both pass money straight
 * through (inflow ≈ outflow) while related. `related` holds each related enterprise's features.
 */
export function checkCircularTrading(features: FeatureValues, related: readonly { enterpriseId: string; via: string; features: FeatureValues }[]): Flag[] {
  const passThrough = (f: FeatureValues) => f.net_flow_ratio_6m !== null && f.net_flow_ratio_6m !== undefined && Math.abs(f.net_flow_ratio_6m) <= crossCheckThresholds.passThroughNetRatioMax
  if (!passThrough(features)) return []
  const partners = related.filter((r) => passThrough(r.features))
  if (partners.length === 0) return []
  return [
    {
      code: 'circular_trading_suspected',
      severity: 'high',
      evidence: { netFlowRatio6m: round(features.net_flow_ratio_6m as number), relatedEnterprises: partners.map((p) => `${p.enterpriseId} (${p.via})`).join(', ') },
      en: 'Money passes straight through this enterprise and related enterprises sharing owners: possible circular trading',
      zh: '本企业与关联企业（共同股东）资金快进快出：疑似循环交易',
    },
  ]
}
