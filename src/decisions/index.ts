/**
 * @module decisions
 * Public surface of the decision engine's pure core: the typed rule language, strategy documents,
 * their compilation and `decide` (with a full trace), the governance state machine (maker-checker)
 * and backtesting — all pure — plus `strategy-db.ts`, the shell that persists strategy versions under that
 * state machine (migration 0010). The flow that assembles inputs and stores decisions is flows/apply.ts.
 * Reference: docs/strategies.md.
 */
export {
  compileAst, compileExpression, createSchema, daysBetween, expressionDepthMax, expressionFunctions, expressionLengthMax, formatExpressionError,
  interpretExpression, isIsoDate, isValidInputName, isValueOfType, keywords, monthsBetween, parseExpression, roundDigitsMax, roundHalfAwayFromZero, valueTypes,
} from './expression.ts'
export type {
  CompiledExpression, CompileExpressionResult, Evaluate, ExpressionError, ExpressionNode, ExpressionSchema, ExpressionType, InputDeclaration,
  ParseExpressionResult, Slots, Value, ValueType,
} from './expression.ts'
export {
  featurePrefix, onNullChoices, parseStrategyJson, priceBandsMax, reasonTextLengthMax, ruleCodeLengthMax, scoreInput, strategyInputsMax, strategyRulesMax,
  validateStrategyDocument,
} from './strategy.ts'
export type {
  InputDocument, InputTypeText, OnMissingInput, OnNull, PriceBandDocument, ReasonText, RuleDocument, StrategyDefinition, StrategyDocument, StrategyError,
  ValidateStrategyResult,
} from './strategy.ts'
export {
  compileStrategy, convertMajorToMinor, convertMinorToMajor, createInputLayout, decide, decideCompact, decideValues, expandDecision, expandTrace, interpretStrategy,
  roundDownToStep, ruleOutcome, systemReasons, validateDecisionInput,
} from './compile.ts'
export type {
  CompactDecision, CompiledStrategy, CompileStrategyResult, Decision, InputLayout, DecisionInput, DecisionOutcome, DecisionReason, SystemReasonCode, TraceEntry, TraceResult, TraceStep,
} from './compile.ts'
export { createStrategyVersion, isStrategyEditable, planActivation, strategyTransitions, transitionStrategy } from './governance.ts'
export type { ActivationResult, StrategyAction, StrategyActor, StrategyEvent, StrategyStatus, StrategyVersion, TransitionResult, TransitionStatus } from './governance.ts'
export { decisionInputOf, featureCatalogue, generateApplication, generateStrategy, generatorBusinessDate, seededRandom } from './generator.ts'
export type { FeatureSpec, GeneratedApplication, GenerateStrategyOptions } from './generator.ts'
export { backtestReasonsMax, backtestStrategy, readBacktestCsv, unsegmented } from './backtest.ts'
export type { BacktestCsvOptions, BacktestReport, BacktestRow, CsvTableLike, ReadBacktestCsvResult, ReasonCount, SegmentReport } from './backtest.ts'
export { activeVersionSql, compiledStrategyOf, compileStoredStrategy, createStrategyDraft, findStrategy, listStrategies, transitionStoredStrategy } from './strategy-db.ts'
export type { CreateStrategyResult, StoredStrategy, StrategyContext, StrategyTransition } from './strategy-db.ts'
/** The 310 working-capital strategy as shipped (docs/strategies.md): a starting document for tenants and the simulator. */
export { default as sme310StrategyDocument } from './sme-310.strategy.json' with { type: 'json' }
