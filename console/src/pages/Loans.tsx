// Loans (GET /v1/loans, 20 a page, filtered by status) and one loan (GET /v1/loans/:id): its terms and
// classification (DPD, bucket, five-tier class), the repayment plan with each installment's paid / overdue
// state, servicing transactions and the ledger postings. `LoanView` is shared with the borrower portal,
// which adds a repay button to the plan.
import { useState, type ReactNode } from 'react'
import { asApiError, type ApiError, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { formatMinor, lendingApi, sumComponents, type Installment, type LoanDetail, type LoanTransactionsPage } from '../lending-api.ts'
import { enterprisePath } from '../nav.ts'
import { ErrorNotice, Link, Loading, PagedTable, PageHeader, useCursorPages, useLoad } from '../ui.tsx'
import { Facts, ScheduleTable, StatusBadge } from './lending/common.tsx'
import { ProductsCard } from './lending/Products.tsx'
import { canService, ServicingPanel } from './lending/Servicing.tsx'

const loanStatuses = ['approved', 'active', 'closed', 'written_off', 'restructured'] as const

export function Loans(props: { role: Role }) {
  const { t, lang, formatDate } = useI18n()
  const [status, setStatus] = useState('')
  const pages = useCursorPages()
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.loans({ status: status === '' ? undefined : status, after: pages.cursor }, signal), `${status}:${pages.cursor ?? ''}`)
  return (
    <section className="lending" data-testid="loans" data-role={props.role}>
      <PageHeader title={t('loans.title')} subtitle={t('loans.subtitle')}>
        <label className="inline-field">
          <span>{t('loans.filter')}</span>
          <select value={status} onChange={(event) => setStatus(event.target.value)} data-testid="status-filter">
            <option value="">{t('applications.all')}</option>
            {loanStatuses.map((s) => (
              <option key={s} value={s}>
                {t(`loanStatus.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </PageHeader>
      <ProductsCard role={props.role} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      <PagedTable
        data={data}
        loading={loading}
        pages={pages}
        columns={[{ label: t('loan.disbursedOn') }, { label: t('loan.status') }, { label: t('loan.principal'), className: 'num' }, { label: t('loan.outstandingPrincipal'), className: 'num' }, { label: t('loan.rate') }, { label: t('loan.dpd'), className: 'num' }, { label: t('loan.tier') }, { label: t('loan.maturityOn') }]}
        empty={t('loans.empty')}
        row={(loan) => (
          <tr key={loan.id} data-testid="loan-row">
            <td className="nowrap">
              <Link to={`/loans/${loan.id}`}>{formatDate(loan.disbursedOn)}</Link>
            </td>
            <td>
              <StatusBadge status={loan.status} kind="loan" />
            </td>
            <td className="num">{formatMinor(loan.principalMinor, lang, loan.currency)}</td>
            <td className="num">{formatMinor(loan.principalOutstandingMinor, lang, loan.currency)}</td>
            <td>{loan.annualRatePct}%</td>
            <td className="num">{loan.dpd}</td>
            <td>
              <StatusBadge status={loan.tier} kind="tier" />
            </td>
            <td className="nowrap">{formatDate(loan.maturityOn)}</td>
          </tr>
        
        )}
      />
    </section>
  )
}

export function LoanPage(props: { id: string; businessDate: string; role: Role; back: { to: string; label: string } }) {
  const [version, setVersion] = useState(0)
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.loan(props.id, signal), `${props.id}:${version}`)
  const { t } = useI18n()
  if (error !== undefined) return <ErrorNotice error={error} onRetry={reload} />
  if (data === undefined) return loading ? <Loading /> : null
  return (
    <section className="lending" data-testid="loan-detail">
      <PageHeader title={t('loan.title', { product: data.productName })} subtitle={data.loan.id}>
        <Link to={props.back.to} className="button button-ghost">
          ‹ {props.back.label}
        </Link>
      </PageHeader>
      {canService(props.role) && <ServicingPanel detail={data} role={props.role} businessDate={props.businessDate} onChanged={() => setVersion((n) => n + 1)} />}
      <LoanView detail={data} businessDate={props.businessDate} showLedger />
    </section>
  )
}

/** A loan's terms, classification, plan, transactions and (for staff) ledger postings. */
export function LoanView(props: { detail: LoanDetail; businessDate: string; showLedger: boolean; planAction?: (i: Installment) => ReactNode }) {
  const { t, lang, formatDate, formatDateTime } = useI18n()
  const { loan, schedule, accounts } = props.detail
  // Older transactions (and their postings), fetched a page at a time in front of the detail's newest ones.
  const [older, setOlder] = useState<{ key: string; pages: LoanTransactionsPage[]; busy: boolean; error: ApiError | null }>({ key: loan.id, pages: [], busy: false, error: null })
  const pages = older.key === loan.id ? older.pages : []
  const transactions = [...pages.flatMap((p) => p.transactions), ...props.detail.transactions]
  const postings = [...pages.flatMap((p) => p.postings), ...props.detail.postings]
  const before = pages.length === 0 ? props.detail.transactionsBefore : (pages[0]?.transactionsBefore ?? null)
  const loadOlder = (cursor: string) => {
    setOlder({ key: loan.id, pages, busy: true, error: null })
    lendingApi.loanTransactions(loan.id, cursor).then(
      (page) => setOlder({ key: loan.id, pages: [page, ...pages], busy: false, error: null }),
      (error: unknown) => setOlder({ key: loan.id, pages, busy: false, error: asApiError(error) }),
    )
  }
  const money = (minor: string | bigint) => formatMinor(String(minor), lang, loan.currency)
  const accountCode = new Map(accounts.map((a) => [a.id, a.code]))
  const accountLabel = (id: string) => {
    const code = accountCode.get(id)
    if (code !== undefined) return `${code} ${t(id === loan.principalAccountId ? 'ledger.loanPrincipal' : id === loan.walletAccountId ? 'ledger.loanWallet' : 'ledger.account')}`
    return `${t('ledger.glAccount')} ${id.slice(-8)}`
  }
  return (
    <>
      <div className="card">
        <Facts
          items={[
            [t('loan.status'), <StatusBadge status={loan.status} kind="loan" />],
            [t('loan.principal'), money(loan.principalMinor)],
            [t('loan.rate'), `${loan.annualRatePct}%`],
            [t('loan.fee'), money(loan.upfrontFeeMinor)],
            [t('loan.disbursedOn'), formatDate(loan.disbursedOn)],
            [t('loan.maturityOn'), formatDate(loan.maturityOn)],
            [t('loan.outstandingTotal'), <strong data-testid="loan-outstanding">{money(sumComponents(loan.outstandingMinor))}</strong>],
            [t('loan.outstandingPrincipal'), money(loan.outstandingMinor.principal)],
            [t('loan.dpd'), <span data-testid="loan-dpd">{loan.dpd}</span>],
            [t('loan.bucket'), loan.bucket],
            [t('loan.tier'), <StatusBadge status={loan.tier} kind="tier" />],
            [t('loan.provision'), money(loan.provisionMinor)],
            [t('loan.closedThrough'), formatDate(loan.accruedThroughOn)],
            [t('loan.wallet'), money(loan.overpaymentMinor)],
            [t('loan.enterprise'), <Link to={enterprisePath(loan.enterpriseId)}>{t('application.openProfile')}</Link>],
          ]}
        />
      </div>
      <div className="card">
        <h2>{t('loan.plan')}</h2>
        <ScheduleTable schedule={schedule} currency={loan.currency} businessDate={props.businessDate} {...(props.planAction === undefined ? {} : { action: props.planAction })} />
      </div>
      <div className="card">
        <h2>{t('loan.transactions')}</h2>
        {before !== null && (
          <p>
            <button type="button" className="button" data-testid="older-transactions" disabled={older.busy} onClick={() => loadOlder(before)}>{t('loan.olderTransactions')}</button>
          </p>
        )}
        {older.error !== null && <ErrorNotice error={older.error} />}
        {transactions.length === 0 ? (
          <p className="muted">{t('loan.noTransactions')}</p>
        ) : (
          <div className="table-wrap">
            <table className="table table-compact" data-testid="transactions">
              <thead>
                <tr>
                  <th scope="col">{t('loan.valueDate')}</th>
                  <th scope="col">{t('loan.kind')}</th>
                  <th scope="col" className="num">{t('loan.amount')}</th>
                  <th scope="col">{t('loan.recordedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {transactions.map((tx) => (
                  <tr key={tx.id}>
                    <td className="nowrap">{formatDate(tx.valueDate)}</td>
                    <td>{t(`txKind.${tx.kind}` as 'txKind.repayment')}</td>
                    <td className="num">{money(tx.amountMinor)}</td>
                    <td className="muted small">{formatDateTime(tx.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {props.showLedger && (
        <div className="card">
          <h2>{t('loan.postings')}</h2>
          <p className="muted small">{t('loan.postingsHint')}</p>
          {postings.length === 0 ? (
            <p className="muted">{t('loan.noPostings')}</p>
          ) : (
            <div className="table-wrap">
              <table className="table table-compact" data-testid="postings">
                <thead>
                  <tr>
                    <th scope="col">{t('ledger.journalIndex')}</th>
                    <th scope="col">{t('loan.valueDate')}</th>
                    <th scope="col">{t('ledger.debit')}</th>
                    <th scope="col">{t('ledger.credit')}</th>
                    <th scope="col" className="num">{t('loan.amount')}</th>
                    <th scope="col">{t('ledger.code')}</th>
                  </tr>
                </thead>
                <tbody>
                  {postings.map((p) => (
                    <tr key={p.id}>
                      <td className="mono small">{p.journalIndex}</td>
                      <td className="nowrap">{formatDate(p.valueDate)}</td>
                      <td className="small">{accountLabel(p.debitAccountId)}</td>
                      <td className="small">{accountLabel(p.creditAccountId)}</td>
                      <td className="num">{money(p.amountMinor)}</td>
                      <td className="mono small">{p.code}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </>
  )
}
