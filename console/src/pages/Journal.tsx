// Journal page (admins, auditors): sign the journal's tree head and verify its Ed25519 signature here,
// look up a transfer and verify its inclusion proof against the signed root — all hashing and signature
// checks run in this browser (merkle-verify.ts, WebCrypto), trusting the server for the public key only.
import { useEffect, useState, type CSSProperties, type FormEvent, type ReactNode } from 'react'
import { asApiError, request, type ApiError, type Me } from '../api.ts'
import { useI18n, type Lang } from '../i18n.ts'
import { verifyConsistency, verifyInclusion, verifyTreeHeadSignature, type InclusionCheck, type SignatureCheck, type SignedTreeHead } from '../merkle-verify.ts'
import { ErrorNotice, Loading, PageHeader } from '../ui.tsx'

// ---------------------------------------------------------------------------------------------------
// The journal API. Same contract as api.ts (JSON, problem+json errors as ApiError, the CSRF header on
// POST); kept here while api.ts is edited elsewhere — these belong there.

type Transfer = {
  id: string
  debitAccountId: string
  creditAccountId: string
  amountMinor: string
  currency: string
  code: number
  kind: 'posted' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending'
  pendingId: string | null
  valueDate: string
  postedAt: string
  journalIndex: string
  leafHash: string
}
type InclusionProof = { leafIndex: number; treeSize: number; leafHash: string; rootHash: string; proof: string[] }
type ConsistencyProof = { from: number; to: number; firstRoot: string; secondRoot: string; proof: string[] }
type SigningKeys = { current: string; keys: { keyId: string; algorithm: 'Ed25519'; publicKeyPem: string }[] }

/** The journal's routes, through the console's one request function (CSRF header, problem+json, session loss). */
const journalApi = {
  signTreeHead: () => request<SignedTreeHead>('POST', '/v1/ledger/journal/tree-heads'),
  signingKeys: (signal?: AbortSignal) => request<SigningKeys>('GET', '/v1/keys/signing', { signal }),
  transfer: (id: string, signal?: AbortSignal) => request<Transfer>('GET', `/v1/ledger/transfers/${encodeURIComponent(id)}`, { signal }),
  inclusion: (index: number, treeSize: number, signal?: AbortSignal) => request<InclusionProof>('GET', `/v1/ledger/journal/inclusion?index=${index}&treeSize=${treeSize}`, { signal }),
  consistency: (from: number, to: number, signal?: AbortSignal) => request<ConsistencyProof>('GET', `/v1/ledger/journal/consistency?from=${from}&to=${to}`, { signal }),
}

// ---------------------------------------------------------------------------------------------------

/** The last head signed in this tab, per tenant: kept across page changes and reloads, re-verified on load. */
const savedHeadKey = (tenantId: string) => `puhui.journal.sth.${tenantId}`

function loadSavedHead(tenantId: string): SignedTreeHead | null {
  try {
    const text = sessionStorage.getItem(savedHeadKey(tenantId))
    return text === null ? null : (JSON.parse(text) as SignedTreeHead)
  } catch {
    return null
  }
}

function saveHead(tenantId: string, sth: SignedTreeHead): void {
  try {
    sessionStorage.setItem(savedHeadKey(tenantId), JSON.stringify(sth))
  } catch {
    // not remembered: the head still holds for this page
  }
}

type SignatureState = { kind: 'checking' } | { kind: 'done'; result: SignatureCheck | 'unknown_key' } | { kind: 'error'; error: ApiError }
type ConsistencyState = { kind: 'checking' } | { kind: 'done'; verified: boolean } | { kind: 'error'; error: ApiError }
type Head = { sth: SignedTreeHead; previous: SignedTreeHead | null }
type Lookup = { kind: 'idle' } | { kind: 'invalid' } | { kind: 'loading' } | { kind: 'error'; error: ApiError } | { kind: 'loaded'; transfer: Transfer }
type Proof = { kind: 'none' } | { kind: 'noHead' } | { kind: 'newer'; index: number } | { kind: 'checking' } | { kind: 'error'; error: ApiError } | { kind: 'done'; response: InclusionProof; check: InclusionCheck }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const cardStyle: CSSProperties = { padding: '18px 20px', marginBottom: 16 }
const cardHead: CSSProperties = { display: 'flex', flexWrap: 'wrap', alignItems: 'center', justifyContent: 'space-between', gap: 12, marginBottom: 14 }
const fieldsStyle: CSSProperties = { display: 'grid', gridTemplateColumns: 'max-content minmax(0, 1fr)', gap: '8px 18px', margin: 0 }
const hashStyle: CSSProperties = { wordBreak: 'break-all', fontSize: 12.5 }
const okStyle: CSSProperties = { background: 'var(--primary-soft)', color: 'var(--primary-strong)', border: '1px solid #bfe3d9' }
const badStyle: CSSProperties = { background: 'var(--danger-soft)', color: 'var(--danger)' }

/** An amount in minor units as major units with its currency code, exact (no floating point). */
function formatAmount(amountMinor: string, currency: string, lang: Lang): string {
  let digits = 2
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  } catch {
    // an unknown currency: two decimals
  }
  let major = amountMinor
  try {
    const minor = BigInt(amountMinor)
    const scale = 10n ** BigInt(digits)
    major = digits === 0 ? minor.toString() : `${minor / scale}.${(minor % scale).toString().padStart(digits, '0')}`
    return new Intl.NumberFormat(lang, { style: 'currency', currency, currencyDisplay: 'code', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major as `${number}`)
  } catch {
    return `${major} ${currency}`
  }
}

function Fields(props: { rows: [label: string, value: ReactNode, testId?: string][] }) {
  return (
    <dl style={fieldsStyle}>
      {props.rows.map(([label, value, testId]) => (
        <div key={label} style={{ display: 'contents' }}>
          <dt className="muted">{label}</dt>
          <dd style={{ margin: 0, minWidth: 0 }} data-testid={testId}>
            {value}
          </dd>
        </div>
      ))}
    </dl>
  )
}

export function Journal(props: { me: Me }) {
  const { t, lang, formatNumber, formatDateTime, formatDate } = useI18n()
  const tenantId = props.me.tenant.id

  const [head, setHead] = useState<Head | null>(() => {
    const saved = loadSavedHead(tenantId)
    return saved === null ? null : { sth: saved, previous: null }
  })
  const [signing, setSigning] = useState(false)
  const [signError, setSignError] = useState<ApiError | null>(null)
  const [signature, setSignature] = useState<SignatureState>({ kind: 'checking' })
  const [consistency, setConsistency] = useState<ConsistencyState>({ kind: 'checking' })

  const [transferId, setTransferId] = useState('')
  const [lookup, setLookup] = useState<Lookup>({ kind: 'idle' })
  const [proof, setProof] = useState<Proof>({ kind: 'none' })

  const sth = head?.sth ?? null
  const previous = head?.previous ?? null

  const signHead = async () => {
    setSigning(true)
    setSignError(null)
    try {
      const signed = await journalApi.signTreeHead()
      saveHead(tenantId, signed)
      setHead((current) => ({ sth: signed, previous: current?.sth ?? null }))
    } catch (caught) {
      setSignError(asApiError(caught))
    } finally {
      setSigning(false)
    }
  }

  // Verify the head's signature with the public key its key id names.
  useEffect(() => {
    if (sth === null) return
    const controller = new AbortController()
    setSignature({ kind: 'checking' })
    void (async () => {
      try {
        const keys = await journalApi.signingKeys(controller.signal)
        const key = keys.keys.find((candidate) => candidate.keyId === sth.keyId)
        const result = key === undefined ? 'unknown_key' : await verifyTreeHeadSignature(sth, key.publicKeyPem)
        if (!controller.signal.aborted) setSignature({ kind: 'done', result })
      } catch (caught) {
        if (!controller.signal.aborted) setSignature({ kind: 'error', error: asApiError(caught) })
      }
    })()
    return () => controller.abort()
  }, [sth])

  // A new head signed after another in this tab: check that it extends the previous one.
  useEffect(() => {
    if (sth === null || previous === null) return
    const controller = new AbortController()
    setConsistency({ kind: 'checking' })
    void (async () => {
      try {
        const first = { firstSize: previous.treeSize, secondSize: sth.treeSize, firstRoot: previous.rootHash, secondRoot: sth.rootHash }
        const needsProof = previous.treeSize > 0 && previous.treeSize < sth.treeSize
        const proofHashes = needsProof ? (await journalApi.consistency(previous.treeSize, sth.treeSize, controller.signal)).proof : []
        // Checked against the two signed roots, not the roots the proof service answers with.
        const verified = await verifyConsistency({ ...first, proof: proofHashes })
        if (!controller.signal.aborted) setConsistency({ kind: 'done', verified })
      } catch (caught) {
        if (!controller.signal.aborted) setConsistency({ kind: 'error', error: asApiError(caught) })
      }
    })()
    return () => controller.abort()
  }, [sth, previous])

  // The looked-up transfer's inclusion in the signed tree, verified against the signed root.
  const transfer = lookup.kind === 'loaded' ? lookup.transfer : null
  useEffect(() => {
    if (transfer === null) return setProof({ kind: 'none' })
    if (sth === null) return setProof({ kind: 'noHead' })
    const index = Number(transfer.journalIndex)
    if (index >= sth.treeSize) return setProof({ kind: 'newer', index })
    const controller = new AbortController()
    setProof({ kind: 'checking' })
    void (async () => {
      try {
        const response = await journalApi.inclusion(index, sth.treeSize, controller.signal)
        const check = await verifyInclusion({ leafIndex: index, treeSize: sth.treeSize, leafHash: transfer.leafHash, proof: response.proof, rootHash: sth.rootHash })
        if (!controller.signal.aborted) setProof({ kind: 'done', response, check })
      } catch (caught) {
        if (!controller.signal.aborted) setProof({ kind: 'error', error: asApiError(caught) })
      }
    })()
    return () => controller.abort()
  }, [transfer, sth])

  const lookUp = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const id = transferId.trim()
    if (!uuidPattern.test(id)) return setLookup({ kind: 'invalid' })
    setLookup({ kind: 'loading' })
    try {
      setLookup({ kind: 'loaded', transfer: await journalApi.transfer(id.toLowerCase()) })
    } catch (caught) {
      setLookup({ kind: 'error', error: asApiError(caught) })
    }
  }

  const signButton = (primary: boolean) => (
    <button type="button" className={`button ${primary ? 'button-primary' : 'button-ghost'}`} onClick={() => void signHead()} disabled={signing}>
      {signing ? t('journal.head.signing') : t('journal.head.sign')}
    </button>
  )

  return (
    <section data-testid="journal">
      <PageHeader title={t('journal.title')} subtitle={t('journal.subtitle')} />
      <p className="notice notice-info" style={{ display: 'block' }}>
        {t('journal.proves')}
      </p>

      <section className="card" style={cardStyle} aria-labelledby="journal-head-title" data-testid="tree-head">
        <div style={cardHead}>
          <h2 id="journal-head-title">{t('journal.head.title')}</h2>
          {signButton(true)}
        </div>
        {signError !== null && <ErrorNotice error={signError} />}
        {sth === null ? (
          <p className="muted" style={{ margin: 0 }}>
            {t('journal.head.none')}
          </p>
        ) : (
          <>
            <div style={{ marginBottom: 14 }}>
              <SignatureBadge state={signature} />
            </div>
            <Fields
              rows={[
                [t('journal.head.treeSize'), t('journal.head.entries', { n: formatNumber(sth.treeSize) }), 'sth-tree-size'],
                [t('journal.head.time'), formatDateTime(new Date(sth.timestamp).toISOString())],
                [t('journal.head.rootHash'), <span className="mono" style={hashStyle}>{sth.rootHash}</span>, 'sth-root-hash'],
                [t('journal.head.keyId'), <span className="mono">{sth.keyId}</span>],
                [t('journal.head.signature'), <span className="mono" style={hashStyle}>{sth.signature}</span>],
              ]}
            />
            <p className="muted small" style={{ margin: '12px 0 0' }}>
              {t('journal.head.keyHint')}
            </p>
            {previous !== null && <ConsistencyLine state={consistency} from={previous.treeSize} />}
          </>
        )}
      </section>

      <section className="card" style={cardStyle} aria-labelledby="journal-lookup-title" data-testid="transfer-lookup">
        <h2 id="journal-lookup-title" style={{ marginBottom: 14 }}>
          {t('journal.lookup.title')}
        </h2>
        <form onSubmit={(event) => void lookUp(event)} style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'flex-end', gap: 12 }}>
          <div className="field" style={{ flex: '1 1 360px' }}>
            <label htmlFor="journal-transfer-id">{t('journal.lookup.id')}</label>
            <input
              id="journal-transfer-id"
              name="transferId"
              className="mono"
              value={transferId}
              onChange={(event) => setTransferId(event.target.value)}
              required
              spellCheck={false}
              autoCapitalize="none"
              autoComplete="off"
              placeholder="0196a1b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"
            />
          </div>
          <button type="submit" className="button button-primary" disabled={lookup.kind === 'loading'} style={{ height: 40 }}>
            {lookup.kind === 'loading' ? t('journal.lookup.busy') : t('journal.lookup.submit')}
          </button>
        </form>
        <div style={{ marginTop: 16 }}>
          {lookup.kind === 'invalid' && (
            <div className="notice notice-error" role="alert">
              {t('journal.lookup.invalidId')}
            </div>
          )}
          {lookup.kind === 'error' && <ErrorNotice error={lookup.error} />}
          {lookup.kind === 'loading' && <Loading />}
          {transfer !== null && (
            <div data-testid="transfer">
              <Fields
                rows={[
                  [t('journal.transfer.amount'), <strong>{formatAmount(transfer.amountMinor, transfer.currency, lang)}</strong>, 'transfer-amount'],
                  [t('journal.transfer.debit'), <span className="mono">{transfer.debitAccountId}</span>],
                  [t('journal.transfer.credit'), <span className="mono">{transfer.creditAccountId}</span>],
                  [t('journal.transfer.kind'), t(`journal.kind.${transfer.kind}`)],
                  [t('journal.transfer.valueDate'), formatDate(transfer.valueDate)],
                  [t('journal.transfer.postedAt'), formatDateTime(transfer.postedAt)],
                  [t('journal.transfer.index'), <span className="mono">{transfer.journalIndex}</span>, 'transfer-index'],
                  [t('journal.transfer.leafHash'), <span className="mono" style={hashStyle}>{transfer.leafHash}</span>],
                ]}
              />
              <ProofPanel proof={proof} transfer={transfer} sth={sth} signature={signature} signButton={signButton(false)} />
            </div>
          )}
        </div>
      </section>
    </section>
  )
}

function SignatureBadge(props: { state: SignatureState }) {
  const { t } = useI18n()
  const { state } = props
  if (state.kind === 'error') return <ErrorNotice error={state.error} />
  if (state.kind === 'checking') return <span className="badge badge-soon">{t('journal.sig.checking')}</span>
  const ok = state.result === 'verified'
  return (
    <span className="badge" style={ok ? undefined : badStyle} data-testid="sth-signature" data-verified={ok}>
      {ok ? '✓ ' : '✗ '}
      {t(`journal.sig.${state.result}`)}
    </span>
  )
}

function ConsistencyLine(props: { state: ConsistencyState; from: number }) {
  const { t } = useI18n()
  const { state, from } = props
  if (state.kind === 'error') return <ErrorNotice error={state.error} />
  const text = state.kind === 'checking' ? t('journal.cons.checking', { from }) : t(state.verified ? 'journal.cons.verified' : 'journal.cons.failed', { from })
  const style = state.kind === 'done' ? (state.verified ? okStyle : badStyle) : undefined
  return (
    <p className="notice" style={{ ...style, margin: '14px 0 0' }} data-testid="sth-consistency">
      {text}
    </p>
  )
}

function ProofPanel(props: { proof: Proof; transfer: Transfer; sth: SignedTreeHead | null; signature: SignatureState; signButton: ReactNode }) {
  const { t } = useI18n()
  const { proof, sth } = props
  let body: ReactNode
  switch (proof.kind) {
    case 'none':
      return null
    case 'noHead':
      body = (
        <div className="notice notice-info">
          <span>{t('journal.proof.noHead')}</span>
          {props.signButton}
        </div>
      )
      break
    case 'newer':
      body = (
        <div className="notice notice-info" data-testid="proof-newer">
          <span>{t('journal.proof.newer', { index: proof.index, size: sth?.treeSize ?? 0 })}</span>
          {props.signButton}
        </div>
      )
      break
    case 'checking':
      body = <Loading label={t('journal.proof.checking')} />
      break
    case 'error':
      body = <ErrorNotice error={proof.error} />
      break
    case 'done': {
      const { check, response } = proof
      const signedRoot = sth?.rootHash ?? ''
      body = (
        <>
          <div className="notice" role="status" style={check.verified ? okStyle : badStyle} data-testid="inclusion-verdict" data-verified={check.verified}>
            <strong>
              {check.verified
                ? `✓ ${t('journal.proof.verified', { index: props.transfer.journalIndex, size: response.treeSize })}`
                : `✗ ${t('journal.proof.failed', { reason: t(`journal.fail.${check.failure ?? 'root_mismatch'}`) })}`}
            </strong>
          </div>
          {check.verified && !(props.signature.kind === 'done' && props.signature.result === 'verified') && <div className="notice notice-error">{t('journal.proof.unsignedHead')}</div>}
          {response.leafHash !== props.transfer.leafHash && <div className="notice notice-error">{t('journal.proof.leafMismatch', { leaf: response.leafHash })}</div>}
          <p className="muted small" style={{ margin: '0 0 10px' }}>
            {check.steps.length === 0 ? t('journal.proof.empty') : t('journal.step.how')}
          </p>
          {check.steps.length > 0 && (
            <div className="card card-flush" style={{ marginBottom: 14 }}>
              <div className="table-wrap">
                <table className="table" data-testid="proof-steps">
                  <thead>
                    <tr>
                      <th scope="col">{t('journal.step.step')}</th>
                      <th scope="col">{t('journal.step.level')}</th>
                      <th scope="col">{t('journal.step.side')}</th>
                      <th scope="col">{t('journal.step.sibling')}</th>
                      <th scope="col">{t('journal.step.result')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {check.steps.map((step) => (
                      <tr key={step.step}>
                        <td>{step.step}</td>
                        <td>{step.level}</td>
                        <td className="nowrap">{t(`journal.step.${step.side}`)}</td>
                        <td className="mono" style={hashStyle}>
                          {step.sibling}
                        </td>
                        <td className="mono" style={hashStyle}>
                          {step.result}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
          <Fields
            rows={[
              [t('journal.proof.computedRoot'), <span className="mono" style={{ ...hashStyle, color: check.verified ? 'var(--primary-strong)' : 'var(--danger)' }}>{check.computedRoot ?? '—'}</span>, 'computed-root'],
              [t('journal.proof.signedRoot'), <span className="mono" style={hashStyle}>{signedRoot}</span>],
            ]}
          />
        </>
      )
      break
    }
  }
  return (
    <section style={{ marginTop: 20, paddingTop: 16, borderTop: '1px solid var(--line)' }} aria-labelledby="journal-proof-title" data-testid="inclusion">
      <h2 id="journal-proof-title" style={{ marginBottom: 12 }}>
        {t('journal.proof.title')}
      </h2>
      {body}
    </section>
  )
}
