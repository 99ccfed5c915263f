// Applications (GET /v1/applications, newest first, filtered by outcome, 20 a page) and the review queue
// (referred, not yet reviewed); one application's page: outcome, reasons, score, strategy and model
// versions, the offer, the enterprise, the full rule trace and the inputs — and, in the review queue, the
// reviewer's approve (optionally with amount and rate) or decline with a note.
import { useState, type FormEvent } from 'react'
import { api, asApiError, type ApiError, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { lendingApi, formatMinor, newIdempotencyKey, outcomes, parseMajorToMinor, type Application, type Outcome } from '../lending-api.ts'
import { enterprisePath } from '../nav.ts'
import { ErrorNotice, Link, Loading, PagedTable, PageHeader, useCursorPages, useLoad } from '../ui.tsx'
import { ApplicationSummary, Facts, InputsTable, OfferCard, OutcomeBadge, Reasons, TraceTable } from './lending/common.tsx'

export const reviewerRoles: readonly Role[] = ['admin', 'risk_analyst', 'reviewer']

/** The list: all applications (with an outcome filter), or the review queue. */
export function Applications(props: { queue: boolean }) {
  const { t, lang, formatDateTime } = useI18n()
  const [outcome, setOutcome] = useState<Outcome | ''>('')
  const pages = useCursorPages()
  const filter = props.queue ? { outcome: 'referred' as const, reviewed: false } : { outcome: outcome === '' ? undefined : outcome }
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.applications({ ...filter, cursor: pages.cursor }, signal), `${props.queue}:${outcome}:${pages.cursor ?? ''}`)
  const base = props.queue ? '/review' : '/applications'
  return (
    <section className="lending" data-testid={props.queue ? 'review-queue' : 'applications'}>
      <PageHeader title={t(props.queue ? 'review.title' : 'applications.title')} subtitle={t(props.queue ? 'review.subtitle' : 'applications.subtitle')}>
        {!props.queue && (
          <label className="inline-field">
            <span>{t('applications.filter')}</span>
            <select
              value={outcome}
              onChange={(event) => {
                setOutcome(event.target.value as Outcome | '')
                while (pages.page > 1) pages.prev()
              }}
              data-testid="outcome-filter"
            >
              <option value="">{t('applications.all')}</option>
              {outcomes.map((o) => (
                <option key={o} value={o}>
                  {t(`outcome.${o}`)}
                </option>
              ))}
            </select>
          </label>
        )}
      </PageHeader>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      <PagedTable
        data={data}
        loading={loading}
        pages={pages}
        columns={[{ label: t('application.createdAt') }, { label: t('application.outcome') }, { label: t('application.amount'), className: 'num' }, { label: t('application.term') }, { label: t('application.score'), className: 'num' }, { label: t('application.reasons') }, { label: t('application.strategy') }, ...(!props.queue ? [{ label: t('application.review') }] : [])]}
        empty={t(props.queue ? 'review.empty' : 'applications.empty')}
        row={(a) => (
          <tr key={a.id} data-testid="application-row">
            <td className="nowrap">
              <Link to={`${base}/${a.id}`}>{formatDateTime(a.createdAt)}</Link>
            </td>
            <td>
              <OutcomeBadge outcome={a.outcome} />
            </td>
            <td className="num">{formatMinor(a.amountMinor, lang, a.currency)}</td>
            <td>{t('common.months', { n: a.termMonths })}</td>
            <td className="num">{a.score === null ? '—' : Math.round(a.score)}</td>
            <td className="small">{a.reasons.map((r) => (lang === 'zh-CN' ? r.zh : r.en)).join('; ') || '—'}</td>
            <td className="small">
              {a.strategy.name} v{a.strategy.version}
            </td>
            {!props.queue && <td className="small">{a.review == null ? '—' : t(`review.decision.${a.review.decision}`)}</td>}
          </tr>
        
        )}
      />
    </section>
  )
}

/** One application; with `review`, the reviewer's form when it is referred and not reviewed yet. */
export function ApplicationDetail(props: { id: string; role: Role; review: boolean }) {
  const { t, lang, formatDateTime } = useI18n()
  const [attempt, setAttempt] = useState(0)
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.application(props.id, signal), `${props.id}:${attempt}`)
  const enterprise = useLoad((signal) => (data === undefined ? Promise.resolve(undefined) : api.enterprise(data.enterpriseId, signal)), data?.enterpriseId ?? '')
  if (error !== undefined) return <ErrorNotice error={error} onRetry={reload} />
  if (data === undefined) return loading ? <Loading /> : null
  const a = data
  const canReview = props.review && reviewerRoles.includes(props.role) && a.outcome === 'referred' && a.review == null
  const proposal = a.decision
  return (
    <section className="lending" data-testid="application-detail">
      <PageHeader title={t('application.title')} subtitle={a.id}>
        <Link to={props.review ? '/review' : '/applications'} className="button button-ghost">
          ‹ {t(props.review ? 'review.back' : 'applications.back')}
        </Link>
      </PageHeader>
      <div className="grid-2">
        <div className="card">
          <h2>{t('application.decision')}</h2>
          <ApplicationSummary application={a} />
          <h3>{t('application.reasons')}</h3>
          <Reasons reasons={a.reasons} />
        </div>
        <div className="card" data-testid="application-enterprise">
          <h2>{t('application.enterprise')}</h2>
          {enterprise.data === undefined ? (
            enterprise.error !== undefined ? <ErrorNotice error={enterprise.error} /> : <Loading />
          ) : (
            <Facts
              items={[
                [t('col.name'), <Link to={enterprisePath(a.enterpriseId)}>{enterprise.data.name}</Link>],
                [t('col.sector'), enterprise.data.sector ?? '—'],
                [t('col.region'), enterprise.data.region ?? '—'],
                [t('col.foundedOn'), enterprise.data.foundedOn ?? '—'],
              ]}
            />
          )}
          <p className="small">
            <Link to={enterprisePath(a.enterpriseId)}>{t('application.openProfile')} ›</Link>
          </p>
          {proposal !== undefined && a.outcome === 'referred' && proposal.limitMajor !== undefined && (
            <p className="muted small" data-testid="proposal">
              {t('review.proposal', { limit: formatMinor(String(Math.round(proposal.limitMajor * 100)), lang, a.currency), rate: proposal.annualRatePct ?? '—' })}
            </p>
          )}
        </div>
      </div>
      {a.review != null && (
        <div className="notice notice-info" data-testid="review-result">
          {t('review.done', { decision: t(`review.decision.${a.review.decision}`), at: formatDateTime(a.review.reviewedAt), note: a.review.note })}
        </div>
      )}
      {canReview && <ReviewForm application={a} onDone={() => setAttempt((n) => n + 1)} />}
      {a.offer !== null && (
        <OfferCard offer={a.offer}>
          {a.offer.loanId !== null && (
            <p>
              <Link to={`/loans/${a.offer.loanId}`}>{t('offer.openLoan')} ›</Link>
            </p>
          )}
        </OfferCard>
      )}
      {a.decision?.trace !== undefined && (
        <div className="card">
          <h2>{t('application.trace', { n: a.decision.trace.length })}</h2>
          <TraceTable trace={a.decision.trace} />
        </div>
      )}
      {a.inputs !== undefined && (
        <div className="card">
          <h2>{t('application.inputs')}</h2>
          <InputsTable inputs={a.inputs} />
        </div>
      )}
    </section>
  )
}

function ReviewForm(props: { application: Application; onDone(): void }) {
  const { t } = useI18n()
  const [note, setNote] = useState('')
  const [amount, setAmount] = useState('')
  const [rate, setRate] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [invalid, setInvalid] = useState<string | null>(null)
  const [key] = useState(newIdempotencyKey)
  const submit = async (decision: 'approve' | 'decline', event?: FormEvent) => {
    event?.preventDefault()
    setInvalid(null)
    if (note.trim() === '') return setInvalid(t('review.noteRequired'))
    const amountMinor = amount.trim() === '' ? undefined : parseMajorToMinor(amount)
    if (amountMinor === null) return setInvalid(t('form.amountInvalid'))
    if (rate.trim() !== '' && !/^[0-9]{1,3}(\.[0-9]{1,6})?$/.test(rate.trim())) return setInvalid(t('form.rateInvalid'))
    setBusy(true)
    setError(null)
    try {
      await lendingApi.review(props.application.id, { decision, note: note.trim(), ...(decision === 'approve' && amountMinor !== undefined ? { amountMinor } : {}), ...(decision === 'approve' && rate.trim() !== '' ? { annualRatePct: rate.trim() } : {}) }, `${key}:${decision}`)
      props.onDone()
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="card form" data-testid="review-form" onSubmit={(event) => void submit('approve', event)}>
      <h2>{t('review.formTitle')}</h2>
      <p className="muted small">{t('review.formHint')}</p>
      <div className="form-row">
        <label className="field">
          <span>{t('review.amount')}</span>
          <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder={t('review.amountPlaceholder')} />
        </label>
        <label className="field">
          <span>{t('review.rate')}</span>
          <input value={rate} onChange={(e) => setRate(e.target.value)} inputMode="decimal" placeholder="12" />
        </label>
      </div>
      <label className="field">
        <span>{t('review.note')}</span>
        <textarea
          value={note}
          onChange={(e) => {
            setNote(e.target.value)
            setInvalid(null)
          }}
          rows={3}
        />
      </label>
      {invalid !== null && <div className="notice notice-error" role="alert">{invalid}</div>}
      {error !== null && <ErrorNotice error={error} />}
      <div className="actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? t('common.working') : t('review.approve')}
        </button>
        <button type="button" className="button button-danger" disabled={busy} onClick={() => void submit('decline')}>
          {t('review.decline')}
        </button>
      </div>
    </form>
  )
}
