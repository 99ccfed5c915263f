// A model version's page (loaded lazily with ECharts): provenance, training metrics, ROC and KS curves
// computed here from the training score bands, the score distribution, calibration, the scorecard's
// variables and bins, and drift monitoring (score PSI, variable CSI) over a chosen window.
import { Fragment, useMemo, useState } from 'react'
import { api, type ModelDetail as Model, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { cumulativeCurves, describeBin, ksCurve, monitoringWindows, rocArea, rocPoints, scoreBandsOf, windowStart, type ModelBin, type MonitoringWindow } from '../model-charts.ts'
import { ErrorNotice, Link, Loading, PageHeader, useLoad } from '../ui.tsx'
import { Chart as ModelChart } from '../chart.tsx'
import { StatusActions, StatusBadge, authorLabel, canManageModels, fixed, percent } from './models/common.tsx'
import { calibrationOption, csiOption, distributionOption, ksOption, rocOption, type CalibrationRow } from './models/options.ts'

type Variable = { name: string; type: string; iv: number | null; coefficient: number | null; integerValued: boolean; bins: ModelBin[] }

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null)
const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {})

/** What the page shows of the artefact, read defensively (it is the JSON the trainer wrote). */
function readArtefact(artefact: Record<string, unknown>) {
  const metrics = record(artefact.metrics)
  const card = record(artefact.card)
  const training = record(artefact.trainingData)
  const calibration = (Array.isArray(metrics.calibration) ? metrics.calibration : []).filter(
    (row): row is CalibrationRow => num(record(row).meanPredicted) !== null && num(record(row).observedBadRate) !== null,
  )
  const variables: Variable[] = (Array.isArray(card.variables) ? card.variables : []).flatMap((value) => {
    const v = record(value)
    if (typeof v.name !== 'string' || !Array.isArray(v.bins)) return []
    return [{ name: v.name, type: typeof v.type === 'string' ? v.type : '', iv: num(v.iv), coefficient: num(v.coefficient), integerValued: v.integerValued === true, bins: v.bins as ModelBin[] }]
  })
  return {
    metrics: { auc: num(metrics.auc), ks: num(metrics.ks), gini: num(metrics.gini), brier: num(metrics.brier), n: num(metrics.n), cvAuc: num(metrics.cvAuc), cvFolds: num(metrics.cvFolds) },
    bands: scoreBandsOf(metrics),
    calibration,
    variables,
    basePoints: num(card.basePoints),
    trainedAt: typeof artefact.createdAt === 'string' ? artefact.createdAt : null,
    bads: num(training.bads),
  }
}

function Kpi(props: { id: string; label: string; value: string; hint?: string | undefined }) {
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

export default function ModelDetail(props: { id: string; role: Role }) {
  const i18n = useI18n()
  const { t } = i18n
  const { data, error, loading, reload } = useLoad((signal) => api.model(props.id, signal), props.id)
  const [notice, setNotice] = useState<string | null>(null)
  return (
    <section data-testid="model-detail" aria-busy={loading}>
      <p className="model-back">
        <Link to="/models">← {t('model.back')}</Link>
      </p>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <>
          <PageHeader
            title={t('model.title', { name: data.name, version: data.version })}
            subtitle={t('model.subtitle', { target: data.target.column, bad: data.target.bad, at: i18n.formatDateTime(data.createdAt), author: authorLabel(i18n, data.author) })}
          >
            <div className="model-head-status">
              <StatusBadge status={data.status} />
              {canManageModels(props.role) && (
                <StatusActions
                  model={data}
                  onChanged={(model) => {
                    setNotice(t('models.statusChanged', { name: model.name, version: model.version, status: t(`models.status.${model.status}`) }))
                    reload()
                  }}
                />
              )}
            </div>
          </PageHeader>
          {notice !== null && (
            <div className="notice notice-info" role="status">
              <span>{notice}</span>
            </div>
          )}
          <Body model={data} />
          <Monitoring id={data.id} variables={data.variables} />
          <p className="muted small model-fingerprint">
            {t('model.fingerprint')} <code>{data.fingerprint}</code>
          </p>
        </>
      )}
    </section>
  )
}

function Body(props: { model: Model }) {
  const i18n = useI18n()
  const { t, lang } = i18n
  const view = useMemo(() => readArtefact(props.model.artefact), [props.model.artefact])
  const { metrics, bands, calibration } = view
  const ks = useMemo(() => ksCurve(bands), [bands])
  const roc = useMemo(() => rocPoints(bands), [bands])
  const hasCurves = cumulativeCurves(bands) !== undefined && ks !== undefined
  const width = bands[0] === undefined ? null : bands[0].to - bands[0].from
  const options = useMemo(
    () => ({
      roc: hasCurves ? rocOption(roc, i18n) : undefined,
      ks: ks === undefined ? undefined : ksOption(ks, i18n),
      distribution: bands.length === 0 ? undefined : distributionOption(bands, i18n),
      calibration: calibration.length === 0 ? undefined : calibrationOption(calibration, i18n),
    }),
    [hasCurves, roc, ks, bands, calibration, i18n],
  )
  const bandAuc = rocArea(bands)
  return (
    <>
      <div className="kpis model-kpis">
        <Kpi id="auc" label={t('model.kpi.auc')} value={fixed(lang, metrics.auc)} hint={t('model.kpi.hint')} />
        <Kpi id="ks" label={t('model.kpi.ks')} value={fixed(lang, metrics.ks)} hint={t('model.kpi.hint')} />
        <Kpi id="gini" label={t('model.kpi.gini')} value={fixed(lang, metrics.gini)} hint={t('model.kpi.hint')} />
        <Kpi id="brier" label={t('model.kpi.brier')} value={fixed(lang, metrics.brier)} hint={t('model.kpi.hint')} />
        <Kpi id="cv-auc" label={t('model.kpi.cvAuc')} value={fixed(lang, metrics.cvAuc)} hint={metrics.cvFolds === null ? undefined : t('model.kpi.cvHint', { folds: metrics.cvFolds })} />
        <Kpi id="n" label={t('model.kpi.n')} value={metrics.n === null ? '—' : i18n.formatNumber(metrics.n)} hint={view.bads === null ? undefined : t('model.kpi.nHint', { bads: i18n.formatNumber(view.bads) })} />
      </div>

      <section className="model-section" aria-labelledby="model-curves">
        <h2 id="model-curves">{t('model.curves.title')}</h2>
        {hasCurves ? (
          <p className="muted small model-note" data-testid="curves-note">
            {t('model.curves.note', { width: width ?? '—' })}
          </p>
        ) : (
          <div className="notice notice-info">
            <span>{t('model.curves.none')}</span>
          </div>
        )}
        <div className="charts model-charts">
          {options.roc !== undefined && (
            <div className="card chart-card">
              <div className="model-chart-head">
                <h3>{t('model.roc.title')}</h3>
                {bandAuc !== undefined && (
                  <span className="muted small" data-testid="roc-area">
                    {t('model.roc.area', { auc: fixed(lang, bandAuc) })}
                  </span>
                )}
              </div>
              <ModelChart option={options.roc} label={t('model.roc.title')} testId="chart-roc" />
            </div>
          )}
          {options.ks !== undefined && ks !== undefined && (
            <div className="card chart-card">
              <div className="model-chart-head">
                <h3>{t('model.ks.title')}</h3>
                <strong className="model-ks-value" data-testid="ks-value">
                  {t('model.ks.value', { ks: fixed(lang, ks.ks), score: ks.score })}
                </strong>
              </div>
              <ModelChart option={options.ks} label={t('model.ks.title')} testId="chart-ks" />
            </div>
          )}
          {options.distribution !== undefined && (
            <div className="card chart-card">
              <div className="model-chart-head">
                <h3>{t('model.dist.title')}</h3>
              </div>
              <ModelChart option={options.distribution} label={t('model.dist.title')} testId="chart-distribution" />
            </div>
          )}
          <div className="card chart-card">
            <div className="model-chart-head">
              <h3>{t('model.cal.title')}</h3>
            </div>
            {options.calibration === undefined ? <p className="muted">{t('model.cal.none')}</p> : <ModelChart option={options.calibration} label={t('model.cal.title')} testId="chart-calibration" />}
          </div>
        </div>
      </section>

      <Variables variables={view.variables} basePoints={view.basePoints} />
    </>
  )
}

function pointsRange(bins: readonly ModelBin[]): string {
  const points = bins.filter((bin) => bin.kind !== 'unseen' || bin.points !== 0).map((bin) => bin.points)
  if (points.length === 0) return '—'
  const low = Math.min(...points)
  const high = Math.max(...points)
  return `${Math.round(low)} … ${Math.round(high)}`
}

function Variables(props: { variables: Variable[]; basePoints: number | null }) {
  const i18n = useI18n()
  const { t, lang } = i18n
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set())
  const toggle = (name: string) =>
    setOpen((previous) => {
      const next = new Set(previous)
      if (next.has(name)) next.delete(name)
      else next.add(name)
      return next
    })
  const colSpan = 7
  return (
    <section className="card card-flush model-section-card" aria-labelledby="model-variables" data-testid="model-variables">
      <div className="model-card-head">
        <div>
          <h2 id="model-variables">{t('model.vars.title')}</h2>
          <p className="muted small">{t('model.vars.subtitle', { base: props.basePoints === null ? '—' : Math.round(props.basePoints) })}</p>
        </div>
      </div>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>{t('model.vars.name')}</th>
              <th>{t('model.vars.type')}</th>
              <th className="num">{t('model.vars.iv')}</th>
              <th className="num">{t('model.vars.coefficient')}</th>
              <th className="num">{t('model.vars.bins')}</th>
              <th className="num">{t('model.vars.points')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.variables.map((variable) => {
              const expanded = open.has(variable.name)
              const shownBins = variable.bins.filter((bin) => bin.count > 0 || bin.points !== 0)
              return (
                <Fragment key={variable.name}>
                  <tr data-testid={`variable-${variable.name}`}>
                    <td>
                      <span className="tag">{variable.name}</span>
                    </td>
                    <td className="muted">{variable.type === 'numeric' ? t('model.vars.numeric') : variable.type === 'categorical' ? t('model.vars.categorical') : variable.type}</td>
                    <td className="num">{fixed(lang, variable.iv)}</td>
                    <td className="num">{fixed(lang, variable.coefficient)}</td>
                    <td className="num">{shownBins.length}</td>
                    <td className="num">{pointsRange(variable.bins)}</td>
                    <td className="model-toggle-cell">
                      <button type="button" className="button button-small button-ghost" aria-expanded={expanded} aria-controls={`bins-${variable.name}`} onClick={() => toggle(variable.name)}>
                        {expanded ? t('model.vars.hide') : t('model.vars.show')}
                      </button>
                    </td>
                  </tr>
                  {expanded && (
                    <tr id={`bins-${variable.name}`} className="model-bins-row">
                      <td colSpan={colSpan}>
                        <table className="table model-bins" data-testid={`bins-${variable.name}`}>
                          <thead>
                            <tr>
                              <th>{t('model.bin.label')}</th>
                              <th className="num">{t('model.bin.count')}</th>
                              <th className="num">{t('model.bin.bads')}</th>
                              <th className="num">{t('model.bin.badRate')}</th>
                              <th className="num">{t('model.bin.woe')}</th>
                              <th className="num">{t('model.bin.points')}</th>
                            </tr>
                          </thead>
                          <tbody>
                            {shownBins.map((bin, index) => {
                              const label = describeBin(bin, variable.integerValued)
                              return (
                                <tr key={index}>
                                  <td>
                                    {lang === 'en' ? label.en : label.zh}
                                    {bin.kind === 'categories' && bin.rare && <span className="badge badge-muted model-rare">{t('model.bin.rare')}</span>}
                                  </td>
                                  <td className="num">{i18n.formatNumber(bin.count)}</td>
                                  <td className="num">{i18n.formatNumber(bin.bads)}</td>
                                  <td className="num">{bin.count === 0 ? '—' : percent(lang, bin.bads / bin.count)}</td>
                                  <td className="num">{fixed(lang, bin.woe)}</td>
                                  <td className={`num model-points${bin.points < 0 ? ' is-negative' : ''}`}>{fixed(lang, bin.points, 1)}</td>
                                </tr>
                              )
                            })}
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  )}
                </Fragment>
              )
            })}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function Monitoring(props: { id: string; variables: string[] }) {
  const i18n = useI18n()
  const { t, lang } = i18n
  const [span, setSpan] = useState<MonitoringWindow>('30d')
  const { data, error, loading, reload } = useLoad((signal) => api.modelMonitoring(props.id, windowStart(span, new Date()), signal), `${props.id}:${span}`)
  const csi = useMemo(() => (data === undefined ? [] : props.variables.map((name): [string, number | null] => [name, data.csi[name] ?? null])), [data, props.variables])
  const option = useMemo(() => (data === undefined || data.n === 0 ? undefined : csiOption(csi, i18n)), [data, csi, i18n])
  const stability = data?.scoreStability ?? null
  return (
    <section className="card model-section-card model-monitoring" aria-labelledby="model-monitoring" data-testid="model-monitoring" aria-busy={loading}>
      <div className="model-card-head">
        <div>
          <h2 id="model-monitoring">{t('model.mon.title')}</h2>
          <p className="muted small">{t('model.mon.subtitle')}</p>
        </div>
        <div className="form-row">
          <label className="field">
            <span>{t('model.mon.window')}</span>
            <select value={span} onChange={(event) => setSpan(event.target.value as MonitoringWindow)}>
              {monitoringWindows.map((option) => (
                <option key={option} value={option}>
                  {t(`model.mon.window.${option}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className={loading ? 'is-busy' : undefined}>
          <dl className="model-monitor-figures">
            <div>
              <dt>{t('model.mon.n')}</dt>
              <dd data-testid="monitoring-n">{i18n.formatNumber(data.n)}</dd>
            </div>
            <div>
              <dt>{t('model.mon.psi')}</dt>
              <dd>
                <span className={`badge model-stability model-stability-${stability ?? 'none'}`} data-testid="psi-badge" data-stability={stability ?? ''}>
                  {data.scorePsi === null ? t('model.mon.noPsi') : `PSI ${fixed(lang, data.scorePsi)}`}
                  {stability !== null && ` · ${t(`model.mon.stability.${stability}`)}`}
                </span>
              </dd>
            </div>
            <div>
              <dt>{t('model.mon.shifted')}</dt>
              <dd data-testid="shifted-variables">
                {data.n === 0 ? '—' : data.shiftedVariables.length === 0 ? <span className="muted">{t('model.mon.noShift')}</span> : data.shiftedVariables.map((name) => <span key={name} className="tag model-shifted">{name}</span>)}
              </dd>
            </div>
          </dl>
          {option === undefined ? (
            <p className="muted">{t('model.mon.none')}</p>
          ) : (
            <>
              <h3 className="model-csi-title">{t('model.mon.csi')}</h3>
              <ModelChart option={option} label={t('model.mon.csi')} testId="chart-csi" height={Math.max(180, csi.length * 26 + 48)} />
            </>
          )}
        </div>
      )}
    </section>
  )
}
