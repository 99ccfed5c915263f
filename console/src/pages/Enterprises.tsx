// Enterprises page: the tenant's SMEs (a borrower sees its own), 20 a page, from GET /v1/enterprises; each name opens its profile.
import { api, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { enterprisePath } from '../nav.ts'
import { ErrorNotice, Link, PagedTable, PageHeader, useCursorPages, useLoad } from '../ui.tsx'

export function Enterprises(props: { role: Role }) {
  const { t, formatDate, formatDateTime } = useI18n()
  const pages = useCursorPages()
  const { data, error, loading, reload } = useLoad((signal) => api.enterprises(pages.cursor, signal), pages.cursor ?? '')
  const dash = '—'
  return (
    <section data-testid="enterprises">
      <PageHeader title={t('enterprises.title')} subtitle={props.role === 'borrower' ? t('enterprises.subtitleBorrower') : t('enterprises.subtitle')} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      <PagedTable
        data={data}
        loading={loading}
        pages={pages}
        columns={[{ label: t('col.name') }, { label: t('col.uscc') }, { label: t('col.sector') }, { label: t('col.region') }, { label: t('col.foundedOn') }, { label: t('col.createdAt') }]}
        empty={t('enterprises.empty')}
        row={(enterprise) => (
          <tr key={enterprise.id}>
            <td className="strong">
              <Link to={enterprisePath(enterprise.id)}>{enterprise.name}</Link>
            </td>
            <td className={enterprise.uscc === null ? undefined : 'mono'}>{enterprise.uscc ?? dash}</td>
            <td>{enterprise.sector ?? dash}</td>
            <td>{enterprise.region ?? dash}</td>
            <td className="nowrap">{enterprise.foundedOn === null ? dash : formatDate(enterprise.foundedOn)}</td>
            <td className="nowrap muted">{formatDateTime(enterprise.createdAt)}</td>
          </tr>
        
        )}
      />
    </section>
  )
}
