// The sign-in page: tenant slug, email and password → POST /v1/auth/login.
import { useState, type FormEvent } from 'react'
import { api, asApiError, setCsrfToken, type ApiError } from '../api.ts'
import { useI18n, type MessageKey } from '../i18n.ts'
import { LangToggle, errorMessage } from '../ui.tsx'

const tenantKey = 'puhui.tenant'

function savedTenant(): string {
  try {
    return localStorage.getItem(tenantKey) ?? 'demo'
  } catch {
    return 'demo'
  }
}

export function Login(props: { onLoggedIn(): Promise<void>; notice: MessageKey | null }) {
  const { t } = useI18n()
  const [tenant, setTenant] = useState(savedTenant)
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const result = await api.login({ tenant: tenant.trim(), email: email.trim(), password })
      setCsrfToken(result.csrfToken)
      try {
        localStorage.setItem(tenantKey, tenant.trim())
      } catch {
        // not remembered
      }
      await props.onLoggedIn()
    } catch (caught) {
      setError(asApiError(caught))
      setBusy(false)
    }
  }

  return (
    <div className="login-page">
      <div className="login-lang">
        <LangToggle />
      </div>
      <div className="login-panel">
        <section className="login-brand">
          <div className="brand-mark" aria-hidden="true">惠</div>
          <h2>
            {t('app.name')} <span className="brand-alt">{t('app.name') === '普惠' ? 'Puhui' : '普惠'}</span>
          </h2>
          <p className="login-tagline">{t('app.tagline')}</p>
          <p className="login-pitch">{t('app.pitch')}</p>
        </section>
        <form className="login-form" onSubmit={submit} aria-labelledby="login-title">
          <h1 id="login-title">{t('login.title')}</h1>
          {props.notice !== null && error === null && <div className="notice notice-info">{t(props.notice)}</div>}
          {error !== null && (
            <div className="notice notice-error" role="alert">
              {errorMessage(t, error)}
            </div>
          )}
          <div className="field">
            <label htmlFor="login-tenant">{t('login.tenant')}</label>
            <input id="login-tenant" name="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} required autoComplete="organization" spellCheck={false} autoCapitalize="none" aria-describedby="login-tenant-hint" />
            <small id="login-tenant-hint" className="muted">
              {t('login.tenantHint')}
            </small>
          </div>
          <div className="field">
            <label htmlFor="login-email">{t('login.email')}</label>
            <input id="login-email" name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="username" autoFocus spellCheck={false} autoCapitalize="none" />
          </div>
          <div className="field">
            <label htmlFor="login-password">{t('login.password')}</label>
            <input id="login-password" name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
          </div>
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? t('login.submitting') : t('login.submit')}
          </button>
          <p className="muted small">{t('login.demoHint')}</p>
        </form>
      </div>
    </div>
  )
}
