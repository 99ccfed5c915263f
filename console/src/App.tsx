// The console shell: session (GET /v1/me, login, logout), language, role-filtered navigation and page routing.
import { Component, Suspense, lazy, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react'
import { api, asApiError, setCsrfToken, setSessionLostHandler, type ApiError, type Me } from './api.ts'
import { I18nContext, initialLang, makeI18n, saveLang, useI18n, type Lang, type MessageKey } from './i18n.ts'
import { dashboardRoles, detailIdAt, enterpriseIdAt, homeLabel, modelIdAt, moduleAt, modulesFor, navigate, usePath } from './nav.ts'
import { ApplicationDetail, Applications } from './pages/Applications.tsx'
import { AuditLog } from './pages/AuditLog.tsx'
import { ComingSoon, NotAllowed, NotFound } from './pages/ComingSoon.tsx'
import { Enterprises } from './pages/Enterprises.tsx'
import { Home } from './pages/Home.tsx'
import { Journal } from './pages/Journal.tsx'
import { LoanPage, Loans } from './pages/Loans.tsx'
import { Login } from './pages/Login.tsx'
import { Models } from './pages/Models.tsx'
import { Portal, PortalLoan } from './pages/Portal.tsx'
import { Strategies, StrategyDetail } from './pages/Strategies.tsx'
import { ErrorNotice, LangToggle, Link, Loading } from './ui.tsx'

// The dashboard carries ECharts: load it only when it is shown.
const Dashboard = lazy(() => import('./pages/Dashboard.tsx'))
// So does the enterprise profile (its features-over-time chart).
const EnterpriseProfile = lazy(() => import('./pages/EnterpriseProfile.tsx'))
// And a model version's page (ROC, KS, score distribution, calibration, drift charts).
const ModelDetail = lazy(() => import('./pages/ModelDetail.tsx'))

type Session = { kind: 'loading' } | { kind: 'failed'; error: ApiError } | { kind: 'signedOut'; notice: MessageKey | null } | { kind: 'signedIn'; me: Me }

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang)
  const setLang = useCallback((next: Lang) => {
    saveLang(next)
    setLangState(next)
  }, [])
  const i18n = useMemo(() => makeI18n(lang, setLang), [lang, setLang])
  useEffect(() => {
    document.documentElement.lang = lang
  }, [lang])

  const [session, setSession] = useState<Session>({ kind: 'loading' })
  const loadMe = useCallback(async () => {
    try {
      const me = await api.me()
      setCsrfToken(me.csrfToken)
      setSession({ kind: 'signedIn', me })
    } catch (caught) {
      const error = asApiError(caught)
      setCsrfToken(null)
      setSession(error.status === 401 ? { kind: 'signedOut', notice: null } : { kind: 'failed', error })
    }
  }, [])
  useEffect(() => {
    void loadMe()
    setSessionLostHandler(() => {
      setCsrfToken(null)
      setSession({ kind: 'signedOut', notice: 'login.sessionEnded' })
    })
    return () => setSessionLostHandler(null)
  }, [loadMe])

  const signedOut = useCallback((notice: MessageKey) => {
    setCsrfToken(null)
    setSession({ kind: 'signedOut', notice })
  }, [])

  let body: ReactNode
  switch (session.kind) {
    case 'loading':
      body = (
        <div className="boot">
          <Loading />
        </div>
      )
      break
    case 'failed':
      body = (
        <div className="boot">
          <div className="boot-box">
            <h1>{i18n.t('boot.error')}</h1>
            <ErrorNotice error={session.error} onRetry={() => void loadMe()} />
          </div>
        </div>
      )
      break
    case 'signedOut':
      body = <Login onLoggedIn={loadMe} notice={session.notice} />
      break
    case 'signedIn':
      body = <Shell me={session.me} onSignedOut={signedOut} />
      break
  }
  return <I18nContext value={i18n}>{body}</I18nContext>
}

function Shell(props: { me: Me; onSignedOut(notice: MessageKey): void }) {
  const { t } = useI18n()
  const path = usePath()
  const { me } = props
  const role = me.principal.role
  const [menuOpen, setMenuOpen] = useState(false)
  const [busy, setBusy] = useState(false)
  const [logoutError, setLogoutError] = useState<ApiError | null>(null)
  const current = moduleAt(path)
  const title = current === undefined ? t('notFound.title') : current.id === 'home' ? t(homeLabel(role)) : t(current.label)

  useEffect(() => {
    document.title = `${title} · ${t('app.name')}`
  }, [title, t])
  useEffect(() => setMenuOpen(false), [path])

  const logout = async () => {
    setBusy(true)
    setLogoutError(null)
    try {
      await api.logout()
    } catch (caught) {
      const error = asApiError(caught)
      if (error.status !== 401) {
        setLogoutError(error)
        setBusy(false)
        return
      }
    }
    navigate('/', { replace: true })
    props.onSignedOut('login.signedOut')
  }

  const name = me.user?.displayName ?? me.user?.email ?? t(`role.${role}`)
  return (
    <div className={`shell${menuOpen ? ' menu-open' : ''}`}>
      <aside className="sidebar">
        <div className="sidebar-head">
          <Link to="/" className="brand">
            <span className="brand-mark" aria-hidden="true">惠</span>
            <span className="brand-name">{t('app.name')}</span>
          </Link>
          <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen((open) => !open)}>
            {t('nav.menu')}
          </button>
        </div>
        <nav id="main-nav" className="nav" aria-label={t('nav.main')}>
          {modulesFor(role).map((module) => (
            <Link key={module.id} to={module.path} className="nav-link" current={current?.id === module.id}>
              <span>{module.id === 'home' ? t(homeLabel(role)) : t(module.label)}</span>
              {!module.built && <span className="nav-soon">{t('nav.soon')}</span>}
            </Link>
          ))}
        </nav>
        <div className="sidebar-foot">
          <a href="/docs" target="_blank" rel="noreferrer">
            {t('top.apiDocs')} ↗
          </a>
        </div>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="tenant">
            <span className="tenant-name">{me.tenant.name}</span>
            <span className="chip" title={me.tenant.timeZone}>
              {t('top.businessDate')} <strong>{me.tenant.businessDate}</strong>
            </span>
          </div>
          <div className="topbar-actions">
            <LangToggle />
            <div className="who">
              <span className="who-name">{name}</span>
              <span className="badge">{t(`role.${role}`)}</span>
            </div>
            <button type="button" className="button button-ghost" onClick={() => void logout()} disabled={busy}>
              {busy ? t('top.loggingOut') : t('top.logout')}
            </button>
          </div>
        </header>
        <main className="content">
          {logoutError !== null && <ErrorNotice error={logoutError} />}
          <PageBoundary key={path}>
            <Page me={me} path={path} />
          </PageBoundary>
        </main>
      </div>
    </div>
  )
}

function Page(props: { me: Me; path: string }) {
  const { t } = useI18n()
  const role = props.me.principal.role
  const module = moduleAt(props.path)
  if (module === undefined) return <NotFound path={props.path} />
  if (!module.roles.includes(role)) return <NotAllowed role={role} />
  switch (module.id) {
    case 'home':
      if (!dashboardRoles.includes(role)) return <Home me={props.me} />
      return (
        <Suspense fallback={<Loading />}>
          <Dashboard tenantName={props.me.tenant.name} />
        </Suspense>
      )
    case 'enterprises': {
      const enterpriseId = enterpriseIdAt(props.path)
      if (enterpriseId === undefined) return <Enterprises role={role} />
      return (
        <Suspense fallback={<Loading />}>
          <EnterpriseProfile key={enterpriseId} id={enterpriseId} me={props.me} />
        </Suspense>
      )
    }
    case 'models': {
      const modelId = modelIdAt(props.path)
      if (modelId === undefined) return <Models role={role} />
      return (
        <Suspense fallback={<Loading />}>
          <ModelDetail key={modelId} id={modelId} role={role} />
        </Suspense>
      )
    }
    case 'applications': {
      const id = detailIdAt('/applications', props.path)
      return id === undefined ? <Applications queue={false} /> : <ApplicationDetail key={id} id={id} role={role} review={false} />
    }
    case 'review': {
      const id = detailIdAt('/review', props.path)
      return id === undefined ? <Applications queue /> : <ApplicationDetail key={id} id={id} role={role} review />
    }
    case 'loans': {
      const id = detailIdAt('/loans', props.path)
      return id === undefined ? <Loans role={role} /> : <LoanPage key={id} id={id} role={role} businessDate={props.me.tenant.businessDate} back={{ to: '/loans', label: t('loans.back') }} />
    }
    case 'strategies': {
      const id = detailIdAt('/strategies', props.path)
      return id === undefined ? <Strategies /> : <StrategyDetail key={id} id={id} role={role} />
    }
    case 'portal': {
      const id = detailIdAt('/portal/loans', props.path)
      return id === undefined ? <Portal me={props.me} /> : <PortalLoan key={id} id={id} businessDate={props.me.tenant.businessDate} />
    }
    case 'audit':
      return <AuditLog />
    case 'ledger':
      return <Journal me={props.me} />
    default:
      return <ComingSoon label={module.label} />
  }
}

/** Keeps a page that fails to render (or whose code fails to load) from blanking the whole console. */
class PageBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null }
  static getDerivedStateFromError(error: Error) {
    return { error }
  }
  override render() {
    if (this.state.error === null) return this.props.children
    return <ErrorNotice error={asApiError(this.state.error)} onRetry={() => location.reload()} />
  }
}
