// Models page (staff): every scorecard version by name with its status and training metrics; risk analysts
// and administrators register a version by uploading a MODEL.json and make versions champion, challenger
// or retired. A version's own page (ModelDetail) has the charts and the drift monitoring.
import { useState, type ChangeEvent, type FormEvent } from 'react'
import { api, asApiError, type ApiError, type ModelSummary, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { modelPath } from '../nav.ts'
import { ErrorNotice, Link, Loading, PageHeader, useLoad } from '../ui.tsx'
import { StatusActions, StatusBadge, authorLabel, canManageModels, fixed } from './models/common.tsx'

const namePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** The versions grouped by name, in the API's order (name, then newest version first). */
function byName(items: readonly ModelSummary[]): [string, ModelSummary[]][] {
  const groups = new Map<string, ModelSummary[]>()
  for (const item of items) {
    const group = groups.get(item.name)
    if (group === undefined) groups.set(item.name, [item])
    else group.push(item)
  }
  return [...groups]
}

export function Models(props: { role: Role }) {
  const i18n = useI18n()
  const { t } = i18n
  const manage = canManageModels(props.role)
  const { data, error, loading, reload } = useLoad((signal) => api.models(signal), 'models')
  const [notice, setNotice] = useState<string | null>(null)
  const groups = data === undefined ? [] : byName(data.items)

  const changed = (model: ModelSummary) => {
    setNotice(t('models.statusChanged', { name: model.name, version: model.version, status: t(`models.status.${model.status}`) }))
    reload()
  }

  return (
    <section data-testid="models" aria-busy={loading}>
      <PageHeader title={t('models.title')} subtitle={t('models.subtitle')} />
      {notice !== null && (
        <div className="notice notice-info" role="status" data-testid="models-notice">
          <span>{notice}</span>
        </div>
      )}
      {manage && (
        <RegisterForm
          names={groups.map(([name]) => name)}
          onRegistered={(model) => {
            setNotice(t('models.register.done', { name: model.name, version: model.version }))
            reload()
          }}
        />
      )}
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : groups.length === 0 ? (
        <div className="card model-empty muted">{manage ? t('models.emptyManage') : t('models.empty')}</div>
      ) : (
        groups.map(([name, versions]) => (
          <section key={name} className="card model-group" data-testid={`model-group-${name}`} aria-labelledby={`model-group-${name}`}>
            <div className="model-group-head">
              <h2 id={`model-group-${name}`}>{name}</h2>
              <span className="muted small">{t('models.versions', { n: versions.length })}</span>
            </div>
            <div className={`table-wrap${loading ? ' is-busy' : ''}`}>
              <table className="table">
                <thead>
                  <tr>
                    <th>{t('models.version')}</th>
                    <th>{t('models.status')}</th>
                    <th className="num">{t('models.auc')}</th>
                    <th className="num">{t('models.ks')}</th>
                    <th className="num">{t('models.gini')}</th>
                    <th className="num">{t('models.cvAuc')}</th>
                    <th className="num">{t('models.n')}</th>
                    <th className="num">{t('models.variables')}</th>
                    <th>{t('models.registered')}</th>
                    {manage && <th className="model-actions-head">{t('models.actions')}</th>}
                  </tr>
                </thead>
                <tbody>
                  {versions.map((model) => (
                    <tr key={model.id} data-testid={`model-${model.name}-v${model.version}`}>
                      <td>
                        <Link to={modelPath(model.id)} className="model-version">
                          v{model.version}
                        </Link>
                      </td>
                      <td>
                        <StatusBadge status={model.status} />
                      </td>
                      <td className="num" data-testid="model-auc">
                        {fixed(i18n.lang, model.metrics.auc)}
                      </td>
                      <td className="num">{fixed(i18n.lang, model.metrics.ks)}</td>
                      <td className="num">{fixed(i18n.lang, model.metrics.gini)}</td>
                      <td className="num">{fixed(i18n.lang, model.metrics.cvAuc)}</td>
                      <td className="num">{model.metrics.n === null ? '—' : i18n.formatNumber(model.metrics.n)}</td>
                      <td className="num" title={model.variables.join(', ')}>
                        {model.variables.length}
                      </td>
                      <td>
                        <div>{i18n.formatDateTime(model.createdAt)}</div>
                        <div className="muted small" title={model.author.id ?? undefined}>
                          {authorLabel(i18n, model.author)}
                        </div>
                      </td>
                      {manage && (
                        <td>
                          <StatusActions model={model} onChanged={changed} />
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))
      )}
      {manage && groups.length > 0 && <p className="muted small">{t('models.statusNote')}</p>}
    </section>
  )
}

type Picked = { file: string; artefact: Record<string, unknown>; target: string; rows: number | null; auc: number | null }

/** Reads the chosen file in the browser: JSON, and a puhui-scorecard artefact (the server checks the rest). */
async function readArtefact(file: File): Promise<{ picked: Picked } | { problem: 'notJson' | 'notArtefact' }> {
  let value: unknown
  try {
    value = JSON.parse(await file.text())
  } catch {
    return { problem: 'notJson' }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || (value as { format?: unknown }).format !== 'puhui-scorecard') return { problem: 'notArtefact' }
  const artefact = value as Record<string, unknown> & { target?: { column?: unknown }; trainingData?: { rows?: unknown }; metrics?: { auc?: unknown } }
  return {
    picked: {
      file: file.name,
      artefact,
      target: typeof artefact.target?.column === 'string' ? artefact.target.column : '—',
      rows: typeof artefact.trainingData?.rows === 'number' ? artefact.trainingData.rows : null,
      auc: typeof artefact.metrics?.auc === 'number' ? artefact.metrics.auc : null,
    },
  }
}

function RegisterForm(props: { names: string[]; onRegistered(model: ModelSummary): void }) {
  const i18n = useI18n()
  const { t } = i18n
  // Untouched (null), the name is the first existing one: the usual case is a new version of it.
  const [name, setName] = useState<string | null>(null)
  const [picked, setPicked] = useState<Picked | null>(null)
  const [fileProblem, setFileProblem] = useState<string | null>(null)
  const [nameProblem, setNameProblem] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  // A new key clears the file input after a registration.
  const [inputKey, setInputKey] = useState(0)
  const shownName = name ?? props.names[0] ?? ''

  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0]
    setPicked(null)
    setFileProblem(null)
    setError(null)
    if (file === undefined) return
    const result = await readArtefact(file)
    if ('problem' in result) setFileProblem(t(result.problem === 'notJson' ? 'models.register.notJson' : 'models.register.notArtefact', { file: file.name }))
    else setPicked(result.picked)
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    const invalidName = !namePattern.test(shownName)
    setNameProblem(invalidName)
    if (picked === null) {
      if (fileProblem === null) setFileProblem(t('models.register.fileMissing'))
      return
    }
    if (invalidName) return
    setBusy(true)
    try {
      const model = await api.registerModel({ name: shownName, artefact: picked.artefact })
      setPicked(null)
      setInputKey((key) => key + 1)
      props.onRegistered(model)
    } catch (caught) {
      setError(asApiError(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="card model-register" onSubmit={(event) => void submit(event)} noValidate data-testid="model-register">
      <h2>{t('models.register.title')}</h2>
      <p className="muted">{t('models.register.subtitle')}</p>
      <div className="form-row">
        <label className="field">
          <span>{t('models.register.name')}</span>
          <input
            value={shownName}
            onChange={(event) => {
              setName(event.target.value)
              setNameProblem(false)
            }}
            placeholder={t('models.register.nameHint')}
            list="model-names"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={nameProblem}
            aria-describedby={nameProblem ? 'model-name-problem' : undefined}
          />
          <datalist id="model-names">
            {props.names.map((existing) => (
              <option key={existing} value={existing} />
            ))}
          </datalist>
        </label>
        <label className="field field-wide">
          <span>{t('models.register.file')}</span>
          <input key={inputKey} type="file" accept=".json,application/json" onChange={(event) => void choose(event)} aria-invalid={fileProblem !== null} className="model-file" />
        </label>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? t('models.register.submitting') : t('models.register.submit')}
          </button>
        </div>
      </div>
      {nameProblem && (
        <p id="model-name-problem" className="model-form-problem" role="alert">
          {t('models.register.nameInvalid')}
        </p>
      )}
      {fileProblem !== null && (
        <p className="model-form-problem" role="alert">
          {fileProblem}
        </p>
      )}
      {picked !== null && (
        <p className="muted small" data-testid="model-file-preview">
          {t('models.register.preview', { file: picked.file, target: picked.target, rows: picked.rows === null ? '—' : i18n.formatNumber(picked.rows), auc: fixed(i18n.lang, picked.auc) })}
        </p>
      )}
      {error !== null && <ErrorNotice error={error} />}
    </form>
  )
}
