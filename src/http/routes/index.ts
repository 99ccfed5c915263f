/**
 * @module http/routes
 * Every route of the API, registered in one place.
 */
import type { App, AppDeps } from '../app.ts'
import { registerAccessRoutes } from './access.ts'
import { registerCreditRoutes } from './credit.ts'
import { registerDecisionRoutes } from './decisions.ts'
import { registerEnterpriseRoutes } from './enterprises.ts'
import { registerLedgerRoutes } from './ledger.ts'
import { registerLoanRoutes } from './loans.ts'
import { registerModelRoutes } from './models.ts'
import { registerPortfolioRoutes } from './portfolio.ts'
import { registerScheduleRoutes } from './schedules.ts'
import { registerSystemRoutes } from './system.ts'

export async function registerRoutes(app: App, deps: AppDeps): Promise<void> {
  registerSystemRoutes(app, deps)
  registerAccessRoutes(app, deps)
  registerEnterpriseRoutes(app, deps)
  registerScheduleRoutes(app)
  registerLedgerRoutes(app, deps)
  registerCreditRoutes(app, deps)
  registerModelRoutes(app, deps)
  registerLoanRoutes(app, deps)
  registerDecisionRoutes(app, deps, deps.rail === undefined ? {} : { rail: deps.rail })
  registerPortfolioRoutes(app, deps)
}
