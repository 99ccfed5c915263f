// Pieces the lending pages share: outcome and status badges, reasons in the current language, the rule
// trace, the inputs a decision read, an offer with its schedule preview, and a loan's repayment plan.
import type { ReactNode } from 'react'
import { isMessageKey, useI18n } from '../../i18n.ts'
import { formatMinor, sumComponents, type Application, type Installment, type Offer, type Reason, type TraceEntry } from '../../lending-api.ts'

export function OutcomeBadge(props: { outcome: string }) {
  const { t } = useI18n()
  const key = `outcome.${props.outcome}`
  const label = isMessageKey(key) ? t(key) : props.outcome
  return <span className={`badge badge-${props.outcome}`} data-testid="outcome">{label}</span>
}

export function StatusBadge(props: { status: string; kind: 'loan' | 'strategy' | 'offer' | 'line' | 'tier' }) {
  const { t } = useI18n()
  const key = `${props.kind}Status.${props.status}`
  return <span className={`badge badge-status badge-${props.status}`}>{isMessageKey(key) ? t(key) : props.status}</span>
}

export function Reasons(props: { reasons: readonly Reason[] }) {
  const { t, lang } = useI18n()
  if (props.reasons.length === 0) return <p className="muted">{t('application.noReasons')}</p>
  return (
    <ul className="reasons" data-testid="reasons">
      {props.reasons.map((reason) => (
        <li key={reason.code}>
          <span>{lang === 'zh-CN' ? reason.zh : reason.en}</span> <code className="muted small">{reason.code}</code>
        </li>
      ))}
    </ul>
  )
}

function valueText(value: unknown): string {
  if (value === undefined) return ''
  if (value === null) return 'null'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '')
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

export function TraceTable(props: { trace: readonly TraceEntry[] }) {
  const { t } = useI18n()
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="trace">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('trace.step')}</th>
            <th scope="col">{t('trace.rule')}</th>
            <th scope="col">{t('trace.result')}</th>
            <th scope="col">{t('trace.value')}</th>
          </tr>
        </thead>
        <tbody>
          {props.trace.map((entry, index) => (
            <tr key={index} className={entry.result === 'fired' || entry.result === 'hit' ? 'row-hit' : undefined}>
              <td className="muted">{index + 1}</td>
              <td>{entry.step}</td>
              <td className="mono small">{entry.rule}</td>
              <td>{entry.result}</td>
              <td className="mono small">{valueText(entry.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function InputsTable(props: { inputs: Record<string, unknown> }) {
  const { t } = useI18n()
  const entries = Object.entries(props.inputs).sort(([a], [b]) => a.localeCompare(b))
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="inputs">
        <thead>
          <tr>
            <th scope="col">{t('inputs.name')}</th>
            <th scope="col">{t('inputs.value')}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([name, value]) => (
            <tr key={name}>
              <td className="mono small">{name}</td>
              <td className="mono small">{valueText(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function Facts(props: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {props.items.map(([label, value]) => (
        <div key={label} className="fact">
          <dt className="muted small">{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

export function OfferCard(props: { offer: Offer; children?: ReactNode }) {
  const { t, lang, formatDateTime } = useI18n()
  const o = props.offer
  const rows = o.schedulePreview.rows ?? []
  return (
    <div className="card offer" data-testid="offer">
      <h2>{t('offer.title')}</h2>
      <Facts
        items={[
          [t('offer.amount'), <strong data-testid="offer-amount">{formatMinor(o.amountMinor, lang, o.currency)}</strong>],
          [t('offer.limit'), formatMinor(o.limitMinor, lang, o.currency)],
          [t('offer.rate'), `${o.annualRatePct}%`],
          [t('offer.apr'), <span data-testid="offer-apr">{Number(o.aprPct).toFixed(2)}%</span>],
          [t('offer.fee'), formatMinor(o.upfrontFeeMinor, lang, o.currency)],
          [t('offer.term'), t('common.months', { n: o.termMonths })],
          [t('offer.expires'), formatDateTime(o.expiresAt)],
          [t('offer.status'), <StatusBadge status={o.status} kind="offer" />],
        ]}
      />
      {rows.length > 0 && (
        <details>
          <summary>{t('offer.preview', { n: rows.length })}</summary>
          <div className="table-wrap">
            <table className="table table-compact" data-testid="offer-schedule">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{t('schedule.dueOn')}</th>
                  <th scope="col" className="num">{t('schedule.principal')}</th>
                  <th scope="col" className="num">{t('schedule.interest')}</th>
                  <th scope="col" className="num">{t('schedule.total')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  <tr key={index}>
                    <td>{row.n ?? index + 1}</td>
                    <td>{row.dueOn}</td>
                    <td className="num">{row.principal}</td>
                    <td className="num">{row.interest}</td>
                    <td className="num">{row.total}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
      {props.children}
    </div>
  )
}

/** An installment's state as of the business date: paid, part-paid, overdue or due later. */
export function installmentState(i: Installment, businessDate: string): 'paid' | 'overdue' | 'partial' | 'due' {
  const outstanding = sumComponents(i.outstandingMinor)
  if (outstanding === 0n) return 'paid'
  if (i.dueOn < businessDate) return 'overdue'
  return sumComponents(i.paidMinor) > 0n ? 'partial' : 'due'
}

export function ScheduleTable(props: { schedule: readonly Installment[]; currency: string; businessDate: string; action?: (i: Installment) => ReactNode }) {
  const { t, lang, formatDate } = useI18n()
  const money = (minor: string | bigint) => formatMinor(String(minor), lang)
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="schedule">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">{t('schedule.dueOn')}</th>
            <th scope="col" className="num">{t('schedule.principal')}</th>
            <th scope="col" className="num">{t('schedule.interest')}</th>
            <th scope="col" className="num">{t('schedule.feesPenalties')}</th>
            <th scope="col" className="num">{t('schedule.due')}</th>
            <th scope="col" className="num">{t('schedule.paid')}</th>
            <th scope="col" className="num">{t('schedule.outstanding')}</th>
            <th scope="col">{t('schedule.state')}</th>
            {props.action !== undefined && <th scope="col" />}
          </tr>
        </thead>
        <tbody>
          {props.schedule.map((i) => {
            const state = installmentState(i, props.businessDate)
            return (
              <tr key={i.n} data-testid={`installment-${i.n}`} data-state={state}>
                <td>{i.n}</td>
                <td className="nowrap">{formatDate(i.dueOn)}</td>
                <td className="num">{money(i.dueMinor.principal)}</td>
                <td className="num">{money(i.dueMinor.interest)}</td>
                <td className="num">{money(BigInt(i.dueMinor.fees) + BigInt(i.dueMinor.penalties))}</td>
                <td className="num">{money(sumComponents(i.dueMinor))}</td>
                <td className="num">{money(sumComponents(i.paidMinor))}</td>
                <td className="num">{money(sumComponents(i.outstandingMinor))}</td>
                <td>
                  <span className={`badge badge-${state}`}>{t(`installment.${state}`)}</span>
                </td>
                {props.action !== undefined && <td>{props.action(i)}</td>}
              </tr>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

export function ApplicationSummary(props: { application: Application }) {
  const { t, lang, formatDateTime } = useI18n()
  const a = props.application
  return (
    <Facts
      items={[
        [t('application.outcome'), <OutcomeBadge outcome={a.outcome} />],
        [t('application.amount'), formatMinor(a.amountMinor, lang, a.currency)],
        [t('application.term'), t('common.months', { n: a.termMonths })],
        [t('application.score'), a.score === null ? '—' : <span data-testid="score">{Math.round(a.score)}</span>],
        [t('application.strategy'), `${a.strategy.name} v${a.strategy.version}`],
        [t('application.model'), a.model === null ? '—' : `${a.model.name} v${a.model.version}`],
        [t('application.businessDate'), a.businessDate],
        [t('application.createdAt'), formatDateTime(a.createdAt)],
      ]}
    />
  )
}
