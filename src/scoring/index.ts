/**
 * @module scoring
 * Public surface of the scoring module: CSV reading for model data, binning and WoE, variable
 * selection, logistic regression, the points scorecard with reason codes and its JSON artefact,
 * metrics (AUC, KS, Gini, Brier, calibration, PSI/CSI), seeded cross-validation, and the gradient
 * boosting challenger. Everything here is pure: callers do the file reading and hashing.
 */
export { detectColumns, formatCsv, isNumberText, missingTokens, parseCsv } from './csv.ts'
export type { Column, CsvTable } from './csv.ts'
export { binColumn, defaultBinningOptions, describeBin, fineCuts, makeAssigner, mergeOptimally } from './binning.ts'
export type { Bin, Binning, BinningOptions, Monotonic } from './binning.ts'
export { computeWoe, woeCap } from './woe.ts'
export { defaultSelectionOptions, pearson, selectVariables } from './selection.ts'
export type { SelectionOptions, SelectionReason, SelectionResult } from './selection.ts'
export { columnMoments, defaultLogisticOptions, fitLogistic, predictLogit, predictProbability, sigmoid, solveCholesky, standardise } from './logistic.ts'
export type { Design, LogisticModel, LogisticOptions } from './logistic.ts'
export {
  artefactFormat, artefactFormatVersion, buildArtefact, compileScorecard, defaultScaling, defaultScorecardOptions, evaluateScorecard,
  oddsAtScore, parseArtefact, predictColumns, probabilityAtScore, scaleConstants, scoreRow, targetFromColumn, trainScorecard,
} from './scorecard.ts'
export type { CompiledScorecard, ModelMetrics, Reason, Scaling, Scorecard, ScorecardArtefact, ScorecardOptions, ScorecardVariable, ScoreResult, TrainingData } from './scorecard.ts'
export { auc, brier, calibrationTable, csi, gini, ks, midRanks, psi, scoreDistribution, scorePsi, summarise } from './metrics.ts'
export type { CalibrationRow, ScoreBand } from './metrics.ts'
export { crossValidate, meanAndSd, mulberry32, shuffleInPlace, splitFold, stratifiedFolds, stratifiedSplit } from './cv.ts'
export { defaultGbmOptions, predictGbm, trainGbm } from './gbm.ts'
export type { GbmModel, GbmOptions } from './gbm.ts'
export { assignBins, monitorScorecard, psiShift, psiWatch, stabilityOf } from './monitoring.ts'
export type { MonitoringReport, ScoredObservation, Stability } from './monitoring.ts'
export { findChampion, findModel, listModels, modelStatuses, monitorModel, registerModel, scoreWith, scoreWithDeferredStore, scoreWithModel, setModelStatus, type ModelSelector } from './model-registry.ts'
export type { ModelStatus, ModelSummary, RegistryDeps } from './model-registry.ts'
