import fc from 'fast-check'
import { Temporal } from 'temporal-polyfill'
import { describe, expect, it } from 'vitest'
import { checkCircularTrading, runCrossChecks } from './cross-checks.ts'
import { computeFeatures, featureCatalogue, lastClosedMonth, monthsBack, type FeatureRecord } from './features.ts'

const asOf = Temporal.PlainDate.from('2026-07-10') // last closed month: 2026-06

function ordersMonth(month: string, gmvYuan: number, extra: Record<string, string> = {}): FeatureRecord {
  return { source: 'orders', occurredOn: `${month}-28`, fields: { month, gmvMinor: String(gmvYuan * 100), orders: '10', buyers: '8', repeatBuyers: '2', topBuyerShare: '0.25', refundsMinor: String(gmvYuan), refunds: '1', currency: 'CNY', ...extra } }
}
const months = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `2026-${String(from + i).padStart(2, '0')}`)

describe('monthsBack', () => {
  it('lists the months ending with a month, oldest first, as Temporal counts them', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 36 }), (year, month, count) => {
      const end = Temporal.PlainYearMonth.from({ year, month })
      fc.pre(year * 12 + month - count >= 12) // stays within years 0001+
      expect(monthsBack(end, count)).toEqual(Array.from({ length: count }, (_, i) => end.subtract({ months: count - 1 - i }).toString()))
    }), { numRuns: 500 })
  })
})

describe('feature catalogue', () => {
  it('documents at least 30 features, each once', () => {
    expect(featureCatalogue.length).toBeGreaterThanOrEqual(30)
    expect(new Set(featureCatalogue.map((f) => f.name)).size).toBe(featureCatalogue.length)
    const computed = computeFeatures([], asOf)
    expect(Object.keys(computed).sort()).toEqual(featureCatalogue.map((f) => f.name).sort())
    expect(Object.values(computed).every((v) => v === null)).toBe(true)
  })
  it('uses calendar windows ending with the last closed month', () => {
    expect(lastClosedMonth(Temporal.PlainDate.from('2026-07-10')).toString()).toBe('2026-06')
    expect(lastClosedMonth(Temporal.PlainDate.from('2026-06-30')).toString()).toBe('2026-06')
  })
  it('computes order features exactly', () => {
    // Jan..Jun 2026: 100, 100, 100, 200, 200, 200 yuan; a July record is after the window and ignored.
    const records = [...months(1, 3).map((m) => ordersMonth(m, 100)), ...months(4, 6).map((m) => ordersMonth(m, 200)), ordersMonth('2026-07', 10_000), ordersMonth('2025-04', 50), ordersMonth('2025-05', 50), ordersMonth('2025-06', 50)]
    const f = computeFeatures(records, asOf)
    expect(f.gmv_3m).toBe(600)
    expect(f.gmv_6m).toBe(900)
    expect(f.gmv_12m).toBe(900) // the 2025-04..06 records are 13-15 months back: outside the 12-month window, inside last year's quarter
    expect(f.gmv_yoy_growth_3m).toBeCloseTo(600 / 150 - 1, 12)
    expect(f.refund_rate_6m).toBeCloseTo(0.01, 12)
    expect(f.orders_6m).toBe(60)
    expect(f.avg_order_value_6m).toBe(15)
    expect(f.active_months_12m).toBe(6)
    expect(f.repeat_buyer_share_6m).toBe(0.25)
    expect(f.top_buyer_share).toBe(0.25)
    expect(f.months_since_last_order).toBe(0)
    expect(f.gmv_volatility_6m).toBeCloseTo(50 / 150, 12)
    // least-squares slope of 100,100,100,200,200,200 over x = 0..5: Σ(x−2.5)(y−150) / Σ(x−2.5)² = 450 / 17.5, over the mean 150
    expect(f.gmv_trend_6m).toBeCloseTo(450 / 17.5 / 150, 12)
  })
  it('flags revenue declared far above sales, sales without cash, and a spike', () => {
    const records: FeatureRecord[] = [
      ...months(1, 5).map((m) => ordersMonth(m, 100)),
      ordersMonth('2026-06', 1_000),
      ...months(1, 6).map((m) => ({ source: 'tax_filings' as const, occurredOn: `${m}-28`, fields: { month: m, filedOn: `${m}-28`, declaredRevenueMinor: String(1_000_000), taxPaidMinor: '0', currency: 'CNY' } })),
      ...months(1, 6).map((m) => ({ source: 'payment_flows' as const, occurredOn: `${m}-28`, fields: { month: m, inflowMinor: '1000', outflowMinor: '990', transactions: '3', counterparties: '2', currency: 'CNY' } })),
    ]
    const f = computeFeatures(records, asOf)
    const flags = runCrossChecks(f, records, asOf).map((x) => x.code).sort()
    expect(flags).toEqual(['revenue_over_declared', 'sales_spike_before_application', 'sales_without_cash'])
    expect(f.filing_punctuality_12m).toBe(6 / 12)
    expect(checkCircularTrading(f, [{ enterpriseId: 'e2', via: 'id_number', features: f }]).map((x) => x.code)).toEqual(['circular_trading_suspected'])
    expect(checkCircularTrading(f, [])).toEqual([])
  })
})
