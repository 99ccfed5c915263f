/**
 * @module http/metrics
 * Prometheus metrics at /metrics: request counts and latencies by route, plus process metrics. One
 * registry per app, so tests can build several apps in one process.
 */
import type { App } from './app.ts'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics(app: App): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'puhui_' })
  const requests = new Counter({ name: 'puhui_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] })
  const duration = new Histogram({
    name: 'puhui_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ method: request.method, route, status: String(reply.statusCode) })
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
  return registry
}
