// ECharts options of a model version's charts: ROC and KS from the training score bands, the score
// distribution with its bad rate, calibration by decile, and the CSI of each variable with the
// 0.1 / 0.25 reference lines.
import type { LineSeriesOption } from 'echarts/charts'
import type { TooltipComponentOption } from 'echarts/components'
import type { I18n, Lang } from '../../i18n.ts'
import { bandRates, psiShift, psiWatch, stabilityOf, type KsResult, type ScoreBand } from '../../model-charts.ts'
import { axisCommon, font, palette, type ChartOption } from '../../chart.tsx'
import { fixed, percent } from './common.tsx'

export type CalibrationRow = { group: number; n: number; meanPredicted: number; observedBadRate: number }

const legend = { top: 0, itemWidth: 16, itemHeight: 8, textStyle: { color: palette.muted, fontFamily: font } }
function diagonal(name: string, max: number): LineSeriesOption {
  return { type: 'line', name, data: [[0, 0], [max, max]], symbol: 'none', silent: true, lineStyle: { color: palette.diagonal, type: 'dashed', width: 1 }, itemStyle: { color: palette.diagonal }, z: 1 }
}

/** A tooltip giving both shares of an [x, y] point (ROC, calibration). */
function pointTooltip(xLabel: string, yLabel: string, lang: Lang): TooltipComponentOption {
  return {
    trigger: 'item',
    formatter: (params) => {
      const value = (params as { value?: unknown }).value
      if (!Array.isArray(value)) return ''
      return `${xLabel}: ${percent(lang, value[0] as number)}<br/>${yLabel}: ${percent(lang, value[1] as number)}`
    },
  }
}

function valueAxis(name: string, max: number, format: (value: number) => string, nameGap: number) {
  return { type: 'value' as const, min: 0, max, name, nameLocation: 'middle' as const, nameGap, ...axisCommon(), axisLabel: { ...axisCommon().axisLabel, formatter: format } }
}

export function rocOption(points: [number, number][], i18n: I18n): ChartOption {
  const { t, lang } = i18n
  const share = (value: number) => percent(lang, value, 0)
  return {
    textStyle: { fontFamily: font },
    legend,
    grid: { left: 56, right: 20, top: 36, bottom: 48 },
    tooltip: pointTooltip(t('model.roc.x'), t('model.roc.y'), lang),
    xAxis: valueAxis(t('model.roc.x'), 1, share, 30),
    yAxis: valueAxis(t('model.roc.y'), 1, share, 44),
    series: [
      { type: 'line', name: t('model.roc.curve'), data: points, symbolSize: 5, lineStyle: { color: palette.primary, width: 2 }, itemStyle: { color: palette.primary }, areaStyle: { color: palette.primarySoft }, z: 2 },
      diagonal(t('model.roc.random'), 1),
    ],
  }
}

export function ksOption(ks: KsResult, i18n: I18n): ChartOption {
  const { t, lang } = i18n
  const scores = ks.cuts.map((cut) => cut.score)
  const low = Math.min(...scores)
  const high = Math.max(...scores)
  return {
    textStyle: { fontFamily: font },
    legend,
    grid: { left: 56, right: 20, top: 36, bottom: 48 },
    tooltip: { trigger: 'axis', valueFormatter: (value) => (typeof value === 'number' ? percent(lang, value) : String(value)) },
    xAxis: { type: 'value', min: low, max: high, name: t('model.ks.score'), nameLocation: 'middle', nameGap: 30, ...axisCommon(), splitLine: { show: false } },
    yAxis: valueAxis('', 1, (value) => percent(lang, value, 0), 44),
    series: [
      {
        type: 'line',
        name: t('model.ks.bads'),
        data: ks.cuts.map((cut) => [cut.score, cut.bad]),
        symbolSize: 5,
        lineStyle: { color: palette.accent, width: 2 },
        itemStyle: { color: palette.accent },
        markLine: {
          animation: false,
          symbol: ['circle', 'circle'],
          symbolSize: 6,
          silent: true,
          lineStyle: { color: palette.danger, type: 'solid', width: 2 },
          label: { formatter: `KS ${fixed(lang, ks.ks)}`, color: palette.danger, fontFamily: font, fontWeight: 'bold', position: 'end', distance: 6 },
          data: [[{ coord: [ks.score, ks.good] }, { coord: [ks.score, ks.bad] }]],
        },
      },
      { type: 'line', name: t('model.ks.goods'), data: ks.cuts.map((cut) => [cut.score, cut.good]), symbolSize: 5, lineStyle: { color: palette.primary, width: 2 }, itemStyle: { color: palette.primary } },
    ],
  }
}

export function distributionOption(bands: readonly ScoreBand[], i18n: I18n): ChartOption {
  const { t, lang } = i18n
  const rows = bandRates(bands)
  return {
    textStyle: { fontFamily: font },
    legend,
    grid: { left: 48, right: 52, top: 36, bottom: 28 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: rows.map((row) => `${row.from}–${row.to}`), ...axisCommon(), splitLine: { show: false } },
    yAxis: [
      { type: 'value', minInterval: 1, ...axisCommon() },
      { type: 'value', min: 0, max: 1, ...axisCommon(), splitLine: { show: false }, axisLabel: { ...axisCommon().axisLabel, formatter: (value: number) => percent(lang, value, 0) } },
    ],
    series: [
      { type: 'bar', name: t('model.dist.n'), data: rows.map((row) => row.n), barMaxWidth: 28, itemStyle: { color: palette.primary, borderRadius: [4, 4, 0, 0] } },
      {
        type: 'line',
        name: t('model.dist.badRate'),
        yAxisIndex: 1,
        data: rows.map((row) => row.badRate),
        symbolSize: 6,
        lineStyle: { color: palette.accent, width: 2 },
        itemStyle: { color: palette.accent },
        tooltip: { valueFormatter: (value) => (typeof value === 'number' ? percent(lang, value) : String(value)) },
      },
    ],
  }
}

export function calibrationOption(rows: readonly CalibrationRow[], i18n: I18n): ChartOption {
  const { t, lang } = i18n
  const top = Math.max(0.1, ...rows.map((row) => Math.max(row.meanPredicted, row.observedBadRate)))
  const max = Math.min(1, Math.ceil(top * 10) / 10)
  const share = (value: number) => percent(lang, value, 0)
  return {
    textStyle: { fontFamily: font },
    legend,
    grid: { left: 56, right: 20, top: 36, bottom: 48 },
    tooltip: pointTooltip(t('model.cal.predicted'), t('model.cal.observed'), lang),
    xAxis: valueAxis(t('model.cal.predicted'), max, share, 30),
    yAxis: valueAxis(t('model.cal.observed'), max, share, 44),
    series: [
      { type: 'line', name: t('model.cal.observed'), data: rows.map((row) => [row.meanPredicted, row.observedBadRate]), symbolSize: 7, lineStyle: { color: palette.accent, width: 2 }, itemStyle: { color: palette.accent }, z: 2 },
      diagonal(t('model.cal.perfect'), max),
    ],
  }
}

export function csiOption(csi: [name: string, value: number | null][], i18n: I18n): ChartOption {
  const { t, lang } = i18n
  const ordered = [...csi].reverse() // the first variable at the top
  const top = Math.max(psiShift * 1.2, ...csi.map(([, value]) => (value ?? 0) * 1.1))
  const colour = { stable: palette.primary, watch: palette.warn, shift: palette.danger }
  return {
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 36, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (value) => (typeof value === 'number' ? fixed(lang, value) : '—') },
    xAxis: { type: 'value', min: 0, max: Math.ceil(top * 20) / 20, ...axisCommon() },
    yAxis: { type: 'category', data: ordered.map(([name]) => name), ...axisCommon(), splitLine: { show: false } },
    series: [
      {
        type: 'bar',
        name: 'CSI',
        barMaxWidth: 14,
        data: ordered.map(([, value]) => (value === null ? { value: null } : { value, itemStyle: { color: colour[stabilityOf(value)], borderRadius: [0, 3, 3, 0] } })),
        label: { show: true, position: 'right', color: palette.text, fontFamily: font, fontSize: 11, formatter: ({ value }) => (typeof value === 'number' ? fixed(lang, value) : '—') },
        markLine: {
          animation: false,
          symbol: 'none',
          silent: true,
          label: { position: 'end', fontFamily: font, fontSize: 11 },
          data: [
            { xAxis: psiWatch, name: t('model.mon.watchLine'), lineStyle: { color: palette.warn, type: 'dashed', width: 1.5 }, label: { formatter: t('model.mon.watchLine'), color: palette.warn } },
            { xAxis: psiShift, name: t('model.mon.shiftLine'), lineStyle: { color: palette.danger, type: 'dashed', width: 1.5 }, label: { formatter: t('model.mon.shiftLine'), color: palette.danger } },
          ],
        },
      },
    ],
  }
}
