import { PROTOCOL_PREFIX } from '../p2p/constants.js'

/** The gossipsub topic orchestrators announce on. The version is part of the name: a breaking change gets a new topic. */
export const ANNOUNCEMENT_TOPIC = `${PROTOCOL_PREFIX}/announcements/1`

/** Version of the announcement body schema. */
export const ANNOUNCEMENT_VERSION = 1

/** Domain separation for the libp2p signature over the body, so it can never be replayed as another message. */
export const ANNOUNCEMENT_SIGNING_DOMAIN = 'shoal-announcement-v1:'

/** Bounds every field a peer sends. */
export const ANNOUNCEMENT_LIMITS = {
  maxBytes: 32 * 1024,
  maxAddresses: 16,
  maxAddressLength: 256,
  maxModels: 64,
  maxModelIdLength: 128,
  maxRunnerVersionLength: 64,
  maxGpus: 16,
  maxStringLength: 128,
  /** a capacity beyond this is a typo or a lie */
  maxCapacity: 10_000,
  /** prices are decimal wei strings; 78 digits holds any uint256 */
  maxPriceDigits: 78
} as const

/** How long an announcement is valid by default; republished well before it expires. */
export const DEFAULT_ANNOUNCEMENT_TTL_MS = 30_000
export const DEFAULT_REPUBLISH_INTERVAL_MS = 10_000
/** Slot changes are coalesced so a busy orchestrator does not flood the topic. */
export const DEFAULT_MIN_PUBLISH_INTERVAL_MS = 250
/** DHT provider records follow a changed announcement after this delay (gossip first). */
export const DEFAULT_PROVIDE_DELAY_MS = 2_000
/** Clocks drift: a timestamp up to this far in the future is tolerated. */
export const MAX_CLOCK_SKEW_MS = 30_000
/** Nobody may announce for longer than this: stale entries must age out. */
export const MAX_ANNOUNCEMENT_TTL_MS = 10 * 60_000

/** Per origin peer: a token bucket of this burst, refilled at this rate. */
export const DEFAULT_ANNOUNCEMENT_RATE = { burst: 20, perSecond: 10 } as const

/** How often the directory drops expired entries. */
export const DEFAULT_DIRECTORY_SWEEP_MS = 1_000
