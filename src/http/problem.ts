/**
 * @module http/problem
 * Every error code the HTTP API can answer with, its HTTP status, and what it means and how to resolve
 * it: the one table. Bodies are RFC 9457 `application/problem+json` with our stable `code`.
 * `docs/errors.md` is generated from this table (`node scripts/gen-errors-doc.ts`) and a test keeps
 * the two equal. Adding a code without its status, meaning and resolution fails to compile.
 */
import { Type, type Static } from 'typebox'

type Entry = { status: number; title: string; meaning: string; resolve: string }

export const problemCatalog = {
  malformed_json: { status: 400, title: 'Malformed JSON', meaning: 'The request body is not valid JSON (or is empty where JSON is required).', resolve: 'Send a well-formed JSON document with `Content-Type: application/json`.' },
  unknown_field: { status: 400, title: 'Unknown field', meaning: 'The body or query names a field the route does not define; nothing was changed.', resolve: 'Remove the field; `errors[].path` names it. Check the OpenAPI document at /openapi.json.' },
  missing_field: { status: 400, title: 'Missing field', meaning: 'A required field is absent.', resolve: 'Add the field named in `errors[].path`.' },
  wrong_type: { status: 400, title: 'Wrong type', meaning: 'A field has the wrong JSON type (e.g. a number where a string is required; amounts are strings).', resolve: 'Send the type the schema names; `errors[]` lists each field.' },
  invalid_field: { status: 400, title: 'Invalid field', meaning: 'A field has the right type but an invalid value (pattern, range, enumeration, format).', resolve: 'Correct the value described in `errors[].message`.' },
  invalid_schedule_spec: { status: 400, title: 'Invalid schedule specification', meaning: 'A loan schedule specification is inconsistent or out of range.', resolve: 'Fix the field named in `errors[].path`; see docs/schedules.md.' },
  idempotency_key_invalid: { status: 400, title: 'Invalid Idempotency-Key', meaning: 'The Idempotency-Key header is empty, longer than 255 characters or not printable ASCII.', resolve: 'Send a unique printable key per logical operation, e.g. a UUID.' },
  unauthenticated: { status: 401, title: 'Not authenticated', meaning: 'No valid credential: no API key (`Authorization: Bearer …`) and no session cookie, or one that is unknown.', resolve: 'Send a valid API key, or log in through POST /v1/auth/login.' },
  invalid_credentials: { status: 401, title: 'Invalid credentials', meaning: 'The tenant, email or password is wrong, or the user is disabled.', resolve: 'Check the tenant slug, email and password.' },
  api_key_revoked: { status: 401, title: 'API key revoked', meaning: 'The API key was revoked by an administrator.', resolve: 'Ask an administrator of the tenant for a new key.' },
  session_expired: { status: 401, title: 'Session expired', meaning: 'The console session is older than its lifetime.', resolve: 'Log in again.' },
  forbidden: { status: 403, title: 'Forbidden', meaning: 'The caller is authenticated but its role may not use this route.', resolve: 'Use a key or user with one of the roles listed in `detail` (see the route in /docs).' },
  csrf_token_invalid: { status: 403, title: 'CSRF token missing or invalid', meaning: 'A state-changing request authenticated by the session cookie lacked the `X-CSRF-Token` header of that session.', resolve: 'Send the `csrfToken` returned by login (or GET /v1/me) in the `X-CSRF-Token` header.' },
  consent_required: { status: 403, title: 'Consent required', meaning: 'No active consent of the enterprise covers this data for this purpose (none given, expired or revoked).', resolve: 'Ask the enterprise to grant a consent for the purpose and data (POST /v1/enterprises/{id}/consents).' },
  approver_must_differ_from_author: { status: 403, title: 'Approver must differ from the author', meaning: 'Maker-checker: whoever wrote a strategy version cannot approve it.', resolve: 'Ask another admin or risk analyst to approve it.' },
  approver_must_differ_from_submitter: { status: 403, title: 'Approver must differ from the submitter', meaning: 'Maker-checker: whoever submitted a strategy version cannot approve it.', resolve: 'Ask another admin or risk analyst to approve it.' },
  not_found: { status: 404, title: 'Not found', meaning: 'No such resource in your tenant (resources of other tenants, or outside your scope, are reported the same way).', resolve: 'Check the id; list the collection to find it.' },
  route_not_found: { status: 404, title: 'Route not found', meaning: 'No route matches this method and path.', resolve: 'See /openapi.json or /docs for the routes.' },
  request_timeout: { status: 408, title: 'Request timeout', meaning: 'The request body did not arrive in time.', resolve: 'Retry; send the body promptly.' },
  idempotency_request_in_flight: { status: 409, title: 'Request with this Idempotency-Key in progress', meaning: 'A request with the same Idempotency-Key is still being processed.', resolve: 'Wait and retry with the same key: you will get its stored response.' },
  tenant_slug_taken: { status: 409, title: 'Tenant slug taken', meaning: 'Another tenant already uses this slug.', resolve: 'Choose another slug.' },
  email_taken: { status: 409, title: 'Email taken', meaning: 'A user of this tenant already has this email.', resolve: 'Use another email, or update the existing user.' },
  uscc_taken: { status: 409, title: 'Credit code already registered', meaning: 'An enterprise of this tenant already has this unified social credit code.', resolve: 'Use the existing enterprise.' },
  action_not_allowed_in_status: { status: 409, title: 'Action not allowed in this status', meaning: 'The governance action does not apply to the strategy version\'s status (e.g. approving a draft, activating an unapproved version).', resolve: 'Follow draft → submit → approve → activate; see docs/strategies.md.' },
  offer_not_open: { status: 409, title: 'Offer not open', meaning: 'The offer can no longer be accepted (its payout failed, or it expired).', resolve: 'Apply again for a new decision and offer.' },
  body_too_large: { status: 413, title: 'Body too large', meaning: 'The request body exceeds the route limit (1 MiB; 4 MiB for batch routes).', resolve: 'Send smaller bodies or split the batch.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', meaning: 'The Content-Type is not one the route accepts.', resolve: 'Send `Content-Type: application/json`.' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key reused', meaning: 'The Idempotency-Key was already used with a different request (method, path or body).', resolve: 'Use a new key for a new operation; reuse a key only to retry the identical request.' },
  consent_expiry_invalid: { status: 422, title: 'Consent expiry invalid', meaning: 'A consent must expire after it is granted.', resolve: 'Give an expiry in the future.' },
  model_artefact_invalid: { status: 422, title: 'Model artefact invalid', meaning: 'The artefact is not a scorecard this build can read (format, version or content).', resolve: 'Register the MODEL.json written by `puhui model train`; `detail` says what is wrong.' },
  no_champion_model: { status: 422, title: 'No champion model', meaning: 'The model name has no champion version to score with.', resolve: 'Register a model and make a version champion (POST /v1/models/{id}/status).' },
  loan_disbursement_pending: { status: 409, title: 'Disbursement pending', meaning: 'A payout of this loan through the payout rail is reserved and not yet settled (possibly with an unknown outcome): paying it out directly could pay twice.', resolve: 'Wait for the payout to settle, or reconcile payouts (POST /v1/payouts/reconcile).' },
  model_retired: { status: 422, title: 'Model retired', meaning: 'A retired model version no longer scores.', resolve: 'Use the champion or a challenger of the model name.' },
  password_too_short: { status: 422, title: 'Password too short', meaning: 'Passwords have at least 10 characters.', resolve: 'Choose a longer password.' },
  enterprise_required: { status: 422, title: 'Enterprise required', meaning: 'Borrower users and keys must be bound to an enterprise.', resolve: 'Pass `enterpriseId` of an enterprise of this tenant.' },
  enterprise_not_found: { status: 422, title: 'Enterprise not found', meaning: 'The `enterpriseId` in the body names no enterprise of this tenant.', resolve: 'Create the enterprise first, or correct the id.' },
  uscc_invalid: { status: 422, title: 'Invalid unified social credit code', meaning: 'The 18-character code fails its GB 32100 check character or alphabet.', resolve: 'Check the code against the business licence.' },
  invalid_product: { status: 422, title: 'Invalid loan product', meaning: 'The product settings are inconsistent (bounds inverted, thresholds not increasing, an allocation order that does not name each component once, or schedule settings that make no valid schedule).', resolve: 'Fix the setting named in `detail`; see docs/servicing.md.' },
  product_not_found: { status: 422, title: 'Product not found', meaning: 'The `productId` in the body names no loan product of this tenant.', resolve: 'List products with GET /v1/loan-products, or create one.' },
  principal_out_of_range: { status: 422, title: 'Principal out of range', meaning: "The principal is outside the product's minimum and maximum.", resolve: "Ask for an amount within the product's limits." },
  term_out_of_range: { status: 422, title: 'Term out of range', meaning: "The number of installments is outside the product's minimum and maximum.", resolve: "Choose a term within the product's limits." },
  rate_above_cap: { status: 422, title: 'Rate above the cap', meaning: "The annual rate exceeds the product's configured cap.", resolve: 'Price at or below the cap (GET /v1/loan-products shows it).' },
  loan_not_approved: { status: 422, title: 'Loan not approved', meaning: 'Only an approved loan can be disbursed (this one is already active, closed or written off).', resolve: 'Check the loan status; a loan is disbursed once.' },
  loan_not_active: { status: 422, title: 'Loan not active', meaning: 'The operation needs an active (disbursed, not closed or written off) loan.', resolve: 'Check the loan status; disburse it first, or use a recovery for a written-off loan.' },
  loan_not_written_off: { status: 422, title: 'Loan not written off', meaning: 'Recoveries are recorded only on written-off loans.', resolve: 'Record a repayment instead.' },
  amount_must_be_positive: { status: 422, title: 'Amount must be positive', meaning: 'The amount is zero (or, for a refund without an amount, the wallet is empty).', resolve: 'Send a positive amount in minor units.' },
  value_date_in_future: { status: 422, title: 'Value date in the future', meaning: "The value date (or the loan's disbursement date) is after the tenant's business date.", resolve: 'Use a value date on or before the business date.' },
  value_date_before_last_close: { status: 422, title: 'Value date before the last closed day', meaning: 'The value date falls on or before a day already closed for this loan; re-running closed days for a back-dated event is not supported yet.', resolve: 'Use a value date after the loan\'s `accruedThroughOn`.' },
  quote_date_before_last_close: { status: 422, title: 'Quote date before the last closed day', meaning: 'A pay-off quote is for a day after the last closed day of the loan.', resolve: 'Ask for a date after the loan\'s `accruedThroughOn`.' },
  principal_cannot_be_waived: { status: 422, title: 'Principal cannot be waived', meaning: 'Principal leaves the books by write-off or restructuring, not by waiver.', resolve: 'Waive interest, fees or penalties; write the loan off to charge principal to the allowance.' },
  installment_not_found: { status: 422, title: 'Installment not found', meaning: 'The loan has no installment with this number.', resolve: 'Use an installment number `n` from the loan detail.' },
  exceeds_outstanding: { status: 422, title: 'Exceeds outstanding', meaning: 'More than is owed on that installment and component (interest: more than has been accrued or fallen due).', resolve: 'Waive at most the outstanding amount shown in the loan detail.' },
  exceeds_overpayment: { status: 422, title: 'Exceeds overpayment', meaning: "A refund larger than the borrower's wallet (overpayment) balance.", resolve: 'Refund at most `overpaymentMinor`.' },
  strategy_invalid: { status: 422, title: 'Strategy document invalid', meaning: 'The strategy document fails validation; `errors[]` lists every error with its JSON path and reason.', resolve: 'Fix each path named in `errors[]`; see docs/strategies.md.' },
  rejection_requires_note: { status: 422, title: 'Rejection requires a note', meaning: 'Rejecting a submitted strategy version tells its author why.', resolve: 'Send `note` with the rejection.' },
  no_active_strategy: { status: 422, title: 'No active strategy', meaning: 'The strategy name has no active version to decide applications with.', resolve: 'Create, submit, approve (by another user) and activate a version (POST /v1/strategies).' },
  application_not_referred: { status: 409, title: 'Application not referred', meaning: 'Only applications the engine referred to a person are reviewed; this one was approved or declined by the strategy (or is a credit line re-evaluation).', resolve: 'Review applications from GET /v1/applications?outcome=referred&reviewed=false.' },
  application_already_reviewed: { status: 409, title: 'Application already reviewed', meaning: 'A person has already approved or declined this referred application; a review is final.', resolve: 'Read the review on GET /v1/applications/:id; apply again for a new decision.' },
  prepayment_does_not_exceed_amount_due: { status: 422, title: 'Prepayment does not exceed what is due', meaning: 'The amount pays only what is due (overdue and due today) and the interest accrued so far; nothing would prepay principal.', resolve: 'Send it as a repayment (POST /v1/loans/:id/repayments), or prepay more.' },
  prepayment_mode_not_supported: { status: 422, title: 'Prepayment mode not supported', meaning: '`reduce_term` keeps the installment and shortens the loan; it needs equal installments or equal principal amortization.', resolve: 'Use `reduce_installment` for this loan.' },
  nothing_to_reschedule: { status: 409, title: 'Nothing to reschedule', meaning: 'The loan has no principal left to spread over a new schedule.', resolve: 'Collect the remaining charges as repayments.' },
  reschedule_after_advance_charges: { status: 422, title: 'Advance charges paid', meaning: 'Interest, fees or penalties were paid ahead on an installment the rescheduling would replace; their meaning under a new schedule would be a guess.', resolve: 'Reschedule from a date after those installments fall due, or refund the advance payment first.' },
  invalid_reschedule_terms: { status: 422, title: 'Invalid rescheduling terms', meaning: 'The new terms cannot make a schedule (installments 1–600, grace on principal shorter than the schedule, first due date after the value date).', resolve: 'Correct the field named in `detail`.' },
  value_date_before_disbursement: { status: 422, title: 'Value date before disbursement', meaning: 'A payment cannot count for a day before the loan was disbursed.', resolve: 'Use a value date on or after `disbursedOn`.' },
  value_date_rerun_not_supported: { status: 409, title: 'Back-dated re-run not supported', meaning: 'A payment valued on a closed day re-runs the loan from that date; this loan has an event the re-run cannot replay (a waiver, write-off, recovery, refund or rescheduling).', resolve: 'Record the payment with the business date as value date, or ask an operator to adjust it; `detail` names the event.' },
  loan_history_not_replayable: { status: 409, title: 'Loan history not replayable', meaning: 'Replaying the recorded history did not reproduce the stored loan, so a back-dated re-run cannot be trusted; nothing was changed.', resolve: 'Report it with the loan id and `requestId`; record the payment with the business date as value date meanwhile.' },
  backtest_csv_invalid: { status: 422, title: 'Backtest CSV invalid', meaning: "The CSV given to a backtest has values that do not read as the strategy's declared input types (or names a column it does not have).", resolve: 'Fix the cells listed in `errors[]` (row and column).' },
  review_terms_required: { status: 422, title: 'Review terms required', meaning: 'The strategy proposed no amount or rate for this referral, so an approval must set them.', resolve: 'Send `amountMinor` and `annualRatePct` with the approval.' },
  review_terms_invalid: { status: 422, title: 'Review terms cannot be offered', meaning: "The reviewer's terms fall outside the product (amount, term) or price above the product's or the strategy's cap (nominal rate, or APR with fees).", resolve: 'Lower the rate or change the amount; the detail names the failed check.' },
  credit_line_exists: { status: 409, title: 'Credit line exists', meaning: 'The enterprise already has an open credit line on this product; it is re-evaluated periodically rather than applied for again.', resolve: 'Draw on the existing line (POST /v1/credit-lines/:id/draws); the detail names it.' },
  credit_line_frozen: { status: 409, title: 'Credit line frozen', meaning: 'The last re-evaluation of the line declined it: no new draws until a later review unfreezes it.', resolve: 'Wait for the next review (or ask a risk analyst to run POST /v1/credit-lines/review); apply for a loan instead.' },
  credit_line_closed: { status: 409, title: 'Credit line closed', meaning: 'The credit line is closed.', resolve: 'Apply for a new line (POST /v1/applications with kind credit_line).' },
  credit_line_expired: { status: 409, title: 'Credit line expired', meaning: 'The line is past its expiry date (business date); it is renewed by an approving re-evaluation.', resolve: 'Ask a risk analyst to run the review (POST /v1/credit-lines/review).' },
  credit_line_insufficient: { status: 422, title: 'Not enough available on the line', meaning: 'The draw exceeds what is available: the limit less the principal outstanding of earlier draws.', resolve: 'Draw at most `availableMinor` (GET /v1/credit-lines/:id), or repay earlier draws first.' },
  term_not_allowed: { status: 422, title: 'Term not allowed', meaning: 'The credit line allows draws only for the terms listed in `termsAllowed`.', resolve: 'Choose one of the line’s `termsAllowed`.' },
  credit_line_past_due: { status: 409, title: 'Past due: no new draws', meaning: 'A loan of the enterprise is past due; a line is not drawn while anything is overdue.', resolve: 'Repay the overdue installments first.' },
  draw_outside_product: { status: 422, title: 'Draw outside the product', meaning: "The draw's amount or price falls outside what the line's product can book (minimum or maximum principal, APR with fees above the cap).", resolve: 'Change the amount; the detail names the failed check.' },
  offer_expired: { status: 422, title: 'Offer expired', meaning: 'The offer was accepted after its `expiresAt`.', resolve: 'Apply again for a new decision and offer.' },
  internal_error: { status: 500, title: 'Internal error', meaning: 'A bug or broken invariant; the request changed nothing that was not committed.', resolve: 'Report it with the `requestId`.' },
  database_unavailable: { status: 503, title: 'Database unavailable', meaning: 'PostgreSQL could not be reached or refused the connection.', resolve: 'Retry later; operators: check /ready and the database.' },
} as const satisfies Record<string, Entry>

export type ProblemCode = keyof typeof problemCatalog

export type FieldError = { path: string; code: string; message: string }

/** A problem to answer with: thrown by adapters (HTTP layer), returned by domain code as a status. */
export class Problem extends Error {
  override name = 'Problem'
  readonly code: ProblemCode
  readonly detail: string | undefined
  readonly errors: FieldError[] | undefined
  constructor(code: ProblemCode, detail?: string, errors?: FieldError[]) {
    super(detail ?? problemCatalog[code].title)
    this.code = code
    this.detail = detail
    this.errors = errors
  }
  get statusCode(): number {
    return problemCatalog[this.code].status
  }
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), code: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details with a stable machine-readable `code` (docs/errors.md).' },
)
export type ProblemBody = Static<typeof ProblemSchema>

export function problemBody(problem: Problem, instance: string, requestId: string): ProblemBody {
  const entry = problemCatalog[problem.code]
  return {
    type: `https://puhui.dev/errors#${problem.code}`,
    title: entry.title,
    status: entry.status,
    code: problem.code,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    instance,
    requestId,
    ...(problem.errors === undefined ? {} : { errors: problem.errors }),
  }
}

export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error the HTTP API returns is an RFC 9457 `application/problem+json` body with a stable `code`:',
    '',
    '```json',
    '{"type":"https://puhui.dev/errors#forbidden","title":"Forbidden","status":403,"code":"forbidden","detail":"…","instance":"/v1/users","requestId":"…"}',
    '```',
    '',
    'Validation errors add `errors: [{path, code, message}]`, one per field. Nothing is changed by a request that',
    'answers 4xx, except that a completed request with an `Idempotency-Key` stores its answer for replay.',
    'This file is generated from `src/http/problem.ts` by `node scripts/gen-errors-doc.ts`.',
    '',
    '| code | HTTP | meaning | how to resolve |',
    '| --- | --- | --- | --- |',
  ]
  for (const [code, entry] of Object.entries(problemCatalog)) {
    lines.push(`| \`${code}\` | ${entry.status} | ${entry.meaning} | ${entry.resolve} |`)
  }
  return `${lines.join('\n')}\n`
}
