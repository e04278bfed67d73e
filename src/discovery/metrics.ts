import { Counter, Gauge, type Registry } from 'prom-client'

/** Discovery metrics. Labels are bounded: results, validation codes and sources, never peer ids. */
export function createDiscoveryMetrics (register: Registry) {
  return {
    announcementsValidated: new Counter({
      name: 'shoal_discovery_announcements_validated_total',
      help: 'Announcements received and validated, by result and rule code',
      labelNames: ['result', 'code'] as const,
      registers: [register]
    }),
    announcementsPublished: new Counter({
      name: 'shoal_discovery_announcements_published_total',
      help: 'Announcements this node signed and published',
      registers: [register]
    }),
    directoryEntries: new Gauge({
      name: 'shoal_discovery_directory_entries',
      help: 'Orchestrators currently in the directory',
      registers: [register]
    }),
    directoryRemovals: new Counter({
      name: 'shoal_discovery_directory_removals_total',
      help: 'Orchestrators removed from the directory, by reason (expired, withdrawn, evicted)',
      labelNames: ['reason'] as const,
      registers: [register]
    }),
    directoryRefusals: new Counter({
      name: 'shoal_discovery_directory_refusals_total',
      help: 'Announcements the directory did not take, by reason (stale, undialable, cap_total, cap_host)',
      labelNames: ['reason'] as const,
      registers: [register]
    }),
    directoryUnreachable: new Counter({
      name: 'shoal_discovery_unreachable_total',
      help: 'Times an orchestrator left the candidates as unreachable (connection closed, ping missed, dial failed)',
      registers: [register]
    }),
    dhtLookups: new Counter({
      name: 'shoal_discovery_dht_lookups_total',
      help: 'DHT capability lookups, by result',
      labelNames: ['result'] as const,
      registers: [register]
    }),
    infoQueries: new Counter({
      name: 'shoal_discovery_info_queries_total',
      help: '/shoal/info queries made, by result',
      labelNames: ['result'] as const,
      registers: [register]
    })
  }
}

export type DiscoveryMetrics = ReturnType<typeof createDiscoveryMetrics>
