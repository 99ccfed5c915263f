/**
 * @module flows
 * Operations that span modules, each one transaction (CONVENTIONS: flows assemble cross-module inputs
 * and hand them to the modules' cores).
 */
export * from './score-enterprise.ts'
