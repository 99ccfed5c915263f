// The console's one ECharts canvas (ECharts imported modularly: line and bar charts, grid, legend, tooltip,
// mark lines), with the shared palette and axis style. Every chart of every page goes through `Chart`.
import { useEffect, useRef } from 'react'
import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type MarkLineComponentOption,
  type TooltipComponentOption,
} from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, CanvasRenderer])

export type ChartOption = echarts.ComposeOption<BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | MarkLineComponentOption | TooltipComponentOption>

export const palette = {
  primary: '#0e7c66',
  primarySoft: 'rgba(14, 124, 102, 0.12)',
  accent: '#e0803a',
  danger: '#b42318',
  warn: '#c98a1a',
  text: '#1d2a30',
  muted: '#66757d',
  line: '#e4e9ec',
  diagonal: '#9aa7ad',
}
export const font = 'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'

export function axisCommon() {
  return {
    axisLine: { lineStyle: { color: palette.line } },
    axisTick: { show: false },
    axisLabel: { color: palette.muted, fontFamily: font },
    splitLine: { lineStyle: { color: palette.line, type: 'dashed' as const } },
    nameTextStyle: { color: palette.muted, fontFamily: font, fontSize: 12 },
  }
}

/** Created on mount, updated with the option, resized with its box, disposed on unmount. */
export function Chart(props: { option: ChartOption; label: string; testId: string; height?: number }) {
  const element = useRef<HTMLDivElement>(null)
  const chart = useRef<echarts.ECharts | null>(null)
  useEffect(() => {
    const host = element.current
    if (host === null) return
    const instance = echarts.init(host, null, { renderer: 'canvas' })
    chart.current = instance
    const observer = new ResizeObserver(() => instance.resize())
    observer.observe(host)
    return () => {
      observer.disconnect()
      instance.dispose()
      chart.current = null
    }
  }, [])
  useEffect(() => {
    chart.current?.setOption(props.option, true)
  }, [props.option])
  return <div ref={element} className="chart" style={props.height === undefined ? undefined : { height: props.height }} role="img" aria-label={props.label} data-testid={props.testId} />
}
