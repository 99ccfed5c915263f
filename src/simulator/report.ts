/**
 * @module simulator/report
 * The simulation's summary (the JSON contract of `puhui simulate --json`) and its HTML report (pure): one
 * self-contained file with inline SVG charts (no script, no network): applications and approval rate by
 * month, NPL and PAR30 by month end, outstanding and disbursed principal, vintage curves, losses and income.
 */
import type { VintageCurve } from './metrics.ts'

export type MonthPoint = {
  readonly month: string
  readonly applications: number
  readonly approved: number
  readonly loans: number
  readonly disbursedMinor: string
  readonly repaidMinor: string
  readonly outstandingMinor: string
  readonly nplRatio: number
  readonly par30: number
  readonly failedFirms: number
}

/** The summary; key order is fixed (the JSON line is byte-identical per seed and version). */
export type SimulationSummary = {
  readonly smes: number
  readonly months: number
  readonly seed: number
  readonly shock: { readonly month: number; readonly severity: number } | null
  readonly applications: number
  readonly approved: number
  readonly loans: number
  readonly draws: number
  readonly approvalRate: number
  readonly nplRatio: number
  readonly par30: number
  readonly declined: number
  readonly referred: number
  /** Credit lines opened during the run. */
  readonly creditLines: number
  /** Periodic credit-line reviews among `applications` (decisions of kind credit_line_review). */
  readonly lineReviews: number
  readonly failedFirms: number
  readonly disbursedMinor: string
  readonly repaidMinor: string
  readonly outstandingMinor: string
  readonly writtenOffMinor: string
  readonly writtenOffLoans: number
  readonly provisionMinor: string
  readonly interestIncomeMinor: string
  readonly currency: 'CNY'
  readonly startDate: string
  readonly endDate: string
  readonly vintages: readonly { readonly vintage: string; readonly loans: number; readonly principalMinor: string; readonly ever30: readonly number[] }[]
  readonly monthly: readonly MonthPoint[]
}

export function vintagesJson(curves: readonly VintageCurve[]): SimulationSummary['vintages'] {
  return curves.map((c) => ({ vintage: c.vintage, loans: c.loans, principalMinor: c.principalMinor.toString(), ever30: c.ever30 }))
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
const palette = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#0969da', '#bc4c00', '#57606a', '#cf222e', '#116329', '#6639ba', '#953800']

type Series = { readonly name: string; readonly values: readonly number[] }

/** A line chart as inline SVG: x = labels, y from 0 to the data's maximum (or 1 for ratios). */
export function lineChart(title: string, labels: readonly string[], series: readonly Series[], options: { percent: boolean }): string {
  const width = 640
  const height = 260
  const left = 56
  const right = 150
  const top = 28
  const bottom = 36
  const all = series.flatMap((s) => s.values)
  const max = Math.max(options.percent ? 0.01 : 1, ...all) * 1.1
  const x = (i: number) => left + (labels.length <= 1 ? 0 : (i * (width - left - right)) / (labels.length - 1))
  const y = (v: number) => top + (height - top - bottom) * (1 - v / max)
  const fmt = (v: number) => (options.percent ? `${(v * 100).toFixed(1)}%` : v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0))
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max)
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${left}" y="18" font-size="14" font-weight="600">${escapeHtml(title)}</text>`]
  for (const t of ticks) parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#d0d7de"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${fmt(t)}</text>`)
  const every = Math.max(1, Math.ceil(labels.length / 12))
  labels.forEach((label, i) => {
    if (i % every === 0) parts.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" font-size="10" text-anchor="middle">${escapeHtml(label)}</text>`)
  })
  series.forEach((s, k) => {
    const color = palette[k % palette.length] as string
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
    if (s.values.length === 1) parts.push(`<circle cx="${x(0).toFixed(1)}" cy="${y(s.values[0] as number).toFixed(1)}" r="3" fill="${color}"/>`)
    else parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`)
    parts.push(`<rect x="${width - right + 10}" y="${top + k * 16}" width="10" height="10" fill="${color}"/><text x="${width - right + 24}" y="${top + k * 16 + 9}" font-size="11">${escapeHtml(s.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

const yuan = (minor: string) => `¥${(Number(BigInt(minor) / 100n)).toLocaleString('en-US')}`
const pct = (x: number) => `${(x * 100).toFixed(2)}%`

/** The whole report as one HTML document. */
export function renderReport(summary: SimulationSummary, meta: { version: string }): string {
  const labels = summary.monthly.map((m) => m.month)
  const major = (minor: string) => Number(BigInt(minor) / 100n)
  const charts = [
    lineChart('Applications and approvals per month', labels, [
      { name: 'applications', values: summary.monthly.map((m) => m.applications) },
      { name: 'approved', values: summary.monthly.map((m) => m.approved) },
      { name: 'loans opened', values: summary.monthly.map((m) => m.loans) },
    ], { percent: false }),
    lineChart('Approval rate per month', labels, [{ name: 'approval rate', values: summary.monthly.map((m) => (m.applications === 0 ? 0 : m.approved / m.applications)) }], { percent: true }),
    lineChart('NPL ratio and PAR30 at month end', labels, [
      { name: 'NPL ratio', values: summary.monthly.map((m) => m.nplRatio) },
      { name: 'PAR30', values: summary.monthly.map((m) => m.par30) },
    ], { percent: true }),
    lineChart('Principal (yuan)', labels, [
      { name: 'outstanding', values: summary.monthly.map((m) => major(m.outstandingMinor)) },
      { name: 'disbursed', values: summary.monthly.map((m) => major(m.disbursedMinor)) },
      { name: 'repaid', values: summary.monthly.map((m) => major(m.repaidMinor)) },
    ], { percent: false }),
    lineChart('Vintage curves: share of principal ever 30+ days past due, by month on book', Array.from({ length: summary.months }, (_, i) => `MOB ${i + 1}`),
      summary.vintages.filter((v) => v.ever30.length > 0).map((v) => ({ name: `${v.vintage} (${v.loans})`, values: v.ever30 })), { percent: true }),
    lineChart('Firms failed (cumulative)', labels, [{ name: 'failed firms', values: summary.monthly.map((m) => m.failedFirms) }], { percent: false }),
  ]
  const rows: [string, string][] = [
    ['SMEs × months', `${summary.smes} × ${summary.months} (${summary.startDate} – ${summary.endDate})`],
    ['seed', String(summary.seed)],
    ['shock', summary.shock === null ? 'none' : `month ${summary.shock.month}, severity ${summary.shock.severity}`],
    ['applications (decisions)', String(summary.applications)],
    ['approved / declined / referred', `${summary.approved} / ${summary.declined} / ${summary.referred}`],
    ['approval rate', pct(summary.approvalRate)],
    ['loans opened', String(summary.loans)],
    ['credit-line draws', String(summary.draws)],
    ['disbursed', yuan(summary.disbursedMinor)],
    ['repaid', yuan(summary.repaidMinor)],
    ['outstanding principal at the end', yuan(summary.outstandingMinor)],
    ['NPL ratio', pct(summary.nplRatio)],
    ['PAR30', pct(summary.par30)],
    ['written off (losses)', `${yuan(summary.writtenOffMinor)} in ${summary.writtenOffLoans} loans`],
    ['loan-loss allowance at the end', yuan(summary.provisionMinor)],
    ['interest income (accrual basis)', yuan(summary.interestIncomeMinor)],
    ['firms failed', String(summary.failedFirms)],
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Puhui simulation: ${summary.smes} SMEs × ${summary.months} months, seed ${summary.seed}</title>
<style>body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#1f2328;max-width:1400px}
table{border-collapse:collapse;margin:1rem 0}td{padding:.25rem .75rem;border-bottom:1px solid #d0d7de}td:first-child{color:#57606a}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts svg{border:1px solid #d0d7de;border-radius:6px;background:#fff}small{color:#57606a}</style></head>
<body><h1>Puhui simulation 普惠模拟</h1>
<p><small>Every loan went through the real decision engine and servicing, with close of business for every day. Puhui ${escapeHtml(meta.version)}. Ratios by DOMAIN.md: NPL = substandard + doubtful + loss principal ÷ outstanding principal; PAR30 = principal of loans &gt; 30 days past due ÷ outstanding principal.</small></p>
<table>${rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<div class="charts">${charts.join('\n')}</div>
</body></html>
`
}
