// Features over time: the features at each of the last 12 month-ends (three requests at a time, each
// audited server-side), drawn as an ECharts line chart of GMV, money received and declared revenue.
import { useEffect, useMemo, useState } from 'react'
import { api, asApiError, type ApiError, type FeatureReport, type Purpose } from '../../api.ts'
import { useI18n, type MessageKey } from '../../i18n.ts'
import { ErrorNotice, Loading } from '../../ui.tsx'
import { Chart as EChart, type ChartOption } from '../../chart.tsx'
import { monthEnds } from './format.ts'


const months = 12
const concurrency = 3
const font = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'
const muted = '#66757d'
const line = '#e4e9ec'

/** The plotted series: a feature (or a transformation of it) and its colour. */
const lines: { label: MessageKey; color: string; value(features: FeatureReport['features']): number | null }[] = [
  { label: 'history.gmv3m', color: '#0e7c66', value: (f) => f.gmv_3m ?? null },
  { label: 'history.inflow6m', color: '#2f6fb3', value: (f) => f.inflow_6m ?? null },
  { label: 'history.declaredMonthly', color: '#e0803a', value: (f) => (f.declared_revenue_12m === null || f.declared_revenue_12m === undefined ? null : f.declared_revenue_12m / 12) },
]

type History = { kind: 'loading'; done: number } | { kind: 'error'; error: ApiError } | { kind: 'done'; reports: FeatureReport[] }

/** Runs `task` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

function Chart(props: { option: ChartOption; label: string }) {
  return <EChart option={props.option} label={props.label} testId="chart-features-over-time" />
}

export function FeatureHistory(props: { enterpriseId: string; purpose: Purpose; asOf: string; version: number }) {
  const { t, lang } = useI18n()
  const dates = useMemo(() => monthEnds(props.asOf, months), [props.asOf])
  const last = dates[dates.length - 1] ?? props.asOf
  const [history, setHistory] = useState<History>({ kind: 'loading', done: 0 })
  const [attempt, setAttempt] = useState(0)

  useEffect(() => {
    const controller = new AbortController()
    let done = 0
    setHistory({ kind: 'loading', done: 0 })
    mapLimited(dates, concurrency, async (asOf) => {
      const report = await api.features(props.enterpriseId, { purpose: props.purpose, asOf }, controller.signal)
      if (!controller.signal.aborted) setHistory({ kind: 'loading', done: ++done })
      return report
    }).then(
      (reports) => {
        if (!controller.signal.aborted) setHistory({ kind: 'done', reports })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          controller.abort() // the other requests in flight are no longer needed
          setHistory({ kind: 'error', error: asApiError(error) })
        }
      },
    )
    return () => controller.abort()
    // `dates` changes only with the month closed by the as-of date: other dates in it need no new fetch.
  }, [props.enterpriseId, props.purpose, last, props.version, attempt])

  const option = useMemo<ChartOption | null>(() => {
    if (history.kind !== 'done') return null
    const monthLabel = new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'short', timeZone: 'UTC' })
    const compact = new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 })
    const amount = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    const series = lines
      .map((spec) => ({ spec, data: history.reports.map((report) => spec.value(report.features)) }))
      .filter(({ data }) => data.some((value) => value !== null))
    if (series.length === 0) return null
    return {
      textStyle: { fontFamily: font },
      color: series.map(({ spec }) => spec.color),
      grid: { left: 8, right: 20, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0, left: 0, textStyle: { color: muted, fontFamily: font } },
      tooltip: { trigger: 'axis', valueFormatter: (value) => (typeof value === 'number' ? amount.format(value) : '—') },
      xAxis: {
        type: 'category',
        boundaryGap: false,
        data: dates.map((date) => monthLabel.format(new Date(`${date}T00:00:00Z`))),
        axisLine: { lineStyle: { color: line } },
        axisTick: { show: false },
        axisLabel: { color: muted, fontFamily: font },
      },
      yAxis: {
        type: 'value',
        axisLabel: { color: muted, fontFamily: font, formatter: (value: number) => compact.format(value) },
        splitLine: { lineStyle: { color: line, type: 'dashed' } },
      },
      series: series.map(({ spec, data }) => ({ type: 'line', name: t(spec.label), data, symbolSize: 6, connectNulls: false, lineStyle: { width: 2 } })),
    }
  }, [history, dates, lang, t])

  return (
    <section className="card profile-card" data-testid="features-over-time" aria-busy={history.kind === 'loading'}>
      <h2>{t('history.title')}</h2>
      <p className="muted small">{t('history.subtitle', { month: new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(`${last}T00:00:00Z`)), purpose: t(`purpose.${props.purpose}`) })}</p>
      {history.kind === 'loading' && <Loading label={t('history.progress', { done: history.done, total: dates.length })} />}
      {history.kind === 'error' && <ErrorNotice error={history.error} onRetry={() => setAttempt((n) => n + 1)} />}
      {history.kind === 'done' && (option === null ? <p className="muted" data-testid="history-empty">{t('history.empty')}</p> : <Chart option={option} label={t('history.chart')} />)}
    </section>
  )
}
