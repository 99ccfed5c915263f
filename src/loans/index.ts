/**
 * @module loans
 * Public surface of the loans module. Other modules (flows, http, cli) import only from here.
 */
export { buildSchedule, buildPeriods } from './schedule.ts'
export type { Period, Schedule, ScheduleRow, ScheduleTotals } from './schedule.ts'
export { parseScheduleSpec, parseScheduleSpecJson } from './schedule-spec.ts'
export type {
  Amortization, Compat, DaysInMonth, DaysInYear, InterestMethod, InterestPeriod, RepaymentUnit, ScheduleSpec,
  ScheduleSpecResult,
} from './schedule-spec.ts'
export { formatScheduleJson, scheduleToJson } from './schedule-json.ts'
export type { ScheduleJson, ScheduleRowJson } from './schedule-json.ts'
export {
  addComponents, assertLoanState, components, isLoanRepaid, loanFromSchedule, loanStatuses, measureInstallmentOutstanding,
  measureLoanOutstanding, measurePrincipalOutstanding, recordRecovery, subtractComponents, sumComponents, transitionLoan,
  waiveCharges, writeOffLoan, zeroComponents,
} from './loan-state.ts'
export type {
  Component, ComponentsMinor, InstallmentState, LoanEvent, LoanState, LoanStatus, LoanTerms, LoanTransition,
  LoanTransitionStatus, Recovery, Waiver, WaiverStatus, WriteOff,
} from './loan-state.ts'
export {
  accrueInterestOverDays, accrueLoanInterest, computeDailyInterest, defaultAccrualOptions, findCurrentInstallment,
  measureAccruingBalance, measureRecognisedInterest, measureYearDays, roundWithCarry, zeroCounter,
} from './accrual.ts'
export type { AccrualCounter, AccrualOptions, LoanAccrual } from './accrual.ts'
export {
  allocatePayment, defaultAllocationOrder, installmentOrders, measureAllocatable, nonAccrualAllocationOrder,
} from './waterfall.ts'
export type {
  AllocationOrder, InstallmentAllocation, InstallmentOrder, PaymentAllocation, PaymentAllocationStatus,
} from './waterfall.ts'
export {
  bucketOfDpd, classifyLoan, classifyTier, defaultDelinquencyRules, defaultProvisionRatesPct, defaultTierThresholds,
  delinquencyBuckets, isNonPerforming, measureDpd, measureInstallmentDpd, measurePortfolio, measureProvision, tierOfDpd,
  tiers, worseTier,
} from './delinquency.ts'
export type {
  Delinquency, DelinquencyBucket, DelinquencyRules, PortfolioRatios, ProvisionRatesPct, Tier, TierThresholds,
} from './delinquency.ts'
export { chargePenalties, computeLateFee, defaultPenaltyRules } from './penalty.ts'
export type { InstallmentCharge, PenaltyCharge, PenaltyRules } from './penalty.ts'
export {
  applyPrepayment, closeLoanDay, defaultServicingRules, prepaymentModes, projectLoan, quotePayoff,
} from './payoff.ts'
export type {
  LoanDay, PayoffQuote, Prepayment, PrepaymentMode, PrepaymentOptions, PrepaymentStatus, ServicingRules,
} from './payoff.ts'
export {
  accrueLineInterest, drawOnLine, findOverdueDraws, measureAvailable, measureDrawnPrincipal, measureInterestOwed,
  measureLineDpd, openRevolvingLine, repayLine, revolvingLineStatuses,
} from './revolving.ts'
export type {
  Draw, DrawResult, DrawStatus, LineAccrual, LineRepayment, RevolvingLine, RevolvingLineStatus, RevolvingTerms,
} from './revolving.ts'
export {
  findProduct, toProduct, type ProductRow, listLoans, listProducts, loadLoan, loanTransactionKinds, penaltyRulesToJson, productGlCodes, provisionRatesToJson, rulesOfProduct,
  specFromJson, specToJson, tenantGlCodes,
} from './loan-db.ts'
export type { GlCode, LoanListItem, LoanProduct, LoanRecord, LoanTransaction, LoanTransactionKind, ScheduleTemplate } from './loan-db.ts'
export {
  closeLoanDayForLoan, createProduct, disburseLoan, measureRecognisedInterestOf, measureSubledgerBalances, originateLoan, postingCodes,
  prepayLoan, quoteLoanPayoff, readLoanDetail, readLoanTransactions, recordLoanRecovery, refundOverpayment, repayLoan, rescheduleLoan, waiveLoanCharges, writeOffLoanBalance,
} from './loan-service.ts'
export type {
  CloseLoanDay, CreateProductResult, Event as LoanEventResult, LoanAccountBalance, LoanDetail, LoanPosting, LoanPayoffQuote, OriginationInput, Origination,
  PostingCode, PrepaymentInput, ProductInput, RepaymentInput, RescheduleInput, ServicingContext, SubledgerBalances, WaiverInput,
} from './loan-service.ts'
export { aprDecimals, irrIterationsMax, measureApr, solveIrr } from './apr.ts'
export type { AprInput, CashFlow } from './apr.ts'
export { postDisbursement, reserveDisbursement, voidDisbursement } from './two-phase-disbursement.ts'
export type { DisbursementPosted, DisbursementReservation, DisbursementVoided } from './two-phase-disbursement.ts'
export { runCloseOfBusiness } from './cob.ts'
export type { CobDay, CobDeps, CobResult } from './cob.ts'
export { portfolioRatioDecimals, readPortfolioSummary, vintageCohortsMax } from './portfolio.ts'
export type { ApplicationMonth, PortfolioGroup, PortfolioSummary, Vintage, VintagePoint } from './portfolio.ts'
export { rescheduleLoanState } from './reschedule.ts'
export type { Rescheduled, RescheduleStatus, RescheduleTerms } from './reschedule.ts'
