import { decodeSignedAnnouncement, verifyAnnouncementSignature, type SignedAnnouncement } from '../announcement.js'
import { verifyEthBinding } from '../../identity/binding.js'
import { ANNOUNCEMENT_LIMITS, MAX_ANNOUNCEMENT_TTL_MS, MAX_CLOCK_SKEW_MS } from '../constants.js'
import { AnnouncementError } from '../errors.js'
import { GossipAction, GossipValidationError, type AnnouncementValidationCode } from './errors.js'
import type { PerPeerRateLimiter } from './rate-limiter.js'

export interface AnnouncementValidationDeps {
  now: () => number
  /** highest sequence number accepted so far from this peer */
  lastSeq: (peerId: string) => number | undefined
  rateLimiter: PerPeerRateLimiter
  /** remembers (peerId, ethAddress, binding) triples already verified: recovering secp256k1 is the costly step */
  verifiedBindings: Set<string>
  /** whether any address can be dialled by this node; omitted, every address is taken */
  dialable?: (addresses: readonly string[]) => boolean
}

/** A message as the validator sees it: `from` is the gossip signer (the origin), not the relaying peer. */
export interface AnnouncementMessage {
  from: string | undefined
  data: Uint8Array
}

function ignore (code: AnnouncementValidationCode, message: string): never {
  throw new GossipValidationError(GossipAction.IGNORE, code, message)
}

function reject (code: AnnouncementValidationCode, message: string): never {
  throw new GossipValidationError(GossipAction.REJECT, code, message)
}

const PARSE_CODES: Record<AnnouncementError['code'], AnnouncementValidationCode> = {
  ANNOUNCEMENT_ERROR_MALFORMED: 'ANNOUNCEMENT_INVALID_MALFORMED',
  ANNOUNCEMENT_ERROR_OVERSIZED: 'ANNOUNCEMENT_INVALID_OVERSIZED',
  ANNOUNCEMENT_ERROR_VERSION: 'ANNOUNCEMENT_INVALID_VERSION',
  ANNOUNCEMENT_ERROR_MISSING_SIGNATURE: 'ANNOUNCEMENT_INVALID_MISSING_SIGNATURE'
}

/**
 * Validates an announcement received on gossip (or over /shoal/info, with `from` the
 * peer queried). Throws `GossipValidationError` with the action and code; returns the
 * parsed announcement when every rule passes. Does not record the sequence number: the
 * caller does that once the message is accepted.
 */
export async function validateAnnouncement (deps: AnnouncementValidationDeps, message: AnnouncementMessage): Promise<SignedAnnouncement> {
  // [REJECT] messages must carry a gossip signature (StrictSign normally drops these first)
  if (message.from === undefined) reject('ANNOUNCEMENT_INVALID_MISSING_SIGNATURE', 'message has no signer')
  // [REJECT] a peer over its announcement rate is flooding
  if (!deps.rateLimiter.take(message.from, deps.now())) reject('ANNOUNCEMENT_INVALID_RATE_LIMITED', `peer ${message.from} exceeds the announcement rate`)
  // [REJECT] size bound before any parsing
  if (message.data.length > ANNOUNCEMENT_LIMITS.maxBytes) reject('ANNOUNCEMENT_INVALID_OVERSIZED', `announcement of ${message.data.length} bytes`)
  let signed: SignedAnnouncement
  try {
    signed = decodeSignedAnnouncement(message.data)
  } catch (err) {
    if (err instanceof AnnouncementError) reject(PARSE_CODES[err.code], err.message)
    throw err
  }
  const a = signed.announcement
  // [REJECT] an announcement speaks only for the peer that signed the gossip message
  if (a.peerId !== message.from) reject('ANNOUNCEMENT_INVALID_SIGNER_MISMATCH', `announcement for ${a.peerId} signed by ${message.from}`)
  // [IGNORE] an offer nobody can dial is not worth verifying, storing or relaying (a
  // withdrawal needs no address); not penalised, a misconfigured node is not an attacker
  if (!a.withdrawn && deps.dialable !== undefined && !deps.dialable(a.addresses)) ignore('ANNOUNCEMENT_IGNORED_UNDIALABLE', `announcement of ${a.peerId} has no dialable address`)
  // [REJECT] the body signature must verify under the announced peer id's key
  if (!await verifyAnnouncementSignature(signed)) reject('ANNOUNCEMENT_INVALID_BAD_SIGNATURE', `bad signature on announcement of ${a.peerId}`)
  const now = deps.now()
  // [REJECT] expired or far-future announcements are never useful and suggest replay or a broken clock
  if (a.expiresAt <= now) reject('ANNOUNCEMENT_INVALID_EXPIRED', `announcement of ${a.peerId} expired ${now - a.expiresAt} ms ago`)
  if (a.timestamp > now + MAX_CLOCK_SKEW_MS) reject('ANNOUNCEMENT_INVALID_FUTURE_TIMESTAMP', `announcement of ${a.peerId} is ${a.timestamp - now} ms in the future`)
  if (a.expiresAt - a.timestamp > MAX_ANNOUNCEMENT_TTL_MS) reject('ANNOUNCEMENT_INVALID_TTL_TOO_LONG', `announcement of ${a.peerId} lives ${a.expiresAt - a.timestamp} ms`)
  // [REJECT] sequence numbers strictly increase per peer: anything else is a replay
  const last = deps.lastSeq(a.peerId)
  if (last !== undefined && a.seq <= last) reject('ANNOUNCEMENT_INVALID_SEQ_REPLAYED', `seq ${a.seq} of ${a.peerId} is not above ${last}`)
  // [REJECT] the Ethereum address must be bound to this peer id by the Ethereum key
  const bindingKey = `${a.peerId}|${a.ethAddress}|${a.ethBinding}`
  if (!deps.verifiedBindings.has(bindingKey)) {
    if (!verifyEthBinding(a.peerId, a.ethAddress, a.ethBinding)) reject('ANNOUNCEMENT_INVALID_BAD_ETH_BINDING', `Ethereum binding of ${a.peerId} does not verify`)
    deps.verifiedBindings.add(bindingKey)
    if (deps.verifiedBindings.size > 10_000) deps.verifiedBindings.clear()
  }
  return signed
}
