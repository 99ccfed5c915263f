// The features of one as-of date: the cross-check flags first (severity, the sentence in the current
// language, the evidence), then every catalogue feature grouped by its source, with consent shown.
import { useMemo } from 'react'
import type { FeatureCatalogue, FeatureFlag, FeatureReport } from '../../api.ts'
import { isMessageKey, useI18n } from '../../i18n.ts'
import { featureFormatter } from './format.ts'

/** The sources a cross-source feature reads: without consent for any of them it stays empty. */
const derivedFrom: Record<string, readonly string[]> = {
  declared_to_observed_revenue_12m: ['tax_filings', 'orders'],
  inflow_to_gmv_6m: ['payment_flows', 'orders'],
}

function Flag(props: { flag: FeatureFlag }) {
  const { t, lang, formatNumber } = useI18n()
  const { flag } = props
  const severityKey = `severity.${flag.severity}`
  return (
    <li className={`flag flag-${flag.severity === 'high' ? 'high' : 'medium'}`} data-testid="flag" data-code={flag.code}>
      <div className="flag-head">
        <span className={`badge ${flag.severity === 'high' ? 'badge-danger' : 'badge-warn'}`}>{isMessageKey(severityKey) ? t(severityKey) : flag.severity}</span>
        <span className="flag-sentence">{lang === 'zh-CN' ? flag.zh : flag.en}</span>
        <span className="tag">{flag.code}</span>
      </div>
      <div className="tags">
        {Object.entries(flag.evidence).map(([key, value]) => {
          const labelKey = `evidence.${key}`
          return (
            <span key={key} className="chip" data-testid="evidence">
              {isMessageKey(labelKey) ? t(labelKey) : key} <strong>{typeof value === 'number' ? formatNumber(value) : value}</strong>
            </span>
          )
        })}
      </div>
    </li>
  )
}

export function Features(props: { report: FeatureReport; catalogue: FeatureCatalogue }) {
  const { t, lang, formatDate, formatDateTime } = useI18n()
  const { report, catalogue } = props
  const format = useMemo(() => featureFormatter(lang, { yes: t('features.yes'), no: t('features.no') }), [lang, t])
  const groups = useMemo(() => {
    const bySource = new Map<string, FeatureCatalogue['features']>()
    for (const definition of catalogue.features) bySource.set(definition.source, [...(bySource.get(definition.source) ?? []), definition])
    return [...bySource.entries()]
  }, [catalogue])
  const withoutConsent = new Set(report.sourcesWithoutConsent)
  const used = new Set(report.sourcesUsed)
  const sourceLabel = (source: string) => {
    const key = `source.${source}`
    return isMessageKey(key) ? t(key) : source
  }
  const featureLabel = (name: string) => {
    const key = `feature.${name}`
    return isMessageKey(key) ? t(key) : name
  }
  const lacksConsent = (source: string, name: string) => (source === 'derived' ? (derivedFrom[name] ?? []).some((s) => withoutConsent.has(s)) : withoutConsent.has(source))

  return (
    <div data-testid="features-report">
      <p className="muted small">{t('features.meta', { version: report.catalogueVersion, asOf: formatDate(report.asOf), knownBy: formatDateTime(report.knownBy) })}</p>
      {report.sourcesUsed.length === 0 ? (
        <p className="notice notice-info" data-testid="no-sources">
          {t('features.noSources')}
        </p>
      ) : (
        <p className="tags" data-testid="sources-used">
          <span className="muted small">{t('features.sourcesUsed')}</span>
          {report.sourcesUsed.map((source) => (
            <span key={source} className="tag tag-plain">
              {sourceLabel(source)}
            </span>
          ))}
        </p>
      )}

      <h3>{t('features.flags')}</h3>
      {report.flags.length === 0 ? (
        <p className="muted" data-testid="no-flags">
          {t('features.noFlags')}
        </p>
      ) : (
        <ul className="flags" data-testid="flags">
          {report.flags.map((flag, index) => (
            <Flag key={`${flag.code}-${index}`} flag={flag} />
          ))}
        </ul>
      )}

      <div className="profile-table">
        <div className="table-wrap">
          <table className="table table-compact" data-testid="features-table">
            <thead>
              <tr>
                <th scope="col">{t('features.feature')}</th>
                <th scope="col" className="num">
                  {t('features.value')}
                </th>
                <th scope="col">{t('features.definition')}</th>
              </tr>
            </thead>
            {groups.map(([source, definitions]) => (
              <tbody key={source}>
                <tr className="group-row">
                  <th scope="rowgroup" colSpan={3}>
                    {sourceLabel(source)}
                    {used.has(source) && <span className="badge">{t('features.consented')}</span>}
                    {withoutConsent.has(source) && <span className="badge badge-muted">{t('features.noConsent')}</span>}
                  </th>
                </tr>
                {definitions.map((definition) => {
                  const value = report.features[definition.name] ?? null
                  return (
                    <tr key={definition.name} data-testid={`feature-${definition.name}`}>
                      <td>
                        <div>{featureLabel(definition.name)}</div>
                        <div className="mono muted">{definition.name}</div>
                      </td>
                      <td className="num nowrap" data-testid={`feature-value-${definition.name}`}>
                        {value === null ? (
                          <>
                            <span>—</span>
                            {lacksConsent(source, definition.name) && <div className="muted small">{t('features.noConsentNote')}</div>}
                          </>
                        ) : (
                          format(definition.name, definition.description, value)
                        )}
                      </td>
                      <td className="muted small">{definition.description}</td>
                    </tr>
                  )
                })}
              </tbody>
            ))}
          </table>
        </div>
      </div>
    </div>
  )
}
