// Servicing a loan from the console (operators and admins; rescheduling also risk analysts): the pay-off quote
// as of a date, a repayment (a value date on a closed day re-runs the loan from it), a prepayment (reduce the
// installment or the term) and a rescheduling. Each action sends a fresh Idempotency-Key and reloads the loan;
// the server's problem code is shown translated.
import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, asApiError, type Role } from '../../api.ts'
import { useI18n } from '../../i18n.ts'
import { formatMinor, lendingApi, newIdempotencyKey, parseMajorToMinor, type LoanDetail } from '../../lending-api.ts'
import { ErrorNotice } from '../../ui.tsx'

const servicingRoles: readonly Role[] = ['admin', 'operator']
const reschedulingRoles: readonly Role[] = ['admin', 'operator', 'risk_analyst']

export function canService(role: Role): boolean {
  return reschedulingRoles.includes(role)
}

type Action = 'repay' | 'prepay' | 'reschedule'

export function ServicingPanel(props: { detail: LoanDetail; role: Role; businessDate: string; onChanged: () => void }) {
  const { t, lang, formatDate } = useI18n()
  const { loan } = props.detail
  const money = (minor: string) => formatMinor(minor, lang, loan.currency)
  const [quoteOn, setQuoteOn] = useState(props.businessDate)
  const [quote, setQuote] = useState<{ on: string; totalMinor: string; owedMinor: Record<string, string> } | null>(null)
  const actions: Action[] = servicingRoles.includes(props.role) ? ['repay', 'prepay', 'reschedule'] : ['reschedule']
  const [action, setAction] = useState<Action>(actions[0] ?? 'reschedule')
  const [amount, setAmount] = useState('')
  const [valueDate, setValueDate] = useState('')
  const [mode, setMode] = useState<'reduce_installment' | 'reduce_term'>('reduce_installment')
  const [installments, setInstallments] = useState('12')
  const [rate, setRate] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [done, setDone] = useState<string | null>(null)
  if (loan.status !== 'active') return null
  const run = async (work: () => Promise<unknown>, message: string) => {
    setBusy(true)
    setError(null)
    setDone(null)
    try {
      await work()
      setDone(message)
      props.onChanged()
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  const askQuote = () => run(async () => setQuote(await lendingApi.payoff(loan.id, quoteOn === '' ? undefined : quoteOn)), '')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const on = valueDate === '' ? {} : { valueDate }
    if (action === 'reschedule') {
      const n = Number(installments)
      void run(() => lendingApi.reschedule(loan.id, { installments: n, ...(rate === '' ? {} : { annualRatePct: rate }), ...on }, newIdempotencyKey()), t('servicing.rescheduled'))
      return
    }
    const amountMinor = parseMajorToMinor(amount)
    if (amountMinor === null) {
      setError(new ApiError(400, 'invalid_field', t('servicing.amountInvalid')))
      return
    }
    void run(
      () => (action === 'repay' ? lendingApi.repayOn(loan.id, { amountMinor, ...on }, newIdempotencyKey()) : lendingApi.prepay(loan.id, { amountMinor, mode, ...on }, newIdempotencyKey())),
      t(action === 'repay' ? 'servicing.repaid' : 'servicing.prepaid', { amount: money(amountMinor) }),
    )
  }
  const field = (label: string, control: ReactNode) => (
    <label className="field">
      <span>{label}</span>
      {control}
    </label>
  )
  return (
    <div className="card" data-testid="servicing">
      <h2>{t('servicing.title')}</h2>
      <div className="form-row">
        {field(t('servicing.quoteOn'), <input type="date" value={quoteOn} onChange={(e) => setQuoteOn(e.target.value)} data-testid="quote-on" />)}
        <button type="button" className="button" disabled={busy} onClick={() => void askQuote()} data-testid="quote">
          {t('servicing.quote')}
        </button>
      </div>
      {quote !== null && (
        <p data-testid="quote-result">
          {t('servicing.quoteResult', { on: formatDate(quote.on), total: money(quote.totalMinor) })}{' '}
          <span className="muted small">
            ({t('servicing.components', { principal: money(quote.owedMinor.principal ?? '0'), interest: money(quote.owedMinor.interest ?? '0'), other: money((BigInt(quote.owedMinor.fees ?? '0') + BigInt(quote.owedMinor.penalties ?? '0')).toString()) })})
          </span>
        </p>
      )}
      <form className="form-row" onSubmit={submit}>
        {field(t('servicing.action'), (
          <select value={action} onChange={(e) => setAction(e.target.value as Action)} data-testid="servicing-action">
            {actions.map((a) => <option key={a} value={a}>{t(`servicing.${a}`)}</option>)}
          </select>
        ))}
        {action !== 'reschedule' && field(t('servicing.amount'), <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="1,000.00" data-testid="servicing-amount" />)}
        {action === 'prepay' && field(t('servicing.mode'), (
          <select value={mode} onChange={(e) => setMode(e.target.value as typeof mode)} data-testid="servicing-mode">
            <option value="reduce_installment">{t('servicing.reduceInstallment')}</option>
            <option value="reduce_term">{t('servicing.reduceTerm')}</option>
          </select>
        ))}
        {action === 'reschedule' && field(t('servicing.installments'), <input type="number" min={1} max={600} value={installments} onChange={(e) => setInstallments(e.target.value)} data-testid="servicing-installments" />)}
        {action === 'reschedule' && field(t('servicing.rate'), <input inputMode="decimal" value={rate} onChange={(e) => setRate(e.target.value)} placeholder={loan.annualRatePct} data-testid="servicing-rate" />)}
        {field(t('servicing.valueDate'), <input type="date" value={valueDate} max={props.businessDate} onChange={(e) => setValueDate(e.target.value)} data-testid="servicing-value-date" />)}
        <button type="submit" className="button button-primary" disabled={busy} data-testid="servicing-submit">
          {busy ? t('common.working') : t(`servicing.${action}`)}
        </button>
      </form>
      <p className="muted small">{t('servicing.hint')}</p>
      {error !== null && <ErrorNotice error={error} />}
      {done !== null && done !== '' && (
        <div className="notice notice-info" role="status" data-testid="servicing-done">
          {done}
        </div>
      )}
    </div>
  )
}
