// The profile's consents: a table (10 a page, with status), revocation of an active one (inline confirm),
// and a small form to record a new one. Reports every change so the features are read again.
import { useState, type FormEvent } from 'react'
import { api, asApiError, consentItems, purposes, type ApiError, type Consent, type ConsentItem, type Purpose } from '../../api.ts'
import { useI18n, type MessageKey } from '../../i18n.ts'
import { ErrorNotice, Loading, Pager, useLoad } from '../../ui.tsx'
import { addYears, isIsoDate } from './format.ts'

const pageSize = 10

function ConsentStatus(props: { consent: Consent }) {
  const { t } = useI18n()
  const { consent } = props
  if (consent.active) return <span className="badge">{t('consents.active')}</span>
  if (consent.revokedAt !== null) return <span className="badge badge-danger">{t('consents.revoked')}</span>
  return <span className="badge badge-muted">{t('consents.expired')}</span>
}

export function Consents(props: { enterpriseId: string; canWrite: boolean; today: string; version: number; onChanged(): void }) {
  const { t, formatDateTime } = useI18n()
  const { data, error, loading, reload } = useLoad((signal) => api.consents(props.enterpriseId, signal), `${props.enterpriseId}|${props.version}`)
  const [page, setPage] = useState(1)
  const [confirming, setConfirming] = useState<string | null>(null)
  const [revoking, setRevoking] = useState<string | null>(null)
  const [actionError, setActionError] = useState<ApiError | null>(null)
  const [formOpen, setFormOpen] = useState(false)
  const [notice, setNotice] = useState<MessageKey | null>(null)

  const revoke = async (id: string) => {
    setRevoking(id)
    setActionError(null)
    setNotice(null)
    try {
      await api.revokeConsent(id)
      setConfirming(null)
      props.onChanged()
    } catch (caught) {
      setActionError(asApiError(caught))
    } finally {
      setRevoking(null)
    }
  }

  const items = data?.items ?? []
  const pages = Math.max(1, Math.ceil(items.length / pageSize))
  const current = Math.min(page, pages)
  const shown = items.slice((current - 1) * pageSize, current * pageSize)
  const columns = props.canWrite ? 6 : 5

  return (
    <section className="card profile-card" data-testid="consents" aria-busy={loading}>
      <div className="card-head">
        <div>
          <h2>{t('consents.title')}</h2>
          <p className="muted small">{t('consents.subtitle')}</p>
        </div>
        {props.canWrite && !formOpen && (
          <button type="button" className="button button-ghost" onClick={() => setFormOpen(true)}>
            {t('consents.grantOpen')}
          </button>
        )}
      </div>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {actionError !== null && <ErrorNotice error={actionError} />}
      {notice !== null && (
        <p className="notice notice-info" role="status">
          {t(notice)}
        </p>
      )}
      {formOpen && (
        <GrantForm
          enterpriseId={props.enterpriseId}
          today={props.today}
          onCancel={() => setFormOpen(false)}
          onGranted={() => {
            setFormOpen(false)
            setNotice('consents.granted')
            setPage(1)
            props.onChanged()
          }}
        />
      )}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className="profile-table">
          <div className={`table-wrap${loading ? ' is-busy' : ''}`}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('profile.purpose')}</th>
                  <th scope="col">{t('consents.scope')}</th>
                  <th scope="col">{t('consents.grantedAt')}</th>
                  <th scope="col">{t('consents.expiresAt')}</th>
                  <th scope="col">{t('consents.status')}</th>
                  {props.canWrite && (
                    <th scope="col">
                      <span className="visually-hidden">{t('consents.revoke')}</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {shown.length === 0 ? (
                  <tr>
                    <td colSpan={columns} className="empty">
                      {t('consents.empty')}
                    </td>
                  </tr>
                ) : (
                  shown.map((consent) => (
                    <tr key={consent.id} data-testid="consent-row" data-active={consent.active}>
                      <td className="strong nowrap">{t(`purpose.${consent.purpose}`)}</td>
                      <td className="scope-cell">
                        <span className="tags">
                          {consent.scope.map((item) => (
                            <span key={item} className="tag tag-plain">
                              {t(`source.${item}`)}
                            </span>
                          ))}
                        </span>
                      </td>
                      <td className="muted">{formatDateTime(consent.grantedAt)}</td>
                      <td className="muted">{formatDateTime(consent.expiresAt)}</td>
                      <td className="nowrap">
                        <ConsentStatus consent={consent} />
                        {consent.revokedAt !== null && <div className="muted small">{t('consents.revokedAt', { at: formatDateTime(consent.revokedAt) })}</div>}
                      </td>
                      {props.canWrite && (
                        <td className="nowrap">
                          <div className="actions">
                            {consent.active &&
                              (confirming === consent.id ? (
                                <>
                                  <button type="button" className="button button-small button-danger" disabled={revoking !== null} onClick={() => void revoke(consent.id)}>
                                    {revoking === consent.id ? t('consents.revoking') : t('consents.revokeConfirm')}
                                  </button>
                                  <button type="button" className="button button-small button-ghost" disabled={revoking !== null} onClick={() => setConfirming(null)}>
                                    {t('consents.cancel')}
                                  </button>
                                </>
                              ) : (
                                <button
                                  type="button"
                                  className="button button-small button-ghost"
                                  disabled={revoking !== null}
                                  onClick={() => {
                                    setConfirming(consent.id)
                                    setNotice(null)
                                  }}
                                >
                                  {t('consents.revoke')}
                                </button>
                              ))}
                          </div>
                        </td>
                      )}
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {pages > 1 && <Pager page={current} hasPrev={current > 1} hasNext={current < pages} busy={loading} onPrev={() => setPage(current - 1)} onNext={() => setPage(current + 1)} />}
        </div>
      )}
    </section>
  )
}

function GrantForm(props: { enterpriseId: string; today: string; onCancel(): void; onGranted(): void }) {
  const { t } = useI18n()
  const [purpose, setPurpose] = useState<Purpose>('credit_assessment')
  const [scope, setScope] = useState<ConsentItem[]>([])
  const [expiresOn, setExpiresOn] = useState(() => addYears(props.today, 1))
  const [evidence, setEvidence] = useState('')
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<MessageKey | null>(null)
  const [error, setError] = useState<ApiError | null>(null)

  const toggle = (item: ConsentItem, on: boolean) => setScope((current) => (on ? consentItems.filter((i) => i === item || current.includes(i)) : current.filter((i) => i !== item)))

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setProblem(null)
    setError(null)
    if (scope.length === 0) return setProblem('consents.scopeRequired')
    // Valid through the whole of the chosen day (UTC).
    const expiresAt = isIsoDate(expiresOn) ? new Date(`${expiresOn}T23:59:59.999Z`) : null
    if (expiresAt === null || expiresAt.getTime() <= Date.now()) return setProblem('consents.expiryPast')
    setBusy(true)
    try {
      const text = evidence.trim()
      await api.grantConsent(props.enterpriseId, { purpose, scope, expiresAt: expiresAt.toISOString(), ...(text === '' ? {} : { evidence: text }) })
      props.onGranted()
    } catch (caught) {
      setError(asApiError(caught))
      setBusy(false)
    }
  }

  return (
    <form className="grant-form" data-testid="grant-form" onSubmit={(event) => void submit(event)} noValidate>
      <h3>{t('consents.grantTitle')}</h3>
      <div className="form-row">
        <label className="field">
          <span>{t('profile.purpose')}</span>
          <select value={purpose} onChange={(event) => setPurpose(event.target.value as Purpose)}>
            {purposes.map((p) => (
              <option key={p} value={p}>
                {t(`purpose.${p}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('consents.expiresOn')}</span>
          <input type="date" value={expiresOn} min={props.today} onChange={(event) => setExpiresOn(event.target.value)} required />
        </label>
        <label className="field field-wide">
          <span>{t('consents.evidence')}</span>
          <input type="text" value={evidence} maxLength={500} placeholder={t('consents.evidenceHint')} onChange={(event) => setEvidence(event.target.value)} />
        </label>
      </div>
      <fieldset className="checks">
        <legend>{t('consents.scope')}</legend>
        {consentItems.map((item) => (
          <label key={item} className="check">
            <input type="checkbox" checked={scope.includes(item)} onChange={(event) => toggle(item, event.target.checked)} />
            {t(`source.${item}`)}
          </label>
        ))}
      </fieldset>
      {problem !== null && (
        <p className="notice notice-error" role="alert">
          {t(problem)}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? t('consents.granting') : t('consents.grant')}
        </button>
        <button type="button" className="button button-ghost" disabled={busy} onClick={props.onCancel}>
          {t('consents.cancel')}
        </button>
      </div>
    </form>
  )
}
