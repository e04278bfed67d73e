import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { getAddress, getBytes, hexlify } from 'ethers'
import { isPipelineName, type PipelineName, PIPELINE_UNIT } from '../kernel/pipelines.js'
import { ANNOUNCEMENT_LIMITS, ANNOUNCEMENT_SIGNING_DOMAIN, ANNOUNCEMENT_VERSION } from './constants.js'
import { AnnouncementError } from './errors.js'
import { isModelId } from '../kernel/identifiers.js'
import { modelKey, type ModelKey } from '../kernel/model-key.js'
import * as pb from './pb/announcement.js'
import { signWithPeerKey, verifyByPeerId } from '../identity/peer-signatures.js'

/**
 * A coarse load state, the only load that travels on gossip: it changes with hysteresis
 * and at a bounded rate (see the publisher), never with every job. Live free slots
 * travel on the /shoal/ai connection instead.
 */
export type OfferLoad = 'available' | 'saturated'

export const OFFER_LOADS: readonly OfferLoad[] = ['available', 'saturated']

/** What an orchestrator offers for one (pipeline, model). */
export interface ModelOffer {
  pipeline: PipelineName
  modelId: string
  warm: boolean
  /** total slots */
  capacity: number
  load: OfferLoad
  /** wei per `pixelsPerUnit` units, as a decimal string (uint256 range) */
  pricePerUnit: string
  pixelsPerUnit: string
  unit: string
  runnerVersion: string
  /** a custom capability's description (pipeline `custom` only) */
  description?: string
  /** a custom capability's price per request, wei on top of the units, a decimal string (pipeline `custom` only) */
  pricePerRequest?: string
  /** a custom capability that also serves stream sessions (pipeline `custom` only; absent: false) */
  streaming?: boolean
}

export interface HardwareSummary {
  cpus: number
  memoryBytes: number
  gpus: Array<{ name: string, memoryBytes: number }>
}

/** The signed body of an orchestrator announcement (version `ANNOUNCEMENT_VERSION`). */
export interface Announcement {
  version: typeof ANNOUNCEMENT_VERSION
  peerId: string
  addresses: string[]
  ethAddress: string
  /** EIP-191 signature by the Ethereum key over `bindingMessage(peerId, ethAddress)` */
  ethBinding: string
  /** strictly increasing per peer, across restarts */
  seq: number
  /** ms since epoch when signed */
  timestamp: number
  /** ms since epoch after which nobody may use it */
  expiresAt: number
  models: ModelOffer[]
  hardware: HardwareSummary
  /** a graceful stop: the peer serves nothing any more; directories drop it at once */
  withdrawn: boolean
  /**
   * the TicketBroker holding this orchestrator's bond for `ethAddress` (0x, lower case);
   * a claim only: gateways read the amount on chain, and only at the broker they use
   */
  bondBroker?: string
}

/** Body bytes plus the libp2p signature over them; what travels on gossip, /shoal/info and in tests. */
export interface SignedAnnouncement {
  announcement: Announcement
  /** the exact bytes signed (the protobuf Announcement, pb/announcement.proto) */
  body: Uint8Array
  signature: Uint8Array
}

const encoder = new TextEncoder()

function signingInput (body: Uint8Array): Uint8Array {
  const domain = encoder.encode(ANNOUNCEMENT_SIGNING_DOMAIN)
  const out = new Uint8Array(domain.length + body.length)
  out.set(domain, 0)
  out.set(body, domain.length)
  return out
}

export async function signAnnouncement (announcement: Announcement, key: PrivateKey): Promise<SignedAnnouncement> {
  const body = pb.Announcement.encode(announcementMessage(announcement))
  const signature = await signWithPeerKey(key, signingInput(body))
  return { announcement, body, signature }
}

/** Wire envelope (pb/announcement.proto SignedAnnouncement): the body stays the exact bytes that were signed. */
export function encodeSignedAnnouncement (signed: SignedAnnouncement): Uint8Array {
  return pb.SignedAnnouncement.encode({ body: new Uint8Array(signed.body), signature: new Uint8Array(signed.signature) })
}

/** Parses and schema-checks an envelope; does NOT verify the signature (see `verifyAnnouncementSignature`). */
export function decodeSignedAnnouncement (bytes: Uint8Array): SignedAnnouncement {
  if (bytes.length > ANNOUNCEMENT_LIMITS.maxBytes) {
    throw new AnnouncementError('ANNOUNCEMENT_ERROR_OVERSIZED', `announcement of ${bytes.length} bytes exceeds ${ANNOUNCEMENT_LIMITS.maxBytes}`)
  }
  let envelope: pb.SignedAnnouncement
  try {
    envelope = pb.SignedAnnouncement.decode(bytes)
  } catch {
    throw new AnnouncementError('ANNOUNCEMENT_ERROR_MALFORMED', 'announcement envelope is not a valid protobuf message')
  }
  const { body, signature } = envelope
  if (signature.length === 0 || signature.length > 128 || body.length === 0) {
    throw new AnnouncementError('ANNOUNCEMENT_ERROR_MISSING_SIGNATURE', 'announcement has no valid signature section')
  }
  let message: pb.Announcement
  try {
    message = pb.Announcement.decode(body)
  } catch (err) {
    throw new AnnouncementError('ANNOUNCEMENT_ERROR_MALFORMED', `announcement body is not a valid protobuf message: ${(err as Error).message}`)
  }
  return { announcement: checkAnnouncement(message), body, signature }
}

export async function verifyAnnouncementSignature (signed: SignedAnnouncement): Promise<boolean> {
  try {
    return await verifyByPeerId(signed.announcement.peerId, signingInput(signed.body), signed.signature)
  } catch {
    return false
  }
}

// ---- schema ----

function fail (field: string, why: string): never {
  throw new AnnouncementError('ANNOUNCEMENT_ERROR_MALFORMED', `announcement field ${field} ${why}`)
}

function str (value: string, field: string, max: number = ANNOUNCEMENT_LIMITS.maxStringLength): string {
  if (value.length === 0 || value.length > max) fail(field, `must be 1..${max} characters`)
  return value
}

function int (value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) fail(field, `must be an integer in [${min}, ${max}]`)
  return value
}

function decimal (value: string, field: string): string {
  const s = str(value, field, ANNOUNCEMENT_LIMITS.maxPriceDigits)
  if (!/^(0|[1-9][0-9]*)$/.test(s)) fail(field, 'must be a non-negative decimal integer string')
  if (BigInt(s) >= 2n ** 256n) fail(field, 'must fit in uint256')
  return s
}

const LOAD_TO_WIRE: Record<OfferLoad, pb.OfferLoad> = { available: pb.OfferLoad.AVAILABLE, saturated: pb.OfferLoad.SATURATED }
const LOAD_FROM_WIRE = new Map<string, OfferLoad>([[pb.OfferLoad.AVAILABLE, 'available'], [pb.OfferLoad.SATURATED, 'saturated']])

/** The protobuf form of a body (ethAddress 20 bytes, ethBinding 65 bytes). */
export function announcementMessage (a: Announcement): pb.Announcement {
  return {
    ...a,
    ethAddress: getBytes(a.ethAddress) as Uint8Array<ArrayBuffer>,
    ethBinding: getBytes(a.ethBinding) as Uint8Array<ArrayBuffer>,
    models: a.models.map(m => ({ ...m, load: LOAD_TO_WIRE[m.load] })),
    bondBroker: a.bondBroker === undefined ? undefined : getBytes(a.bondBroker) as Uint8Array<ArrayBuffer>
  }
}

function checkOffer (o: pb.ModelOffer, index: number): ModelOffer {
  const f = (name: string): string => `models[${index}].${name}`
  const pipeline = o.pipeline
  if (!isPipelineName(pipeline)) fail(f('pipeline'), 'must be a known pipeline')
  const capacity = int(o.capacity, f('capacity'), 0, ANNOUNCEMENT_LIMITS.maxCapacity)
  const load = LOAD_FROM_WIRE.get(o.load)
  if (load === undefined) fail(f('load'), `must be one of ${OFFER_LOADS.join(', ')}`)
  const pixelsPerUnit = decimal(o.pixelsPerUnit, f('pixelsPerUnit'))
  if (pixelsPerUnit === '0') fail(f('pixelsPerUnit'), 'must be positive')
  const unit = str(o.unit, f('unit'), 32)
  if (unit !== PIPELINE_UNIT[pipeline]) fail(f('unit'), `must be ${PIPELINE_UNIT[pipeline]} for ${pipeline}`)
  if (!isModelId(o.modelId)) fail(f('modelId'), 'must be a model id (1..128 printable ASCII characters, no spaces)')
  if (o.description !== undefined && pipeline !== 'custom') fail(f('description'), 'is only for custom capabilities')
  if (o.pricePerRequest !== undefined && pipeline !== 'custom') fail(f('pricePerRequest'), 'is only for custom capabilities')
  if (o.streaming !== undefined && pipeline !== 'custom') fail(f('streaming'), 'is only for custom capabilities')
  return {
    ...(o.description === undefined ? {} : { description: str(o.description, f('description'), 256) }),
    ...(o.pricePerRequest === undefined ? {} : { pricePerRequest: decimal(o.pricePerRequest, f('pricePerRequest')) }),
    ...(o.streaming === true ? { streaming: true } : {}),
    pipeline,
    modelId: o.modelId,
    warm: o.warm,
    capacity,
    load,
    pricePerUnit: decimal(o.pricePerUnit, f('pricePerUnit')),
    pixelsPerUnit,
    unit,
    runnerVersion: str(o.runnerVersion, f('runnerVersion'), ANNOUNCEMENT_LIMITS.maxRunnerVersionLength)
  }
}

/** Strict check of an untrusted body, after protons decoded it (repeated fields already bounded). */
export function checkAnnouncement (o: pb.Announcement): Announcement {
  if (o.version !== ANNOUNCEMENT_VERSION) {
    throw new AnnouncementError('ANNOUNCEMENT_ERROR_VERSION', `unsupported announcement version ${String(o.version)}`)
  }
  const peerId = str(o.peerId, 'peerId')
  try { peerIdFromString(peerId) } catch { fail('peerId', 'is not a peer id') }
  const addresses = o.addresses.map((a, i) => {
    const s = str(a, `addresses[${i}]`, ANNOUNCEMENT_LIMITS.maxAddressLength)
    if (!s.startsWith('/')) fail(`addresses[${i}]`, 'must be a multiaddr')
    return s
  })
  if (o.ethAddress.length !== 20) fail('ethAddress', 'must be 20 bytes')
  if (o.ethBinding.length !== 65) fail('ethBinding', 'must be a 65-byte signature')
  if (o.bondBroker !== undefined && o.bondBroker.length !== 20) fail('bondBroker', 'must be 20 bytes')
  if (o.hardware === undefined) fail('hardware', 'is required')
  const hardware = o.hardware
  const models = o.models.map(checkOffer)
  if (o.withdrawn && models.length > 0) fail('models', 'must be empty in a withdrawal')
  const seen = new Set<ModelKey>()
  for (const m of models) {
    const key = modelKey(m)
    if (seen.has(key)) fail('models', `lists ${m.pipeline}/${m.modelId} twice`)
    seen.add(key)
  }
  const timestamp = int(o.timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER)
  const expiresAt = int(o.expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER)
  if (expiresAt <= timestamp) fail('expiresAt', 'must be after timestamp')
  return {
    version: ANNOUNCEMENT_VERSION,
    peerId,
    addresses,
    ethAddress: getAddress(hexlify(o.ethAddress)),
    ethBinding: hexlify(o.ethBinding),
    seq: int(o.seq, 'seq', 0, Number.MAX_SAFE_INTEGER),
    timestamp,
    expiresAt,
    models,
    hardware: {
      cpus: int(hardware.cpus, 'hardware.cpus', 0, 100_000),
      memoryBytes: int(hardware.memoryBytes, 'hardware.memoryBytes', 0, Number.MAX_SAFE_INTEGER),
      gpus: hardware.gpus.map((g, i) => ({ name: str(g.name, `hardware.gpus[${i}].name`), memoryBytes: int(g.memoryBytes, `hardware.gpus[${i}].memoryBytes`, 0, Number.MAX_SAFE_INTEGER) }))
    },
    withdrawn: o.withdrawn,
    ...(o.bondBroker !== undefined ? { bondBroker: hexlify(o.bondBroker).toLowerCase() } : {})
  }
}
