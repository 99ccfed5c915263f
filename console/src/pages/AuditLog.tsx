// Audit log page: the append-only log, newest first, 50 a page, from GET /v1/audit-log.
import { api } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { ErrorNotice, Loading, PageHeader, Pager, useCursorPages, useLoad } from '../ui.tsx'

const short = (id: string | null) => (id === null ? '' : id.slice(-8))

export function AuditLog() {
  const { t, formatDateTime } = useI18n()
  const pages = useCursorPages()
  const { data, error, loading, reload } = useLoad((signal) => api.auditLog(pages.cursor, signal), pages.cursor ?? '')
  return (
    <section data-testid="audit-log">
      <PageHeader title={t('audit.title')} subtitle={t('audit.subtitle')} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className="card card-flush">
          <div className={`table-wrap${loading ? ' is-busy' : ''}`}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('col.at')}</th>
                  <th scope="col">{t('col.action')}</th>
                  <th scope="col">{t('col.actor')}</th>
                  <th scope="col">{t('col.target')}</th>
                  <th scope="col">{t('col.purpose')}</th>
                  <th scope="col">{t('col.requestId')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.length === 0 ? (
                  <tr>
                    <td colSpan={6} className="empty">
                      {t('audit.empty')}
                    </td>
                  </tr>
                ) : (
                  data.items.map((entry) => (
                    <tr key={entry.id}>
                      <td className="nowrap">{formatDateTime(entry.at)}</td>
                      <td>
                        <span className="tag">{entry.action}</span>
                      </td>
                      <td className="nowrap" title={entry.actorId ?? undefined}>
                        {entry.actorKind} <span className="mono muted">{short(entry.actorId)}</span>
                      </td>
                      <td className="nowrap" title={entry.targetId ?? undefined}>
                        {entry.targetKind ?? '—'} <span className="mono muted">{short(entry.targetId)}</span>
                      </td>
                      <td>{entry.purpose ?? '—'}</td>
                      <td className={entry.requestId === null ? undefined : 'mono muted'} title={entry.requestId ?? undefined}>
                        {entry.requestId === null ? '—' : short(entry.requestId)}
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {(pages.page > 1 || data.nextCursor !== null) && (
            <Pager
              page={pages.page}
              hasPrev={pages.page > 1}
              hasNext={data.nextCursor !== null}
              busy={loading}
              onPrev={pages.prev}
              onNext={() => data.nextCursor !== null && pages.next(data.nextCursor)}
            />
          )}
        </div>
      )}
    </section>
  )
}
