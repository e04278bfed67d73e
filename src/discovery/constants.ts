import { PROTOCOL_PREFIX } from '../p2p/constants.js'
import { MODEL_ID_MAX_LENGTH } from '../kernel/identifiers.js'

/** The gossipsub topic orchestrators announce on. The version is part of the name: a breaking change gets a new topic. */
export const ANNOUNCEMENT_VERSION = 3
export const ANNOUNCEMENT_TOPIC = `${PROTOCOL_PREFIX}/announcements/${ANNOUNCEMENT_VERSION}`

/*
 * Version of the announcement body schema. 2: `inUse` replaced by a coarse `load`, and
 * `withdrawn` added. 3: protobuf (pb/announcement.proto), the Ethereum address and
 * binding as bytes. Topic, version and signing domain change together, here only.
 */

/** Domain separation for the libp2p signature over the body, so it can never be replayed as another message. */
export const ANNOUNCEMENT_SIGNING_DOMAIN = `shoal-announcement-v${ANNOUNCEMENT_VERSION}:`

/** Bounds every field a peer sends. */
export const ANNOUNCEMENT_LIMITS = {
  maxBytes: 32 * 1024,
  maxAddresses: 16,
  maxAddressLength: 256,
  maxModels: 64,
  /** the shared model id rule (src/kernel/identifiers.ts) */
  maxModelIdLength: MODEL_ID_MAX_LENGTH,
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
/** Changes of what is offered (models, prices, warm, capacity, addresses) are coalesced within this window. */
export const DEFAULT_MIN_PUBLISH_INTERVAL_MS = 250
/**
 * A change of coarse load alone is published at most this often: load follows jobs, and
 * gossip must cost the same at 10 and at 1,000 jobs/s. Gateways learn live load on the
 * /shoal/ai connection, so this only steers gateways that have no connection yet.
 */
export const DEFAULT_MIN_LOAD_PUBLISH_INTERVAL_MS = 5_000
/**
 * Hysteresis of the coarse load: a model becomes 'saturated' when all its slots are in
 * use and 'available' again only once at most this share of them is.
 */
export const DEFAULT_LOAD_RELEASE_RATIO = 0.5
/** A coarse load is published only once it has held this long: flapping around saturation publishes nothing. */
export const DEFAULT_LOAD_SETTLE_MS = 2_000
/** How long a graceful stop waits for its withdrawal to go out. */
export const DEFAULT_WITHDRAW_TIMEOUT_MS = 2_000
/**
 * After a withdrawal is published the node lingers this long before its connections
 * close: gossipsub's publish resolves once the message is queued for each peer, and a
 * connection closed at once can drop it (seen in a loaded 20-node mesh).
 */
export const DEFAULT_WITHDRAW_LINGER_MS = 300
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

/**
 * Directory bounds, against made-up identities: in total, per source host (the IP or
 * DNS name of the announced addresses; a loopback or LAN mesh runs many orchestrators
 * behind one) and, for peers whose entries are gone, the remembered sequence numbers.
 */
export const DEFAULT_DIRECTORY_LIMITS = {
  maxEntries: 1_024,
  maxPerHost: 64,
  maxRememberedPeers: 20_000,
  /** orchestrators seen serving successfully, remembered beyond their entries */
  maxProvenPeers: 4_096
} as const

/** GET /network/orchestrators lists at most this many entries per page. */
export const DEFAULT_DIRECTORY_PAGE_SIZE = 256

/** Queries a gateway makes to peers as their connections open (see reachability.ts). */
export const DEFAULT_REACHABILITY = {
  maxConcurrentQueries: 8,
  maxQueuedQueries: 256,
  queryTimeoutMs: 5_000
} as const
