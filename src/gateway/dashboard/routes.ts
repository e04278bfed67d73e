import type { AddRoute } from '../http/server.js'
import { DASHBOARD_HTML } from './page.js'
import type { DashboardSource } from './snapshot.js'

/** JSON that tolerates bigints (wei) by writing them as decimal strings. */
function toJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => typeof v === 'bigint' ? v.toString() : v)
}

/**
 * `GET /dashboard` (one static page, no external resource) and `GET /dashboard/data`
 * (the JSON it polls). Without the API key, like `/metrics` and `/network/orchestrators`:
 * it shows the same kind of operational state, and no request's inputs.
 */
export function registerDashboardRoutes (add: AddRoute, source: DashboardSource): void {
  add('GET', '/dashboard', { operationId: 'dashboard', auth: false }, async (_request, reply) => {
    return await reply.type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      // the page loads nothing from elsewhere; its own script and style are inline
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
      .send(DASHBOARD_HTML)
  })
  add('GET', '/dashboard/data', { operationId: 'dashboardData', auth: false }, async (_request, reply) => {
    return await reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(toJson(await source()))
  })
}
