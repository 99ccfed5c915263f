// The borrower portal: apply (product, amount, term; a loan or a credit line) → the instant decision with
// its reasons → accept the offer (the loan is paid out) → the repayment plan → repay an installment
// (POST /v1/loans/:id/repayments); the enterprise's loans, applications and credit lines, and a draw on a line.
import { useState, type FormEvent } from 'react'
import { asApiError, type ApiError, type Me } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { formatMinor, lendingApi, newIdempotencyKey, parseMajorToMinor, sumComponents, type Application, type CreditLine, type Installment, type Payout, type Product } from '../lending-api.ts'
import { navigate } from '../nav.ts'
import { ErrorNotice, Link, Loading, PageHeader, useLoad } from '../ui.tsx'
import { LoanView } from './Loans.tsx'
import { installmentState, OfferCard, OutcomeBadge, Reasons, StatusBadge } from './lending/common.tsx'

export function Portal(props: { me: Me }) {
  const { t } = useI18n()
  const enterpriseId = props.me.principal.enterpriseId
  const [refresh, setRefresh] = useState(0)
  if (enterpriseId === null) return <div className="notice notice-error" role="alert">{t('portal.noEnterprise')}</div>
  return (
    <section className="lending" data-testid="portal">
      <PageHeader title={t('portal.title')} subtitle={t('portal.subtitle')} />
      <ApplyPanel enterpriseId={enterpriseId} onChange={() => setRefresh((n) => n + 1)} />
      <MyLoans refresh={refresh} />
      <MyCreditLines enterpriseId={enterpriseId} refresh={refresh} onChange={() => setRefresh((n) => n + 1)} />
      <MyApplications refresh={refresh} />
    </section>
  )
}

function ApplyPanel(props: { enterpriseId: string; onChange(): void }) {
  const { t, lang } = useI18n()
  const products = useLoad((signal) => lendingApi.products(signal), 'products')
  const [productId, setProductId] = useState('')
  const [kind, setKind] = useState<'loan' | 'credit_line'>('loan')
  const [amount, setAmount] = useState('')
  const [term, setTerm] = useState(6)
  const [busy, setBusy] = useState<'apply' | 'accept' | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [invalid, setInvalid] = useState<string | null>(null)
  const [decided, setDecided] = useState<Application | null>(null)
  const [accepted, setAccepted] = useState<{ loanId: string; payout: Payout } | null>(null)
  const product: Product | undefined = products.data?.items.find((p) => p.id === productId) ?? products.data?.items[0]
  const terms = product === undefined ? [3, 6, 12] : [3, 6, 9, 12, 18, 24, 36].filter((n) => n >= product.installmentsMin && n <= product.installmentsMax)
  const apply = async (event: FormEvent) => {
    event.preventDefault()
    setInvalid(null)
    setError(null)
    if (product === undefined) return setInvalid(t('portal.noProduct'))
    const amountMinor = parseMajorToMinor(amount)
    if (amountMinor === null) return setInvalid(t('form.amountInvalid'))
    setBusy('apply')
    setDecided(null)
    setAccepted(null)
    try {
      const body = { enterpriseId: props.enterpriseId, productId: product.id, amountMinor, termMonths: terms.includes(term) ? term : (terms[0] ?? term), ...(kind === 'credit_line' ? { kind } : {}) }
      setDecided(await lendingApi.apply(body, newIdempotencyKey()))
      props.onChange()
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(null)
    }
  }
  const accept = async (offerId: string) => {
    setBusy('accept')
    setError(null)
    try {
      const result = await lendingApi.acceptOffer(offerId)
      setAccepted({ loanId: result.loan.id, payout: result.payout })
      props.onChange()
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(null)
    }
  }
  return (
    <div className="card" data-testid="apply">
      <h2>{t('portal.apply')}</h2>
      {products.error !== undefined && <ErrorNotice error={products.error} onRetry={products.reload} />}
      <form className="form" onSubmit={(event) => void apply(event)}>
        <div className="form-row">
          <label className="field">
            <span>{t('portal.product')}</span>
            <select value={product?.id ?? ''} onChange={(e) => setProductId(e.target.value)} aria-label={t('portal.product')}>
              {(products.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({formatMinor(p.principalMinMinor, lang, p.currency)} – {formatMinor(p.principalMaxMinor, lang, p.currency)}, ≤ {p.annualRateCapPct}%)
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t('portal.kind')}</span>
            <select value={kind} onChange={(e) => setKind(e.target.value as 'loan')} aria-label={t('portal.kind')}>
              <option value="loan">{t('portal.kindLoan')}</option>
              <option value="credit_line">{t('portal.kindLine')}</option>
            </select>
          </label>
        </div>
        <div className="form-row">
          <label className="field">
            <span>{t('portal.amount')}</span>
            <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="20000" aria-label={t('portal.amount')} />
          </label>
          <label className="field">
            <span>{t('portal.term')}</span>
            <select value={terms.includes(term) ? term : (terms[0] ?? term)} onChange={(e) => setTerm(Number(e.target.value))} aria-label={t('portal.term')}>
              {terms.map((n) => (
                <option key={n} value={n}>
                  {t('common.months', { n })}
                </option>
              ))}
            </select>
          </label>
        </div>
        {invalid !== null && <div className="notice notice-error" role="alert">{invalid}</div>}
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy !== null || product === undefined}>
            {busy === 'apply' ? t('portal.deciding') : t('portal.submit')}
          </button>
        </div>
      </form>
      {busy === 'apply' && <Loading label={t('portal.deciding')} />}
      {error !== null && <ErrorNotice error={error} />}
      {decided !== null && (
        <div className="decision" data-testid="decision">
          <h3>
            {t('portal.decision')} <OutcomeBadge outcome={decided.outcome} />
          </h3>
          <p className="muted">{t(`portal.outcome.${decided.outcome}`)}</p>
          <Reasons reasons={decided.reasons} />
          {decided.creditLine != null && <LineCard line={decided.creditLine} />}
          {decided.offer !== null && (
            <OfferCard offer={decided.offer}>
              {accepted === null ? (
                <div className="actions">
                  <button type="button" className="button button-primary" disabled={busy !== null || decided.offer.status !== 'open'} onClick={() => decided.offer !== null && void accept(decided.offer.id)}>
                    {busy === 'accept' ? t('portal.accepting') : t('portal.accept')}
                  </button>
                </div>
              ) : (
                <div className="notice notice-info" data-testid="accepted">
                  {t(`portal.payout.${accepted.payout.status === 'succeeded' ? 'succeeded' : accepted.payout.status === 'failed' ? 'failed' : 'unknown'}`, { amount: formatMinor(accepted.payout.amountMinor, lang, accepted.payout.currency) })}{' '}
                  <Link to={`/portal/loans/${accepted.loanId}`}>{t('portal.openPlan')} ›</Link>
                </div>
              )}
            </OfferCard>
          )}
        </div>
      )}
    </div>
  )
}

function MyLoans(props: { refresh: number }) {
  const { t, lang, formatDate } = useI18n()
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.loans({ limit: 50 }, signal), String(props.refresh))
  return (
    <div className="card" data-testid="my-loans">
      <h2>{t('portal.loans')}</h2>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : data.items.length === 0 ? (
        <p className="muted">{t('portal.noLoans')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead>
              <tr>
                <th scope="col">{t('loan.disbursedOn')}</th>
                <th scope="col">{t('loan.status')}</th>
                <th scope="col" className="num">{t('loan.principal')}</th>
                <th scope="col" className="num">{t('loan.outstandingPrincipal')}</th>
                <th scope="col">{t('loan.rate')}</th>
                <th scope="col" className="num">{t('loan.dpd')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((loan) => (
                <tr key={loan.id}>
                  <td>
                    <Link to={`/portal/loans/${loan.id}`}>{formatDate(loan.disbursedOn)}</Link>
                  </td>
                  <td>
                    <StatusBadge status={loan.status} kind="loan" />
                  </td>
                  <td className="num">{formatMinor(loan.principalMinor, lang, loan.currency)}</td>
                  <td className="num">{formatMinor(loan.principalOutstandingMinor, lang, loan.currency)}</td>
                  <td>{loan.annualRatePct}%</td>
                  <td className="num">{loan.dpd}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

function MyApplications(props: { refresh: number }) {
  const { t, lang, formatDateTime } = useI18n()
  const { data, error } = useLoad((signal) => lendingApi.applications({ limit: 10 }, signal), String(props.refresh))
  if (error !== undefined) return null // the list is a convenience; the decision itself was shown above
  if (data === undefined || data.items.length === 0) return null
  return (
    <div className="card" data-testid="my-applications">
      <h2>{t('portal.applications')}</h2>
      <ul className="plain-list">
        {data.items.map((a) => (
          <li key={a.id}>
            <span className="muted small">{formatDateTime(a.createdAt)}</span> <OutcomeBadge outcome={a.outcome} /> {formatMinor(a.amountMinor, lang, a.currency)} · {t('common.months', { n: a.termMonths })}
            {a.reasons.length > 0 && <span className="muted small"> — {a.reasons.map((r) => (lang === 'zh-CN' ? r.zh : r.en)).join('; ')}</span>}
            {a.review != null && <span className="small"> · {t(`review.decision.${a.review.decision}`)}</span>}
            {a.offer !== null && a.offer.status === 'open' && <AcceptLater offerId={a.offer.id} amount={formatMinor(a.offer.amountMinor, lang, a.offer.currency)} />}
          </li>
        ))}
      </ul>
    </div>
  )
}

/** An open offer from an earlier decision (a reviewer's approval, say): accept it here. */
function AcceptLater(props: { offerId: string; amount: string }) {
  const { t } = useI18n()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const accept = async () => {
    setBusy(true)
    setError(null)
    try {
      const result = await lendingApi.acceptOffer(props.offerId)
      navigate(`/portal/loans/${result.loan.id}`)
    } catch (caught) {
      setError(asApiError(caught))
      setBusy(false)
    }
  }
  return (
    <>
      {' '}
      <button type="button" className="button button-small button-primary" disabled={busy} onClick={() => void accept()}>
        {busy ? t('portal.accepting') : t('portal.acceptOffer', { amount: props.amount })}
      </button>
      {error !== null && <ErrorNotice error={error} />}
    </>
  )
}

function LineCard(props: { line: CreditLine }) {
  const { t, lang, formatDate } = useI18n()
  const l = props.line
  return (
    <div className="line-card" data-testid="credit-line">
      <strong>{t('portal.line', { limit: formatMinor(l.limitMinor, lang, l.currency) })}</strong> <StatusBadge status={l.status} kind="line" />
      <div className="muted small">
        {t('portal.lineFacts', { available: formatMinor(l.availableMinor, lang, l.currency), drawn: formatMinor(l.drawnMinor, lang, l.currency), rate: l.annualRatePct, expires: formatDate(l.expiresOn) })}
      </div>
    </div>
  )
}

function MyCreditLines(props: { enterpriseId: string; refresh: number; onChange(): void }) {
  const { t } = useI18n()
  const { data, error } = useLoad((signal) => lendingApi.creditLines({ enterpriseId: props.enterpriseId }, signal), String(props.refresh))
  // Credit lines are optional for a tenant: a 404 (no such route on an older server) hides the section.
  if (error !== undefined || data === undefined || data.items.length === 0) return null
  return (
    <div className="card" data-testid="my-credit-lines">
      <h2>{t('portal.lines')}</h2>
      {data.items.map((line) => (
        <div key={line.id}>
          <LineCard line={line} />
          {line.status === 'active' && <DrawForm line={line} onDone={props.onChange} />}
        </div>
      ))}
    </div>
  )
}

function DrawForm(props: { line: CreditLine; onDone(): void }) {
  const { t, lang } = useI18n()
  const [amount, setAmount] = useState('')
  const [term, setTerm] = useState(props.line.termsAllowed[0] ?? 3)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [invalid, setInvalid] = useState<string | null>(null)
  const [done, setDone] = useState<{ loanId: string; payout: Payout } | null>(null)
  const draw = async (event: FormEvent) => {
    event.preventDefault()
    const amountMinor = parseMajorToMinor(amount)
    if (amountMinor === null) return setInvalid(t('form.amountInvalid'))
    setInvalid(null)
    setBusy(true)
    setError(null)
    try {
      const result = await lendingApi.draw(props.line.id, { amountMinor, termMonths: term }, newIdempotencyKey())
      setDone({ loanId: result.loan.id, payout: result.payout })
      props.onDone()
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="form form-inline" onSubmit={(event) => void draw(event)}>
      <label className="field">
        <span>{t('portal.drawAmount')}</span>
        <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
      </label>
      <label className="field">
        <span>{t('portal.term')}</span>
        <select value={term} onChange={(e) => setTerm(Number(e.target.value))}>
          {props.line.termsAllowed.map((n) => (
            <option key={n} value={n}>
              {t('common.months', { n })}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? t('common.working') : t('portal.draw')}
      </button>
      {invalid !== null && <div className="notice notice-error" role="alert">{invalid}</div>}
      {error !== null && <ErrorNotice error={error} />}
      {done !== null && (
        <div className="notice notice-info">
          {t(`portal.payout.${done.payout.status === 'succeeded' ? 'succeeded' : done.payout.status === 'failed' ? 'failed' : 'unknown'}`, { amount: formatMinor(done.payout.amountMinor, lang, done.payout.currency) })}{' '}
          <Link to={`/portal/loans/${done.loanId}`}>{t('portal.openPlan')} ›</Link>
        </div>
      )}
    </form>
  )
}

/** A borrower's loan: the plan with a repay button on the next installment that is not paid. */
export function PortalLoan(props: { id: string; businessDate: string }) {
  const { t, lang } = useI18n()
  const [version, setVersion] = useState(0)
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.loan(props.id, signal), `${props.id}:${version}`)
  const [busy, setBusy] = useState(false)
  const [repayError, setRepayError] = useState<ApiError | null>(null)
  const [paid, setPaid] = useState<string | null>(null)
  if (error !== undefined) return <ErrorNotice error={error} onRetry={reload} />
  if (data === undefined) return loading ? <Loading /> : null
  const next = data.schedule.find((i) => installmentState(i, props.businessDate) !== 'paid')
  const repay = async (installment: Installment) => {
    setBusy(true)
    setRepayError(null)
    try {
      const amountMinor = sumComponents(installment.outstandingMinor).toString()
      await lendingApi.repay(data.loan.id, amountMinor, newIdempotencyKey())
      setPaid(t('portal.repaid', { n: installment.n, amount: formatMinor(amountMinor, lang, data.loan.currency) }))
      setVersion((n) => n + 1)
    } catch (caught) {
      setRepayError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  const active = data.loan.status === 'active'
  return (
    <section className="lending" data-testid="portal-loan">
      <PageHeader title={t('loan.title', { product: data.productName })} subtitle={t('portal.planSubtitle')}>
        <button type="button" className="button button-ghost" onClick={() => navigate('/portal')}>
          ‹ {t('portal.back')}
        </button>
      </PageHeader>
      {paid !== null && (
        <div className="notice notice-info" role="status" data-testid="repaid">
          {paid}
        </div>
      )}
      {repayError !== null && <ErrorNotice error={repayError} />}
      <LoanView
        detail={data}
        businessDate={props.businessDate}
        showLedger={false}
        planAction={(i) =>
          active && next !== undefined && i.n === next.n ? (
            <button type="button" className="button button-small button-primary" disabled={busy} onClick={() => void repay(i)} data-testid="repay">
              {busy ? t('common.working') : t('portal.repay')}
            </button>
          ) : null
        }
      />
    </section>
  )
}
