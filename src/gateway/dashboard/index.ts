export { createRecentRequests, type RecentRequest, type RecentRequests } from './recent.js'
export { registerDashboardRoutes } from './routes.js'
export type { DashboardConnection, DashboardLiveSession, DashboardModel, DashboardModelStats, DashboardOrchestrator, DashboardOrchestratorPayments, DashboardSnapshot, DashboardSource } from './snapshot.js'
