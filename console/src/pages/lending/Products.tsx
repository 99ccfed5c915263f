// Loan products on the loans page: the list (limits, terms, rate cap, fee, schedule conventions) for every
// staff role, and for admins a form to create one (POST /v1/loan-products; the server fills the defaults —
// penalty rules, allocation order, tier thresholds, provisions — and names what it refuses).
import { useState, type FormEvent } from 'react'
import { asApiError, type ApiError, type Role } from '../../api.ts'
import { useI18n } from '../../i18n.ts'
import { formatMinor, lendingApi, newIdempotencyKey, parseMajorToMinor } from '../../lending-api.ts'
import { ErrorNotice, Loading, useLoad } from '../../ui.tsx'

const amortizations = ['equal_installments', 'equal_principal', 'interest_only', 'bullet'] as const

export function ProductsCard(props: { role: Role }) {
  const { t, lang } = useI18n()
  const [version, setVersion] = useState(0)
  const { data, error, loading, reload } = useLoad((signal) => lendingApi.products(signal), String(version))
  const [open, setOpen] = useState(false)
  const [form, setForm] = useState({ name: '', min: '1,000', max: '100,000', termMin: '3', termMax: '12', cap: '24', fee: '0', amortization: 'equal_installments' })
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<ApiError | null>(null)
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) => setForm({ ...form, [key]: event.target.value })
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setFailure(null)
    try {
      await lendingApi.createProduct({
        name: form.name, currency: 'CNY', principalMinMinor: parseMajorToMinor(form.min) ?? '0', principalMaxMinor: parseMajorToMinor(form.max) ?? '0',
        installmentsMin: Number(form.termMin), installmentsMax: Number(form.termMax), annualRateCapPct: form.cap, upfrontFeePct: form.fee,
        schedule: { amortization: form.amortization, interestPeriod: 'daily', daysInYear: '365' },
      }, newIdempotencyKey())
      setOpen(false)
      setVersion((n) => n + 1)
    } catch (caught) {
      setFailure(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="card" data-testid="products">
      <div className="card-head">
        <h2>{t('products.title')}</h2>
        {props.role === 'admin' && (
          <button type="button" className="button button-small" onClick={() => setOpen(!open)} data-testid="product-new">
            {t('products.new')}
          </button>
        )}
      </div>
      {open && (
        <form className="form-row" onSubmit={(event) => void submit(event)} data-testid="product-form">
          <label className="field field-wide"><span>{t('products.name')}</span><input value={form.name} onChange={set('name')} required /></label>
          <label className="field"><span>{t('products.min')}</span><input value={form.min} onChange={set('min')} /></label>
          <label className="field"><span>{t('products.max')}</span><input value={form.max} onChange={set('max')} /></label>
          <label className="field"><span>{t('products.termMin')}</span><input type="number" value={form.termMin} onChange={set('termMin')} /></label>
          <label className="field"><span>{t('products.termMax')}</span><input type="number" value={form.termMax} onChange={set('termMax')} /></label>
          <label className="field"><span>{t('products.cap')}</span><input value={form.cap} onChange={set('cap')} /></label>
          <label className="field"><span>{t('products.fee')}</span><input value={form.fee} onChange={set('fee')} /></label>
          <label className="field">
            <span>{t('products.amortization')}</span>
            <select value={form.amortization} onChange={set('amortization')}>
              {amortizations.map((a) => <option key={a} value={a}>{t(`amortization.${a}`)}</option>)}
            </select>
          </label>
          <button type="submit" className="button button-primary" disabled={busy}>{busy ? t('common.working') : t('products.create')}</button>
        </form>
      )}
      {failure !== null && <ErrorNotice error={failure} />}
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead>
              <tr>
                <th scope="col">{t('products.name')}</th>
                <th scope="col" className="num">{t('products.range')}</th>
                <th scope="col">{t('products.terms')}</th>
                <th scope="col">{t('products.cap')}</th>
                <th scope="col">{t('products.fee')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.id} data-testid="product-row">
                  <td>{p.name}</td>
                  <td className="num nowrap">{formatMinor(p.principalMinMinor, lang, p.currency)} – {formatMinor(p.principalMaxMinor, lang, p.currency)}</td>
                  <td>{t('products.months', { min: p.installmentsMin, max: p.installmentsMax })}</td>
                  <td>{p.annualRateCapPct}%</td>
                  <td>{p.upfrontFeePct}%</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}
