// Enterprises page: the tenant's SMEs (a borrower sees its own), 20 a page, from GET /v1/enterprises; each name opens its profile.
import { api, type Role } from '../api.ts'
import { useI18n } from '../i18n.ts'
import { enterprisePath } from '../nav.ts'
import { ErrorNotice, Link, Loading, PageHeader, Pager, useCursorPages, useLoad } from '../ui.tsx'

export function Enterprises(props: { role: Role }) {
  const { t, formatDate, formatDateTime } = useI18n()
  const pages = useCursorPages()
  const { data, error, loading, reload } = useLoad((signal) => api.enterprises(pages.cursor, signal), pages.cursor ?? '')
  const dash = '—'
  return (
    <section data-testid="enterprises">
      <PageHeader title={t('enterprises.title')} subtitle={props.role === 'borrower' ? t('enterprises.subtitleBorrower') : t('enterprises.subtitle')} />
      {error !== undefined && <ErrorNotice error={error} onRetry={reload} />}
      {data === undefined ? (
        loading && <Loading />
      ) : (
        <div className="card card-flush">
          <div className={`table-wrap${loading ? ' is-busy' : ''}`}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('col.name')}</th>
                  <th scope="col">{t('col.uscc')}</th>
                  <th scope="col">{t('col.sector')}</th>
                  <th scope="col">{t('col.region')}</th>
                  <th scope="col">{t('col.foundedOn')}</th>
                  <th scope="col">{t('col.createdAt')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.length === 0 ? (
                  <tr>
                    <td colSpan={6} className="empty">
                      {t('enterprises.empty')}
                    </td>
                  </tr>
                ) : (
                  data.items.map((enterprise) => (
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
