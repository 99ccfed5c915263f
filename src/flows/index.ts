/**
 * @module flows
 * Operations that span modules, each one transaction (CONVENTIONS: flows assemble cross-module inputs
 * and hand them to the modules' cores).
 */
export * from './score-enterprise.ts'
export * from './apply.ts'
export * from './accept-offer.ts'
export * from './payout-rail.ts'
export * from './credit-line.ts'
export * from './review.ts'
