// Role home for those without the operator dashboard (borrower, investor, core enterprise): a welcome and their modules.
import type { Me } from '../api.ts'
import { useI18n, type MessageKey } from '../i18n.ts'
import { modulesFor } from '../nav.ts'
import { Link } from '../ui.tsx'

const intro: Partial<Record<Me['principal']['role'], MessageKey>> = { borrower: 'home.borrower', investor: 'home.investor', core_enterprise: 'home.core_enterprise' }

export function Home(props: { me: Me }) {
  const { t } = useI18n()
  const role = props.me.principal.role
  const name = props.me.user?.displayName ?? props.me.user?.email ?? t(`role.${role}`)
  const links = modulesFor(role).filter((module) => module.id !== 'home')
  return (
    <section data-testid="role-home">
      <div className="card hero">
        <h1>{t('home.title', { name })}</h1>
        <p>{t('home.signedInAs', { tenant: props.me.tenant.name, role: t(`role.${role}`) })}</p>
        <p className="muted">{t(intro[role] ?? 'home.staff')}</p>
      </div>
      {links.length > 0 && (
        <>
          <h2 className="section-title">{t('home.modules')}</h2>
          <div className="tiles">
            {links.map((module) => (
              <Link key={module.id} to={module.path} className="card tile">
                <span className="tile-title">{t(module.label)}</span>
                {!module.built && <span className="badge badge-soon">{t('nav.soon')}</span>}
              </Link>
            ))}
          </div>
        </>
      )}
    </section>
  )
}
