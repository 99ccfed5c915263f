// Enterprise profile (/enterprises/:id): registration details, consents (grant, revoke), features as of a
// date with cross-check flags and their evidence, features over the last 12 month-ends, and the score
// (a placeholder until a scoring model is registered). Staff, and a borrower on its own enterprise (the
// API answers 404 for another). Loaded lazily: it carries ECharts.
import { useCallback, useEffect, useState } from 'react'
import { api, purposes, type Me, type Purpose, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { ErrorNotice, Link, Loading, PageHeader, useLoad } from '../ui.tsx'
import { Consents } from './enterprise/Consents.tsx'
import { FeatureHistory } from './enterprise/FeatureHistory.tsx'
import { Features } from './enterprise/Features.tsx'
import { isIsoDate, todayIn } from './enterprise/format.ts'

/** Who may read features (GET /v1/enterprises/:id/features) and who may grant or revoke consents. */
const featureReaders: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer', 'borrower']
const consentWriters: readonly Role[] = ['admin', 'operator', 'borrower']

export default function EnterpriseProfile(props: { id: string; me: Me }) {
  const { t, formatDate } = useI18n()
  const role = props.me.principal.role
  const today = todayIn(props.me.tenant.timeZone)
  const { data: enterprise, error, loading, reload } = useLoad((signal) => api.enterprise(props.id, signal), props.id)
  // Bumped when a consent is granted or revoked: the consents and the features are read again.
  const [version, setVersion] = useState(0)
  const changed = useCallback(() => setVersion((n) => n + 1), [])
  const dash = '—'

  useEffect(() => {
    if (enterprise !== undefined) document.title = `${enterprise.name} · ${t('app.name')}`
  }, [enterprise, t])

  const back = (
    <Link to="/enterprises" className="button button-ghost">
      ‹ {t('profile.back')}
    </Link>
  )
  if (enterprise === undefined) {
    return (
      <section data-testid="enterprise-profile">
        <PageHeader title={t('enterprises.title')}>{back}</PageHeader>
        {error !== undefined && <ErrorNotice error={error} onRetry={error.status === 404 ? undefined : reload} />}
        {loading && <Loading />}
      </section>
    )
  }
  return (
    <section data-testid="enterprise-profile">
      <PageHeader title={enterprise.name} subtitle={t('profile.subtitle')}>
        {back}
      </PageHeader>
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      <section className="card profile-card" data-testid="enterprise-details" aria-label={t('profile.details')}>
        <dl className="details">
          <div>
            <dt>{t('col.uscc')}</dt>
            <dd className={enterprise.uscc === null ? undefined : 'mono'} data-testid="detail-uscc">
              {enterprise.uscc ?? dash}
            </dd>
          </div>
          <div>
            <dt>{t('col.sector')}</dt>
            <dd data-testid="detail-sector">{enterprise.sector ?? dash}</dd>
          </div>
          <div>
            <dt>{t('col.region')}</dt>
            <dd data-testid="detail-region">{enterprise.region ?? dash}</dd>
          </div>
          <div>
            <dt>{t('col.foundedOn')}</dt>
            <dd data-testid="detail-founded">{enterprise.foundedOn === null ? dash : formatDate(enterprise.foundedOn)}</dd>
          </div>
        </dl>
      </section>

      <Consents enterpriseId={enterprise.id} canWrite={consentWriters.includes(role)} today={today} version={version} onChanged={changed} />

      {featureReaders.includes(role) ? (
        <FeaturesSection enterpriseId={enterprise.id} today={today} version={version} />
      ) : (
        <section className="card profile-card">
          <h2>{t('features.title')}</h2>
          <p className="notice notice-info">{t('features.forbidden')}</p>
        </section>
      )}

      {scoreReaders.includes(role) && <ScoreSection enterpriseId={enterprise.id} today={today} />}
    </section>
  )
}

/** Roles that may score an enterprise (GET /v1/enterprises/:id/score). */
const scoreReaders: readonly Role[] = ['admin', 'operator', 'risk_analyst', 'reviewer']

/**
 * The score of the enterprise by the champion of a model name: the champions are listed from the
 * registry, and scoring reads the features (audited) as of today.
 */
function ScoreSection(props: { enterpriseId: string; today: string }) {
  const { t, lang } = useI18n()
  const { data: models } = useLoad((signal) => api.models(signal), 'models')
  const champions = (models?.items ?? []).filter((m) => m.status === 'champion')
  const [name, setName] = useState<string | undefined>(undefined)
  const chosen = name ?? champions[0]?.name
  const { data: result, error, loading } = useLoad(
    (signal) => (chosen === undefined ? Promise.resolve(undefined) : api.enterpriseScore(props.enterpriseId, { purpose: 'credit_assessment', model: chosen, asOf: props.today }, signal)),
    `${props.enterpriseId}:${chosen ?? ''}`,
  )
  return (
    <section className="card profile-card score-card" data-testid="score">
      <div className="card-head">
        <h2>{t('score.title')}</h2>
        {champions.length > 1 && (
          <select aria-label={t('score.model')} value={chosen} onChange={(event) => setName(event.target.value)}>
            {champions.map((m) => (
              <option key={m.id} value={m.name}>
                {m.name} v{m.version}
              </option>
            ))}
          </select>
        )}
      </div>
      {chosen === undefined && <p className="muted">{t('score.body')}</p>}
      {error !== undefined && <ErrorNotice error={error} />}
      {loading && chosen !== undefined && <Loading />}
      {result !== undefined && (
        <div data-testid="score-result">
          <p className="score-value">
            <strong data-testid="score-value">{Math.round(result.score)}</strong>{' '}
            <span className="muted">
              {t('score.probability')} {(result.probability * 100).toFixed(1)}% · {result.model.name} v{result.model.version} · {result.asOf}
            </span>
          </p>
          {result.reasons.length > 0 && (
            <>
              <h3>{t('score.reasons')}</h3>
              <ol data-testid="score-reasons">
                {result.reasons.map((reason) => (
                  <li key={reason.code}>{lang === 'zh-CN' ? reason.zh : reason.en}</li>
                ))}
              </ol>
            </>
          )}
        </div>
      )}
    </section>
  )
}

/** The purpose and as-of date, the features at that date, and the features at the 12 month-ends before. */
function FeaturesSection(props: { enterpriseId: string; today: string; version: number }) {
  const { t } = useI18n()
  const [purpose, setPurpose] = useState<Purpose>('credit_assessment')
  const [dateInput, setDateInput] = useState(props.today)
  const [asOf, setAsOf] = useState(props.today)
  // A typed date applies once it has settled: every read is audited, so not one per keystroke.
  useEffect(() => {
    if (!isIsoDate(dateInput) || dateInput === asOf) return
    const timer = setTimeout(() => setAsOf(dateInput), 400)
    return () => clearTimeout(timer)
  }, [dateInput, asOf])

  const catalogue = useLoad((signal) => api.featureCatalogue(signal), 'catalogue')
  const report = useLoad((signal) => api.features(props.enterpriseId, { purpose, asOf }, signal), `${props.enterpriseId}|${purpose}|${asOf}|${props.version}`)

  return (
    <>
      <section className="card profile-card" data-testid="features" aria-busy={report.loading || catalogue.loading}>
        <div className="card-head">
          <div>
            <h2>{t('features.title')}</h2>
            <p className="muted small">{t('features.subtitle')}</p>
          </div>
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
              <span>{t('profile.asOf')}</span>
              <input type="date" value={dateInput} max="9999-12-31" onChange={(event) => setDateInput(event.target.value)} aria-invalid={!isIsoDate(dateInput)} />
            </label>
          </div>
        </div>
        {!isIsoDate(dateInput) && (
          <p className="notice notice-error" role="alert">
            {t('features.invalidDate')}
          </p>
        )}
        {catalogue.error !== undefined && <ErrorNotice error={catalogue.error} onRetry={catalogue.reload} />}
        {report.error !== undefined && <ErrorNotice error={report.error} onRetry={report.reload} />}
        {report.data === undefined || catalogue.data === undefined ? (
          (report.loading || catalogue.loading) && <Loading />
        ) : (
          <div className={report.loading ? 'is-busy' : undefined}>
            <Features report={report.data} catalogue={catalogue.data} />
          </div>
        )}
      </section>
      <FeatureHistory enterpriseId={props.enterpriseId} purpose={purpose} asOf={asOf} version={props.version} />
    </>
  )
}
