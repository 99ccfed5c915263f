/**
 * @module simulator
 * The simulated SME economy (issue 7): a pure core (seeded PRNG, population, monthly data and cash
 * behaviour, the training book, portfolio measures, the HTML report) and the driver that runs it through
 * the real decision engine, servicing and close of business. Reference: docs/simulator.md.
 */
export * from './prng.ts'
export * from './population.ts'
export * from './economy.ts'
export * from './history.ts'
export * from './metrics.ts'
export * from './report.ts'
export * from './driver.ts'
export * from './book.ts'
