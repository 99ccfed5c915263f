// Operator dashboard: KPI cards and two ECharts charts from GET /v1/dashboard/summary (loaded lazily with ECharts).
import { useMemo } from 'react'
import { api, roles, type DashboardSummary } from '../api.ts'
import { useI18n, type I18n } from '../i18n.ts'
import { ErrorNotice, Loading, PageHeader, useLoad } from '../ui.tsx'
import { Chart, type ChartOption } from '../chart.tsx'


const palette = { primary: '#0e7c66', primarySoft: 'rgba(14, 124, 102, 0.16)', accent: '#e0803a', text: '#1d2a30', muted: '#66757d', line: '#e4e9ec' }
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
