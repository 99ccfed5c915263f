// Audit log page: the append-only log, newest first, 50 a page, from GET /v1/audit-log.
import { api } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { ErrorNotice, PagedTable, PageHeader, useCursorPages, useLoad } from '../ui.tsx'

const short = (id: string | null) => (id === null ? '' : id.slice(-8))

export function AuditLog() {
  const { t, formatDateTime } = useI18n()
  const pages = useCursorPages()
  const { data, error, loading, reload } = useLoad((signal) => api.auditLog(pages.cursor, signal), pages.cursor ?? '')
  return (
    <section data-testid="audit-log">
      <PageHeader title={t('audit.title')} subtitle={t('audit.subtitle')} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      <PagedTable
        data={data}
        loading={loading}
        pages={pages}
        columns={[{ label: t('col.at') }, { label: t('col.action') }, { label: t('col.actor') }, { label: t('col.target') }, { label: t('col.purpose') }, { label: t('col.requestId') }]}
        empty={t('audit.empty')}
        row={(entry) => (
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
        
        )}
      />
    </section>
  )
}
