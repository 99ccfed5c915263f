// The lending part of the Puhui API the console calls: portfolio, applications and reviews, strategies and
// backtests, loans and repayments, offers, credit lines. Amounts are decimal strings of minor units.
import { request, type Page } from './api.ts'

export type Reason = { code: string; en: string; zh: string; rule?: string }
export type Offer = {
  id: string
  applicationId: string
  limitMinor: string
  amountMinor: string
  currency: string
  annualRatePct: string
  aprPct: string
  upfrontFeeMinor: string
  termMonths: number
  schedulePreview: { rows?: { n?: number; dueOn?: string; principal?: string; interest?: string; total?: string; [key: string]: unknown }[]; [key: string]: unknown }
  expiresAt: string
  status: string
  loanId: string | null
}
export type Review = { decision: 'approve' | 'decline'; note: string; reviewerId: string; amountMinor: string | null; annualRatePct: string | null; reviewedAt: string }
export type TraceEntry = { step: string; rule: string; result: string; value?: unknown }
export type Outcome = 'approved' | 'declined' | 'referred'
export const outcomes: readonly Outcome[] = ['approved', 'referred', 'declined']
export type Application = {
  id: string
  enterpriseId: string
  productId: string
  amountMinor: string
  currency: string
  termMonths: number
  businessDate: string
  outcome: Outcome
  reasons: Reason[]
  score: number | null
  strategy: { id: string; name: string; version: number }
  model: { id: string; name: string; version: number } | null
  offer: Offer | null
  kind?: 'loan' | 'credit_line' | 'credit_line_review'
  creditLineId?: string | null
  creditLine?: CreditLine | null
  review?: Review | null
  createdAt: string
  decision?: { outcome?: string; engineOutcome?: string; limitMajor?: number; annualRatePct?: string; termMonths?: number; trace?: TraceEntry[]; offerChecks?: Reason[]; [key: string]: unknown }
  inputs?: Record<string, unknown>
}
export type Strategy = {
  id: string
  name: string
  version: number
  status: 'draft' | 'submitted' | 'approved' | 'active' | 'retired' | string
  authorId: string
  submittedBy: string | null
  approvedBy: string | null
  history: { action?: string; by?: string; at?: string; note?: string; [key: string]: unknown }[]
  document: Record<string, unknown>
  createdAt: string
  updatedAt: string
}
export type SegmentReport = {
  segment: string
  applications: number
  approved: number
  referred: number
  declined: number
  approvalRate: number
  referralRate: number
  declineRate: number
  expectedBadRate: number | null
  observedBadRate: number | null
  approvedWithOutcome?: number
  declinedObservedBadRate?: number | null
  [key: string]: unknown
}
export type ReasonCount = { code: string; count: number; [key: string]: unknown }
export type Backtest = { applications: number; source?: string; overall: SegmentReport; segments: SegmentReport[]; topDeclineReasons: ReasonCount[]; topReferralReasons: ReasonCount[] }
export type Components = { principal: string; interest: string; fees: string; penalties: string }
export type LoanListItem = {
  id: string
  productId: string
  enterpriseId: string
  status: string
  currency: string
  principalMinor: string
  annualRatePct: string
  disbursedOn: string
  maturityOn: string
  dpd: number
  tier: string
  principalOutstandingMinor: string
  createdAt: string
}
export type Loan = {
  id: string
  productId: string
  enterpriseId: string
  status: string
  currency: string
  principalMinor: string
  annualRatePct: string
  upfrontFeeMinor: string
  disbursedOn: string
  maturityOn: string
  accruedThroughOn: string
  accruedInterestMinor: string
  overpaymentMinor: string
  nonAccrual: boolean
  writtenOffMinor: string
  dpd: number
  bucket: string
  tier: string
  provisionMinor: string
  outstandingMinor: Components
  principalAccountId: string
  walletAccountId: string
}
export type Installment = { n: number; startOn: string; dueOn: string; dueMinor: Components; paidMinor: Components; waivedMinor: Components; outstandingMinor: Components }
export type LoanTransaction = { id: string; kind: string; valueDate: string; amountMinor: string; currency: string; allocation: Record<string, unknown>; transferIds: string[]; createdAt: string }
export type Posting = { id: string; debitAccountId: string; creditAccountId: string; amountMinor: string; code: number; valueDate: string; postedAt: string; journalIndex: string }
export type LedgerAccount = { id: string; code: number; debitsPostedMinor: string; creditsPostedMinor: string }
export type LoanDetail = { loan: Loan; productName: string; schedule: Installment[]; transactions: LoanTransaction[]; postings: Posting[]; accounts: LedgerAccount[]; transactionsBefore: string | null }
export type LoanTransactionsPage = { transactions: LoanTransaction[]; postings: Posting[]; transactionsBefore: string | null }
export type Product = { id: string; name: string; currency: string; principalMinMinor: string; principalMaxMinor: string; installmentsMin: number; installmentsMax: number; annualRateCapPct: string; upfrontFeePct: string }
export type Payout = { id: string; loanId: string; amountMinor: string; currency: string; status: string; attempts: number; lastError: string | null }
export type CreditLine = {
  id: string
  enterpriseId: string
  productId: string
  currency: string
  limitMinor: string
  drawnMinor: string
  availableMinor: string
  annualRatePct: string
  termsAllowed: number[]
  status: 'active' | 'frozen' | 'closed' | 'expired' | string
  expiresOn: string
  lastReviewedOn: string | null
  history?: unknown[]
}
export type PortfolioGroup = { key: string; loans: number; outstandingMinor: string }
export type Portfolio = {
  currency: string
  currencies: string[]
  businessDate: string
  activeLoans: number
  outstandingPrincipalMinor: string
  disbursed: { month: string; monthLoans: number; monthMinor: string; totalLoans: number; totalMinor: string }
  applications: { decided: number; approved: number; declined: number; referred: number; approvalRate: string | null }
  applicationsByMonth: { month: string; approved: number; declined: number; referred: number }[]
  nplMinor: string
  nplRatio: string
  par30Minor: string
  par30: string
  tiers: PortfolioGroup[]
  buckets: PortfolioGroup[]
  vintages: { cohort: string; loans: number; principalMinor: string; points: { monthsOnBook: number; ever30Loans: number; share: string }[] }[]
}

/** A fresh Idempotency-Key for one user action (a retry of the same click would reuse it). */
export const newIdempotencyKey = (): string => crypto.randomUUID()

function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value))
  return search.toString()
}
const id = encodeURIComponent

export const lendingApi = {
  portfolio: (signal?: AbortSignal) => request<Portfolio>('GET', '/v1/portfolio/summary', { signal }),
  applications: (params: { outcome?: Outcome | undefined; reviewed?: boolean | undefined; enterpriseId?: string | undefined; cursor?: string | undefined; limit?: number }, signal?: AbortSignal) =>
    request<Page<Application>>('GET', `/v1/applications?${query({ limit: 20, ...params })}`, { signal }),
  application: (applicationId: string, signal?: AbortSignal) => request<Application>('GET', `/v1/applications/${id(applicationId)}`, { signal }),
  apply: (body: { enterpriseId: string; productId: string; amountMinor: string; termMonths: number; kind?: 'loan' | 'credit_line' }, idempotencyKey: string) =>
    request<Application>('POST', '/v1/applications', { body, idempotencyKey }),
  review: (applicationId: string, body: { decision: 'approve' | 'decline'; note: string; amountMinor?: string; annualRatePct?: string }, idempotencyKey: string) =>
    request<Application>('POST', `/v1/applications/${id(applicationId)}/review`, { body, idempotencyKey }),
  acceptOffer: (offerId: string) => request<{ offer: Offer; loan: { id: string; status: string }; payout: Payout }>('POST', `/v1/offers/${id(offerId)}/accept`, { body: {} }),
  strategies: (signal?: AbortSignal) => request<{ items: Strategy[] }>('GET', '/v1/strategies?limit=100', { signal }),
  strategy: (strategyId: string, signal?: AbortSignal) => request<Strategy>('GET', `/v1/strategies/${id(strategyId)}`, { signal }),
  createStrategy: (document: unknown, idempotencyKey: string) => request<Strategy>('POST', '/v1/strategies', { body: { document }, idempotencyKey }),
  transitionStrategy: (strategyId: string, action: 'submit' | 'approve' | 'reject' | 'activate' | 'retire', note: string | undefined, idempotencyKey: string) =>
    request<Strategy>('POST', `/v1/strategies/${id(strategyId)}/${action}`, { body: note === undefined || note === '' ? {} : { note }, idempotencyKey }),
  backtest: (strategyId: string, body: { from?: string; to?: string; segmentBy?: 'industry' | 'product' | 'none' }, signal?: AbortSignal) =>
    request<Backtest>('POST', `/v1/strategies/${id(strategyId)}/backtest`, { body, signal }),
  loans: (params: { status?: string | undefined; enterpriseId?: string | undefined; after?: string | undefined; limit?: number }, signal?: AbortSignal) =>
    request<Page<LoanListItem>>('GET', `/v1/loans?${query({ limit: 20, ...params })}`, { signal }),
  loan: (loanId: string, signal?: AbortSignal) => request<LoanDetail>('GET', `/v1/loans/${id(loanId)}`, { signal }),
  loanTransactions: (loanId: string, before: string) => request<LoanTransactionsPage>('GET', `/v1/loans/${id(loanId)}/transactions?${query({ before })}`),
  repay: (loanId: string, amountMinor: string, idempotencyKey: string) =>
    request<{ loan: Loan; transaction: LoanTransaction }>('POST', `/v1/loans/${id(loanId)}/repayments`, { body: { amountMinor }, idempotencyKey }),
  payoff: (loanId: string, on: string | undefined, signal?: AbortSignal) =>
    request<{ on: string; currency: string; owedMinor: Components; overpaymentMinor: string; totalMinor: string }>('GET', `/v1/loans/${id(loanId)}/payoff?${query({ on })}`, { signal }),
  repayOn: (loanId: string, body: { amountMinor: string; valueDate?: string }, idempotencyKey: string) =>
    request<{ loan: Loan; transaction: LoanTransaction }>('POST', `/v1/loans/${id(loanId)}/repayments`, { body, idempotencyKey }),
  prepay: (loanId: string, body: { amountMinor: string; mode: 'reduce_installment' | 'reduce_term'; valueDate?: string }, idempotencyKey: string) =>
    request<{ loan: Loan; transaction: LoanTransaction }>('POST', `/v1/loans/${id(loanId)}/prepayments`, { body, idempotencyKey }),
  reschedule: (loanId: string, body: { installments: number; annualRatePct?: string; firstRepaymentOn?: string; graceOnPrincipalPeriods?: number; valueDate?: string }, idempotencyKey: string) =>
    request<{ loan: Loan; transaction: LoanTransaction }>('POST', `/v1/loans/${id(loanId)}/reschedule`, { body, idempotencyKey }),
  createProduct: (body: Record<string, unknown>, idempotencyKey: string) => request<Product>('POST', '/v1/loan-products', { body, idempotencyKey }),
  products: (signal?: AbortSignal) => request<Page<Product>>('GET', '/v1/loan-products?limit=100', { signal }),
  creditLines: (params: { enterpriseId?: string | undefined }, signal?: AbortSignal) => request<Page<CreditLine>>('GET', `/v1/credit-lines?${query({ limit: 20, ...params })}`, { signal }),
  draw: (lineId: string, body: { amountMinor: string; termMonths: number }, idempotencyKey: string) =>
    request<{ loan: { id: string; status?: string }; payout: Payout }>('POST', `/v1/credit-lines/${id(lineId)}/draws`, { body, idempotencyKey }),
}

/** Minor units (decimal string) as major units with the currency's two digits, grouped: "12,345.67". */
export function formatMinor(amountMinor: string, lang: string, currency?: string): string {
  const negative = amountMinor.startsWith('-')
  const digits = (negative ? amountMinor.slice(1) : amountMinor).padStart(3, '0')
  const whole = BigInt(digits.slice(0, -2))
  const grouped = new Intl.NumberFormat(lang).format(whole)
  const text = `${negative ? '-' : ''}${grouped}.${digits.slice(-2)}`
  return currency === undefined ? text : `${currency === 'CNY' ? '¥' : `${currency} `}${text}`
}

/** A major-unit amount typed by a person ("12,000.5") as minor units, or null when it is not one. */
export function parseMajorToMinor(text: string): string | null {
  const clean = text.replace(/[,\s_]/g, '')
  const match = /^([0-9]{1,16})(?:\.([0-9]{1,2}))?$/.exec(clean)
  if (match === null) return null
  const minor = BigInt(match[1] as string) * 100n + BigInt((match[2] ?? '').padEnd(2, '0') || '0')
  return minor > 0n ? minor.toString() : null
}

/** A fraction 0–1 (decimal string or number) as a percentage with one or two decimals. */
export function formatShare(value: string | number | null, lang: string, digits = 2): string {
  if (value === null) return '—'
  const n = typeof value === 'number' ? value : Number(value)
  return new Intl.NumberFormat(lang, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n)
}

export const sumComponents = (c: Components): bigint => BigInt(c.principal) + BigInt(c.interest) + BigInt(c.fees) + BigInt(c.penalties)
