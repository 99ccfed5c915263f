// Shared by the model list and a version's page: status badge, status actions, metric formatting.
import { useState } from 'react'
import { api, asApiError, type ApiError, type ModelStatus, type ModelSummary, type Role } from '../../api.ts'
import { isMessageKey, useI18n, type I18n, type Lang } from '../../i18n.ts'
import { ErrorNotice } from '../../ui.tsx'

/** Who may register versions and change their status (the API's model admins). */
export function canManageModels(role: Role): boolean {
  return role === 'admin' || role === 'risk_analyst'
}

/** A number with a fixed count of decimals in the page's language; '—' when there is none. */
export function fixed(lang: Lang, value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  return new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)
}

export function percent(lang: Lang, value: number, digits = 1): string {
  return new Intl.NumberFormat(lang, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value)
}

export function authorLabel(i18n: I18n, author: ModelSummary['author']): string {
  const key = `models.author.${author.kind}`
  const kind = isMessageKey(key) ? i18n.t(key) : author.kind
  // The end of the id: a UUIDv7 starts with its time, which ids made together share.
  return author.id === null ? kind : `${kind} …${author.id.slice(-8)}`
}

export function StatusBadge(props: { status: ModelStatus }) {
  const { t } = useI18n()
  return (
    <span className={`badge model-status model-status-${props.status}`} data-testid="model-status" data-status={props.status}>
      {t(`models.status.${props.status}`)}
    </span>
  )
}

/**
 * Make champion / make challenger / retire (with a confirmation step). `onChanged` gets the updated
 * version; the caller reloads, since a new champion also demotes the previous one.
 */
export function StatusActions(props: { model: ModelSummary; onChanged(model: ModelSummary): void }) {
  const { t } = useI18n()
  const { model } = props
  const [busy, setBusy] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const change = async (status: ModelStatus) => {
    setBusy(true)
    setError(null)
    try {
      const updated = await api.setModelStatus(model.id, status)
      setConfirming(false)
      props.onChanged(updated)
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="model-actions">
      <div className="actions">
        {confirming ? (
          <>
            <button type="button" className="button button-small button-danger" disabled={busy} onClick={() => void change('retired')}>
              {busy ? t('models.saving') : t('models.retireConfirm')}
            </button>
            <button type="button" className="button button-small button-ghost" disabled={busy} onClick={() => setConfirming(false)}>
              {t('models.cancel')}
            </button>
          </>
        ) : (
          <>
            {model.status !== 'champion' && (
              <button type="button" className="button button-small button-primary" disabled={busy} onClick={() => void change('champion')}>
                {t('models.makeChampion')}
              </button>
            )}
            {(model.status === 'registered' || model.status === 'retired') && (
              <button type="button" className="button button-small button-ghost" disabled={busy} onClick={() => void change('challenger')}>
                {t('models.makeChallenger')}
              </button>
            )}
            {model.status !== 'retired' && (
              <button type="button" className="button button-small button-ghost" disabled={busy} onClick={() => setConfirming(true)}>
                {t('models.retire')}
              </button>
            )}
          </>
        )}
      </div>
      {error !== null && <ErrorNotice error={error} />}
    </div>
  )
}
