import { PROTOCOL_PREFIX } from '../../p2p/constants.js'
import { ANNOUNCEMENT_LIMITS } from '../../discovery/constants.js'

export const INFO_PROTOCOL_NAME = 'info'
/** 2.0.0: the response is a protobuf SignedAnnouncement (announcements version 3). The only place the id is defined. */
export const INFO_PROTOCOL_VERSION = '2.0.0'
export const INFO_PROTOCOL = `${PROTOCOL_PREFIX}/${INFO_PROTOCOL_NAME}/${INFO_PROTOCOL_VERSION}`

/** The response is one length-prefixed signed announcement, never larger than gossip allows. */
export const INFO_MAX_RESPONSE_BYTES = ANNOUNCEMENT_LIMITS.maxBytes + 16
export const INFO_DEFAULT_TIMEOUT_MS = 5_000
export const INFO_MAX_INBOUND_STREAMS = 32
export const INFO_MAX_OUTBOUND_STREAMS = 64
