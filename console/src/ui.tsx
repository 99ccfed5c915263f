// Small shared UI pieces: links, the language toggle, loading and error states, page headers, pagination, data loading.
import { useCallback, useEffect, useState, type MouseEvent, type ReactNode } from 'react'
import { asApiError, type ApiError } from './api.ts'
import { isMessageKey, langs, useI18n, type Translate } from './i18n.ts'
import { navigate } from './nav.ts'

/** A message that says what went wrong and what to do, in the current language. */
export function errorMessage(t: Translate, error: ApiError): string {
  const key = `error.${error.code}`
  const detail = error.detail ?? error.title
  if (isMessageKey(key)) return t(key, { detail, requestId: error.requestId ?? '—' })
  return t('error.generic', { code: error.code, detail })
}

export function Link(props: { to: string; className?: string; children: ReactNode; current?: boolean }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(props.to)
  }
  return (
    <a href={props.to} className={props.className} onClick={onClick} aria-current={props.current === true ? 'page' : undefined}>
      {props.children}
    </a>
  )
}

export function LangToggle() {
  const { lang, setLang, t } = useI18n()
  const names = { 'zh-CN': '中文', en: 'English' } as const
  return (
    <div className="lang-toggle" role="group" aria-label={t('lang.label')}>
      {langs.map((option, index) => (
        <span key={option}>
          {index > 0 && <span className="lang-sep" aria-hidden="true">/</span>}
          <button type="button" lang={option} aria-pressed={lang === option} onClick={() => setLang(option)}>
            {names[option]}
          </button>
        </span>
      ))}
    </div>
  )
}

export function Loading(props: { label?: string }) {
  const { t } = useI18n()
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {props.label ?? t('common.loading')}
    </div>
  )
}

export function ErrorNotice(props: { error: ApiError; onRetry?: () => void }) {
  const { t } = useI18n()
  return (
    <div className="notice notice-error" role="alert">
      <span>{errorMessage(t, props.error)}</span>
      {props.onRetry !== undefined && (
        <button type="button" className="button button-small" onClick={props.onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  )
}

export function PageHeader(props: { title: string; subtitle?: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle !== undefined && <p className="muted">{props.subtitle}</p>}
      </div>
      {props.children}
    </header>
  )
}

export function Pager(props: { page: number; hasPrev: boolean; hasNext: boolean; busy: boolean; onPrev(): void; onNext(): void }) {
  const { t } = useI18n()
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" className="button button-ghost" disabled={!props.hasPrev || props.busy} onClick={props.onPrev}>
        ‹ {t('pager.prev')}
      </button>
      <span className="muted">{t('pager.page', { n: props.page })}</span>
      <button type="button" className="button button-ghost" disabled={!props.hasNext || props.busy} onClick={props.onNext}>
        {t('pager.next')} ›
      </button>
    </nav>
  )
}

export type Loaded<T> = { data: T | undefined; error: ApiError | undefined; loading: boolean; reload(): void }

/** Loads data when `key` changes (aborting the previous load); keeps the last data while reloading. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true })
  const [attempt, setAttempt] = useState(0)
  useEffect(() => {
    const controller = new AbortController()
    setState((previous) => ({ ...previous, error: undefined, loading: true }))
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((previous) => ({ ...previous, error: asApiError(error), loading: false }))
      },
    )
    return () => controller.abort()
    // `load` is a fresh closure each render; `key` says when it means something new.
  }, [key, attempt])
  const reload = useCallback(() => setAttempt((n) => n + 1), [])
  return { ...state, reload }
}

/** Cursor pagination: a stack of the cursors of the pages seen so far. */
/**
 * A paged list: the loading state, the rows (or the empty message), and the pager once there is more than
 * one page. `row` renders one item as a `<tr>` with one cell per column.
 */
export function PagedTable<T>(props: {
  data: { items: readonly T[]; nextCursor: string | null } | undefined
  loading: boolean
  pages: { page: number; next(cursor: string): void; prev(): void }
  columns: readonly { label: ReactNode; className?: string }[]
  empty: ReactNode
  row: (item: T) => ReactNode
}) {
  const { data, loading, pages } = props
  if (data === undefined) return loading ? <Loading /> : null
  const next = data.nextCursor
  return (
    <div className="card card-flush">
      <div className={`table-wrap${loading ? ' is-busy' : ''}`}>
        <table className="table">
          <thead>
            <tr>
              {props.columns.map((column, i) => (
                <th key={i} scope="col" className={column.className}>
                  {column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.items.length === 0 ? (
              <tr>
                <td colSpan={props.columns.length} className="empty">
                  {props.empty}
                </td>
              </tr>
            ) : (
              data.items.map(props.row)
            )}
          </tbody>
        </table>
      </div>
      {(pages.page > 1 || next !== null) && (
        <Pager page={pages.page} hasPrev={pages.page > 1} hasNext={next !== null} busy={loading} onPrev={pages.prev} onNext={() => next !== null && pages.next(next)} />
      )}
    </div>
  )
}

export function useCursorPages(): { cursor: string | undefined; page: number; next(cursor: string): void; prev(): void } {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined])
  return {
    cursor: cursors[cursors.length - 1],
    page: cursors.length,
    next: (cursor) => setCursors((stack) => [...stack, cursor]),
    prev: () => setCursors((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)),
  }
}

export function Placeholder(props: { title: string; body: string; badge?: string; children?: ReactNode }) {
  return (
    <section className="placeholder card">
      {props.badge !== undefined && <span className="badge badge-soon">{props.badge}</span>}
      <h1>{props.title}</h1>
      <p className="muted">{props.body}</p>
      {props.children}
    </section>
  )
}
