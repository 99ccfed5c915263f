// Operator dashboard: the portfolio (GET /v1/portfolio/summary: outstanding, disbursed, approval rate, NPL,
// PAR30, five-tier classes, vintage curves, decisions by month) and the tenant's users and activity
// (GET /v1/dashboard/summary), as KPI cards and ECharts charts (loaded lazily with ECharts).
import { useMemo } from 'react'
import { api, roles, type DashboardSummary } from '../api.ts'
import { useI18n, type I18n } from '../i18n.ts'
import { formatMinor, formatShare, lendingApi, type Portfolio } from '../lending-api.ts'
import { ErrorNotice, Loading, PageHeader, useLoad } from '../ui.tsx'
import { Chart, type ChartOption } from '../chart.tsx'

const tierColors: Record<string, string> = { normal: '#0e7c66', special_mention: '#c98a1a', substandard: '#e0803a', doubtful: '#b42318', loss: '#5c1a14' }
const vintageColors = ['#0e7c66', '#2f6fb0', '#e0803a', '#8a4fb5', '#c98a1a', '#b42318', '#3a9a8f', '#6b7d2a', '#d0517b', '#4d5a61', '#1f9bd1', '#9c6b30']

/** Outstanding principal by five-tier class (bars), labelled with the number of loans. */
function tiersOption(p: Portfolio, i18n: I18n): ChartOption {
  return {
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (value) => formatMinor(String(Math.round(Number(value) * 100)), i18n.lang, p.currency) },
    xAxis: { type: 'category', data: p.tiers.map((g) => i18n.t(tierKey(g.key))), ...axisCommon(), axisLabel: { color: palette.muted, fontFamily: font, interval: 0 }, splitLine: { show: false } },
    yAxis: { type: 'value', ...axisCommon() },
    series: [
      {
        type: 'bar',
        name: i18n.t('portfolio.outstanding'),
        data: p.tiers.map((g) => ({ value: Number(BigInt(g.outstandingMinor) / 100n), itemStyle: { color: tierColors[g.key] ?? palette.primary, borderRadius: [4, 4, 0, 0] } })),
        barMaxWidth: 36,
        label: { show: true, position: 'top', color: palette.text, fontFamily: font, formatter: ({ dataIndex }) => String(p.tiers[dataIndex]?.loans ?? 0) },
      },
    ],
  }
}

/** Cumulative share of each origination month's loans ever 30+ DPD, by months on book (one line per cohort). */
function vintageOption(p: Portfolio, i18n: I18n): ChartOption {
  const longest = p.vintages.reduce((max, v) => Math.max(max, v.points.length), 1)
  return {
    textStyle: { fontFamily: font },
    color: vintageColors,
    grid: { left: 8, right: 16, top: 40, bottom: 24, containLabel: true },
    legend: { type: 'plain', top: 0, textStyle: { color: palette.muted, fontFamily: font } },
    tooltip: { trigger: 'axis', valueFormatter: (value) => formatShare(Number(value), i18n.lang, 1) },
    xAxis: { type: 'category', name: i18n.t('portfolio.monthsOnBook'), nameLocation: 'middle', nameGap: 26, data: Array.from({ length: longest }, (_, m) => String(m)), ...axisCommon(), splitLine: { show: false } },
    yAxis: { type: 'value', axisLabel: { color: palette.muted, formatter: (value: number) => formatShare(value, i18n.lang, 0) }, min: 0, splitLine: { lineStyle: { color: palette.line, type: 'dashed' } } },
    series: p.vintages.map((v) => ({ type: 'line' as const, name: v.cohort, data: v.points.map((point) => Number(point.share)), symbolSize: 5, smooth: false })),
  }
}

/** Decisions by month, stacked by outcome. */
function decisionsOption(p: Portfolio, i18n: I18n): ChartOption {
  const colors = { approved: palette.primary, referred: palette.warn, declined: palette.danger } as const
  return {
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: palette.muted, fontFamily: font } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: p.applicationsByMonth.map((m) => m.month), ...axisCommon(), splitLine: { show: false } },
    yAxis: { type: 'value', minInterval: 1, ...axisCommon() },
    series: (['approved', 'referred', 'declined'] as const).map((outcome) => ({
      type: 'bar' as const, stack: 'decisions', name: i18n.t(`outcome.${outcome}`), data: p.applicationsByMonth.map((m) => m[outcome]), itemStyle: { color: colors[outcome] }, barMaxWidth: 28,
    })),
  }
}

const tierKey = (tier: string) => (['normal', 'special_mention', 'substandard', 'doubtful', 'loss'].includes(tier) ? (`tier.${tier}` as 'tier.normal') : 'tier.normal')

function PortfolioSection() {
  const i18n = useI18n()
  const { t, lang, formatNumber } = i18n
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.portfolio(signal), 'portfolio')
  const tiers = useMemo(() => (data === undefined ? undefined : tiersOption(data, i18n)), [data, i18n])
  const vintages = useMemo(() => (data === undefined ? undefined : vintageOption(data, i18n)), [data, i18n])
  const decisions = useMemo(() => (data === undefined ? undefined : decisionsOption(data, i18n)), [data, i18n])
  if (error !== undefined) return <ErrorNotice error={error} onRetry={reload} />
  if (data === undefined) return loading ? <Loading label={t('portfolio.loading')} /> : null
  const money = (minor: string) => formatMinor(minor, lang, data.currency)
  return (
    <section data-testid="portfolio" aria-label={t('portfolio.title')}>
      <h2 className="section-title">{t('portfolio.title', { currency: data.currency, date: data.businessDate })}</h2>
      <div className="kpis">
        <Kpi id="outstanding" label={t('portfolio.outstanding')} value={money(data.outstandingPrincipalMinor)} hint={t('portfolio.activeLoans', { n: formatNumber(data.activeLoans) })} />
        <Kpi id="disbursed-month" label={t('portfolio.disbursedMonth', { month: data.disbursed.month })} value={money(data.disbursed.monthMinor)} hint={t('portfolio.loansCount', { n: formatNumber(data.disbursed.monthLoans) })} />
        <Kpi id="disbursed-total" label={t('portfolio.disbursedTotal')} value={money(data.disbursed.totalMinor)} hint={t('portfolio.loansCount', { n: formatNumber(data.disbursed.totalLoans) })} />
        <Kpi id="approval-rate" label={t('portfolio.approvalRate')} value={formatShare(data.applications.approvalRate, lang, 1)} hint={t('portfolio.decided', { n: formatNumber(data.applications.decided), referred: formatNumber(data.applications.referred) })} />
        <Kpi id="npl" label={t('portfolio.npl')} value={formatShare(data.nplRatio, lang)} hint={money(data.nplMinor)} />
        <Kpi id="par30" label={t('portfolio.par30')} value={formatShare(data.par30, lang)} hint={money(data.par30Minor)} />
      </div>
      <div className="charts">
        <div className="card chart-card">
          <h2>{t('portfolio.byTier')}</h2>
          {tiers !== undefined && <Chart option={tiers} label={t('portfolio.byTier')} testId="chart-tiers" />}
        </div>
        <div className="card chart-card">
          <h2>{t('portfolio.vintages')}</h2>
          {data.vintages.length === 0 ? <p className="muted">{t('portfolio.noVintages')}</p> : vintages !== undefined && <Chart option={vintages} label={t('portfolio.vintages')} testId="chart-vintages" />}
        </div>
        <div className="card chart-card">
          <h2>{t('portfolio.decisionsByMonth')}</h2>
          {decisions !== undefined && <Chart option={decisions} label={t('portfolio.decisionsByMonth')} testId="chart-decisions" />}
        </div>
      </div>
    </section>
  )
}


const palette = { primary: '#0e7c66', primarySoft: 'rgba(14, 124, 102, 0.16)', accent: '#e0803a', text: '#1d2a30', muted: '#66757d', line: '#e4e9ec', warn: '#c98a1a', danger: '#b42318' }
const font = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'

/** The 14 calendar days ending today in the tenant's time zone (or the last day with events, if later). */
function lastDays(summary: DashboardSummary, count: number): string[] {
  let today: string
  try {
    today = new Intl.DateTimeFormat('en-CA', { timeZone: summary.tenant.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
  } catch {
    today = new Date().toISOString().slice(0, 10)
  }
  const latest = summary.auditEventsByDay.reduce((max, row) => (row.day > max ? row.day : max), today)
  const end = new Date(`${latest}T00:00:00Z`).getTime()
  return Array.from({ length: count }, (_, i) => new Date(end - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10))
}

function axisCommon() {
  return {
    axisLine: { lineStyle: { color: palette.line } },
    axisTick: { show: false },
    axisLabel: { color: palette.muted, fontFamily: font },
    splitLine: { lineStyle: { color: palette.line, type: 'dashed' as const } },
  }
}

function usersByRoleOption(summary: DashboardSummary, i18n: I18n): ChartOption {
  const ordered = [...roles].reverse() // the first role at the top of a horizontal bar chart
  return {
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', minInterval: 1, ...axisCommon() },
    yAxis: { type: 'category', data: ordered.map((role) => i18n.t(`role.${role}`)), ...axisCommon(), splitLine: { show: false } },
    series: [
      {
        type: 'bar',
        name: i18n.t('chart.users'),
        data: ordered.map((role) => summary.usersByRole[role] ?? 0),
        barMaxWidth: 18,
        itemStyle: { color: palette.primary, borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: 'right', color: palette.text, fontFamily: font, formatter: ({ value }) => (value === 0 ? '' : String(value)) },
      },
    ],
  }
}

function auditByDayOption(summary: DashboardSummary, i18n: I18n): ChartOption {
  const byDay = new Map(summary.auditEventsByDay.map((row) => [row.day, row.events]))
  const days = lastDays(summary, 14)
  const dayLabel = new Intl.DateTimeFormat(i18n.lang, { month: 'short', day: 'numeric', timeZone: 'UTC' })
  return {
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', boundaryGap: false, data: days.map((day) => dayLabel.format(new Date(`${day}T00:00:00Z`))), ...axisCommon(), splitLine: { show: false } },
    yAxis: { type: 'value', minInterval: 1, ...axisCommon() },
    series: [
      {
        type: 'line',
        name: i18n.t('chart.events'),
        data: days.map((day) => byDay.get(day) ?? 0),
        symbolSize: 6,
        lineStyle: { color: palette.accent, width: 2 },
        itemStyle: { color: palette.accent },
        areaStyle: { color: { type: 'linear', x: 0, y: 0, x2: 0, y2: 1, colorStops: [{ offset: 0, color: 'rgba(224, 128, 58, 0.28)' }, { offset: 1, color: 'rgba(224, 128, 58, 0.02)' }] } },
      },
    ],
  }
}

function Kpi(props: { id: string; label: string; value: string; hint?: string }) {
  return (
    <div className="card kpi" data-testid={`kpi-${props.id}`}>
      <div className="kpi-label">{props.label}</div>
      <div className="kpi-value" data-testid={`kpi-${props.id}-value`}>
        {props.value}
      </div>
      {props.hint !== undefined && <div className="kpi-hint muted small">{props.hint}</div>}
    </div>
  )
}

export default function Dashboard(props: { tenantName: string }) {
  const i18n = useI18n()
  const { t, formatNumber } = i18n
  const { data, error, loading, reload } = useLoad((signal) => api.dashboard(signal), 'summary')
  const roleOption = useMemo(() => (data === undefined ? undefined : usersByRoleOption(data, i18n)), [data, i18n])
  const auditOption = useMemo(() => (data === undefined ? undefined : auditByDayOption(data, i18n)), [data, i18n])
  return (
    <section data-testid="dashboard" aria-busy={loading}>
      <PageHeader title={t('dashboard.title')} subtitle={t('dashboard.subtitle', { tenant: data?.tenant.name ?? props.tenantName })} />
      <PortfolioSection />
      <h2 className="section-title">{t('dashboard.tenantSection')}</h2>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <>
          <div className="kpis">
            <Kpi id="enterprises" label={t('kpi.enterprises')} value={formatNumber(data.enterprises)} />
            <Kpi id="users" label={t('kpi.users')} value={formatNumber(data.users)} />
            <Kpi id="active-api-keys" label={t('kpi.activeApiKeys')} value={formatNumber(data.activeApiKeys)} />
            <Kpi id="business-date" label={t('kpi.businessDate')} value={data.tenant.businessDate} hint={t('kpi.timeZone', { tz: data.tenant.timeZone })} />
          </div>
          <div className="charts">
            <div className="card chart-card">
              <h2>{t('chart.usersByRole')}</h2>
              {roleOption !== undefined && <Chart option={roleOption} label={t('chart.usersByRole')} testId="chart-users-by-role" />}
            </div>
            <div className="card chart-card">
              <h2>{t('chart.auditByDay')}</h2>
              {auditOption !== undefined && <Chart option={auditOption} label={t('chart.auditByDay')} testId="chart-audit-by-day" />}
            </div>
          </div>
        </>
      )}
    </section>
  )
}
