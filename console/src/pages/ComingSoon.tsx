// Placeholder pages: a module not built yet, a page the role may not open, and an unknown path.
import type { Role } from '../api.ts'
import { useI18n, type MessageKey } from '../i18n.ts'
import { Link, Placeholder } from '../ui.tsx'

export function ComingSoon(props: { label: MessageKey }) {
  const { t } = useI18n()
  return (
    <Placeholder title={t('soon.title', { module: t(props.label) })} body={t('soon.body')} badge={t('soon.badge')}>
      <p>
        <a className="button button-ghost" href="/docs" target="_blank" rel="noreferrer">
          {t('top.apiDocs')} ↗
        </a>
      </p>
    </Placeholder>
  )
}

export function NotAllowed(props: { role: Role }) {
  const { t } = useI18n()
  return (
    <Placeholder title={t('denied.title')} body={t('denied.body', { role: t(`role.${props.role}`) })}>
      <p>
        <Link to="/" className="button button-ghost">
          {t('common.backHome')}
        </Link>
      </p>
    </Placeholder>
  )
}

export function NotFound(props: { path: string }) {
  const { t } = useI18n()
  return (
    <Placeholder title={t('notFound.title')} body={t('notFound.body', { path: props.path })}>
      <p>
        <Link to="/" className="button button-ghost">
          {t('common.backHome')}
        </Link>
      </p>
    </Placeholder>
  )
}
