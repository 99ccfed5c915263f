// Strategies under maker-checker: the versions with their status (GET /v1/strategies); one version's page
// edits its document as JSON (saved as the next draft version: POST /v1/strategies, the server's path and
// reason errors listed), backtests it over stored applications (POST /v1/strategies/:id/backtest, with
// progress), and moves it draft → submitted → approved (by someone else) → active.
import { useState } from 'react'
import { asApiError, type ApiError, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { formatShare, lendingApi, newIdempotencyKey, type Backtest, type SegmentReport, type Strategy } from '../lending-api.ts'
import { navigate } from '../nav.ts'
import { ErrorNotice, Link, Loading, PageHeader, useLoad } from '../ui.tsx'
import { Facts, StatusBadge } from './lending/common.tsx'

const writers: readonly Role[] = ['admin', 'risk_analyst']

export function Strategies() {
  const { t, formatDateTime } = useI18n()
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.strategies(signal), 'strategies')
  return (
    <section className="lending" data-testid="strategies">
      <PageHeader title={t('strategies.title')} subtitle={t('strategies.subtitle')} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className="card card-flush">
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('strategy.name')}</th>
                  <th scope="col">{t('strategy.version')}</th>
                  <th scope="col">{t('strategy.status')}</th>
                  <th scope="col">{t('strategy.author')}</th>
                  <th scope="col">{t('strategy.updatedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.length === 0 ? (
                  <tr>
                    <td colSpan={5} className="empty">
                      {t('strategies.empty')}
                    </td>
                  </tr>
                ) : (
                  data.items.map((s) => (
                    <tr key={s.id} data-testid="strategy-row">
                      <td className="strong">
                        <Link to={`/strategies/${s.id}`}>{s.name}</Link>
                      </td>
                      <td>v{s.version}</td>
                      <td>
                        <StatusBadge status={s.status} kind="strategy" />
                      </td>
                      <td className="mono small">{s.authorId.slice(0, 8)}</td>
                      <td className="muted nowrap">{formatDateTime(s.updatedAt)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  )
}

const nextActions: Record<string, readonly ('submit' | 'approve' | 'reject' | 'activate' | 'retire')[]> = {
  draft: ['submit'],
  submitted: ['approve', 'reject'],
  approved: ['activate'],
  active: ['retire'],
}

export function StrategyDetail(props: { id: string; role: Role }) {
  const { t } = useI18n()
  const [version, setVersion] = useState(0)
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.strategy(props.id, signal), `${props.id}:${version}`)
  const [busy, setBusy] = useState(false)
  const [actionError, setActionError] = useState<ApiError | null>(null)
  const [note, setNote] = useState('')
  if (error !== undefined) return <ErrorNotice error={error} onRetry={reload} />
  if (data === undefined) return loading ? <Loading /> : null
  const s = data
  const canWrite = writers.includes(props.role)
  const act = async (action: 'submit' | 'approve' | 'reject' | 'activate' | 'retire') => {
    setBusy(true)
    setActionError(null)
    try {
      await lendingApi.transitionStrategy(s.id, action, note.trim() === '' ? undefined : note.trim(), newIdempotencyKey())
      setNote('')
      setVersion((n) => n + 1)
    } catch (caught) {
      setActionError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section className="lending" data-testid="strategy-detail">
      <PageHeader title={`${s.name} v${s.version}`} subtitle={t('strategy.subtitle')}>
        <Link to="/strategies" className="button button-ghost">
          ‹ {t('strategies.back')}
        </Link>
      </PageHeader>
      <div className="card">
        <Facts
          items={[
            [t('strategy.status'), <span data-testid="strategy-status"><StatusBadge status={s.status} kind="strategy" /></span>],
            [t('strategy.author'), <span className="mono small">{s.authorId}</span>],
            [t('strategy.submittedBy'), <span className="mono small">{s.submittedBy ?? '—'}</span>],
            [t('strategy.approvedBy'), <span className="mono small">{s.approvedBy ?? '—'}</span>],
          ]}
        />
        {canWrite && (nextActions[s.status] ?? []).length > 0 && (
          <div className="form">
            <label className="field">
              <span>{t('strategy.note')}</span>
              <input value={note} onChange={(e) => setNote(e.target.value)} placeholder={t('strategy.notePlaceholder')} />
            </label>
            <div className="actions">
              {(nextActions[s.status] ?? []).map((action) => (
                <button key={action} type="button" className={`button ${action === 'reject' || action === 'retire' ? 'button-ghost' : 'button-primary'}`} disabled={busy} onClick={() => void act(action)}>
                  {t(`strategy.action.${action}`)}
                </button>
              ))}
            </div>
            <p className="muted small">{t('strategy.makerChecker')}</p>
          </div>
        )}
        {actionError !== null && <ErrorNotice error={actionError} />}
      </div>
      <DocumentEditor strategy={s} canWrite={canWrite} />
      {canWrite && <BacktestPanel strategyId={s.id} />}
      {s.history.length > 0 && (
        <div className="card">
          <h2>{t('strategy.history')}</h2>
          <ol className="history small">
            {s.history.map((h, index) => (
              <li key={index} className="mono">
                {JSON.stringify(h)}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  )
}

function DocumentEditor(props: { strategy: Strategy; canWrite: boolean }) {
  const { t } = useI18n()
  const [text, setText] = useState(() => JSON.stringify(props.strategy.document, null, 2))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [parseError, setParseError] = useState<string | null>(null)
  const save = async () => {
    setError(null)
    setParseError(null)
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch (caught) {
      setParseError(t('strategy.jsonInvalid', { detail: caught instanceof Error ? caught.message : String(caught) }))
      return
    }
    setBusy(true)
    try {
      const created = await lendingApi.createStrategy(document, newIdempotencyKey())
      navigate(`/strategies/${created.id}`)
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="card" data-testid="strategy-editor">
      <h2>{t('strategy.document')}</h2>
      <p className="muted small">{t(props.canWrite ? 'strategy.editHint' : 'strategy.readOnly')}</p>
      <textarea className="code-area" value={text} onChange={(e) => setText(e.target.value)} readOnly={!props.canWrite} rows={22} spellCheck={false} aria-label={t('strategy.document')} />
      {parseError !== null && (
        <div className="notice notice-error" role="alert">
          {parseError}
        </div>
      )}
      {error !== null && (
        <>
          <ErrorNotice error={error} />
          {error.errors.length > 0 && (
            <ul className="field-errors" data-testid="strategy-errors">
              {error.errors.map((e, index) => (
                <li key={index}>
                  <code>{e.path}</code> — {e.message}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {props.canWrite && (
        <div className="actions">
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void save()}>
            {busy ? t('common.working') : t('strategy.saveDraft')}
          </button>
        </div>
      )}
    </div>
  )
}

function BacktestPanel(props: { strategyId: string }) {
  const { t, lang, formatNumber } = useI18n()
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [segmentBy, setSegmentBy] = useState<'industry' | 'product' | 'none'>('industry')
  const [busy, setBusy] = useState(false)
  const [report, setReport] = useState<Backtest | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const run = async () => {
    setBusy(true)
    setError(null)
    try {
      setReport(await lendingApi.backtest(props.strategyId, { ...(from === '' ? {} : { from }), ...(to === '' ? {} : { to }), segmentBy }))
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  const share = (value: number | null) => formatShare(value, lang, 1)
  const row = (r: SegmentReport, strong = false) => (
    <tr key={r.segment} className={strong ? 'strong' : undefined}>
      <td>{strong ? t('backtest.overall') : r.segment}</td>
      <td className="num">{formatNumber(r.applications)}</td>
      <td className="num">{share(r.approvalRate)}</td>
      <td className="num">{share(r.referralRate)}</td>
      <td className="num">{share(r.declineRate)}</td>
      <td className="num">{share(r.expectedBadRate)}</td>
      <td className="num">{share(r.observedBadRate)}</td>
    </tr>
  )
  return (
    <div className="card" data-testid="backtest">
      <h2>{t('backtest.title')}</h2>
      <p className="muted small">{t('backtest.hint')}</p>
      <div className="form-row">
        <label className="field">
          <span>{t('backtest.from')}</span>
          <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('backtest.to')}</span>
          <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('backtest.segmentBy')}</span>
          <select value={segmentBy} onChange={(e) => setSegmentBy(e.target.value as 'industry')}>
            <option value="industry">{t('backtest.byIndustry')}</option>
            <option value="product">{t('backtest.byProduct')}</option>
            <option value="none">{t('backtest.bySegmentNone')}</option>
          </select>
        </label>
      </div>
      <div className="actions">
        <button type="button" className="button button-primary" disabled={busy} onClick={() => void run()}>
          {t('backtest.run')}
        </button>
      </div>
      {busy && <Loading label={t('backtest.running')} />}
      {error !== null && <ErrorNotice error={error} onRetry={() => void run()} />}
      {report !== null && !busy && (
        <div data-testid="backtest-report">
          <p>{t('backtest.applications', { n: formatNumber(report.applications) })}</p>
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">{t('backtest.segment')}</th>
                  <th scope="col" className="num">{t('backtest.count')}</th>
                  <th scope="col" className="num">{t('outcome.approved')}</th>
                  <th scope="col" className="num">{t('outcome.referred')}</th>
                  <th scope="col" className="num">{t('outcome.declined')}</th>
                  <th scope="col" className="num">{t('backtest.expectedBad')}</th>
                  <th scope="col" className="num">{t('backtest.observedBad')}</th>
                </tr>
              </thead>
              <tbody>
                {row(report.overall, true)}
                {report.segments.map((segment) => row(segment))}
              </tbody>
            </table>
          </div>
          <div className="grid-2">
            <ReasonList title={t('backtest.topDecline')} reasons={report.topDeclineReasons} />
            <ReasonList title={t('backtest.topReferral')} reasons={report.topReferralReasons} />
          </div>
        </div>
      )}
    </div>
  )
}

function ReasonList(props: { title: string; reasons: Backtest['topDeclineReasons'] }) {
  const { t, lang } = useI18n()
  return (
    <div>
      <h3>{props.title}</h3>
      {props.reasons.length === 0 ? (
        <p className="muted">{t('backtest.none')}</p>
      ) : (
        <ul>
          {props.reasons.map((r) => (
            <li key={r.code}>
              {typeof r[lang === 'zh-CN' ? 'zh' : 'en'] === 'string' ? String(r[lang === 'zh-CN' ? 'zh' : 'en']) : r.code} <span className="muted">× {r.count}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
