/**
 * Signed job receipts: an orchestrator's signed account of one job, which anyone can
 * check against its peer id alone (an Ed25519 peer id holds its public key).
 *
 * Both sides compute the same two hashes without trusting each other: the gateway over
 * the job it sent and the bytes it received, the orchestrator over the job it received
 * and the bytes it sent. A receipt whose hashes differ from the gateway's own is refused.
 */
import { createHash } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { PeerKeyError, signWithPeerKey, verifyByPeerId } from '../../identity/peer-signatures.js'
import type { InferenceJob, JobInput } from '../../kernel/job.js'
import { inputParts } from '../../kernel/job.js'
import { isModelId } from '../../kernel/identifiers.js'
import { ReceiptError } from './errors.js'
import * as pb from './pb/receipt.js'

export const RECEIPT_VERSION = 1
/** signatures cover this prefix and the body: a receipt signature is never valid as anything else */
const RECEIPT_DOMAIN = new TextEncoder().encode('shoal-receipt/1\n')
const HASH_BYTES = 32
/** bounds checked on decode, so a peer's receipt costs bounded memory and work */
export const RECEIPT_LIMITS = { maxBytes: 2048, maxStringLength: 256, signatureBytes: 64 } as const
const UINT256_MAX = (1n << 256n) - 1n

type Bytes = Uint8Array<ArrayBuffer>

/** What an orchestrator attests about one job. */
export interface ReceiptFacts {
  orchestrator: string
  gateway: string
  requestId: string
  pipeline: string
  modelId: string
  /** SHA-256 of the job as `inputHash` computes it (32 bytes) */
  inputHash: Bytes
  /** SHA-256 of the result body (32 bytes) */
  resultHash: Bytes
  status: number
  contentType: string
  resultBytes: number
  units: number
  /** decimal wei per `pixelsPerUnit` units; '0' when the job was not priced */
  pricePerUnit: string
  pixelsPerUnit: string
  /** decimal wei actually charged */
  chargedWei: string
  /** epoch ms: the job header arrived / the Final left */
  startedAt: number
  finishedAt: number
}

/** A receipt that verified, with the bytes it came in (kept as evidence). */
export interface Receipt extends ReceiptFacts {
  version: number
  signed: Bytes
}

function lengthPrefixed (hash: ReturnType<typeof createHash>, bytes: Uint8Array): void {
  const n = Buffer.alloc(8)
  n.writeBigUInt64BE(BigInt(bytes.byteLength))
  hash.update(n)
  hash.update(bytes)
}

/**
 * SHA-256 of a job as both sides see it: pipeline, model, the params as JSON, then each
 * input's field, file name, content type and bytes, every part length-prefixed.
 * `JSON.stringify` of the params is the wire form (codec.ts), so both sides agree.
 */
export function inputHash (job: Pick<InferenceJob, 'pipeline' | 'modelId' | 'params' | 'inputs'>): Bytes {
  const hasher = new InputHasher(job)
  for (const input of job.inputs) {
    hasher.input(input)
    for (const part of inputParts(input.data)) hasher.update(part)
  }
  return hasher.digest()
}

/**
 * `inputHash` as the input goes past: the job's fields first, then each input's head
 * (`input`) and bytes (`update`) in order. A streamed input is hashed as it is sent.
 */
export class InputHasher {
  private readonly hash = createHash('sha256')

  constructor (job: Pick<InferenceJob, 'pipeline' | 'modelId' | 'params'>) {
    this.text(job.pipeline)
    this.text(job.modelId)
    this.text(JSON.stringify(job.params))
  }

  private text (s: string): void {
    lengthPrefixed(this.hash, Buffer.from(s, 'utf8'))
  }

  input (input: Pick<JobInput, 'field' | 'filename' | 'contentType' | 'data'>): void {
    this.text(input.field)
    this.text(input.filename)
    this.text(input.contentType)
    const n = Buffer.alloc(8)
    n.writeBigUInt64BE(BigInt(input.data.byteLength))
    this.hash.update(n)
  }

  update (bytes: Uint8Array): void {
    this.hash.update(bytes)
  }

  digest (): Bytes {
    return new Uint8Array(this.hash.digest())
  }
}

/** SHA-256 over a result body as it streams past. */
export class ResultHasher {
  private readonly hash = createHash('sha256')
  bytes = 0

  update (chunk: Uint8Array): void {
    this.hash.update(chunk)
    this.bytes += chunk.byteLength
  }

  digest (): Bytes {
    return new Uint8Array(this.hash.digest())
  }
}

/** Encodes and signs a receipt with the orchestrator's libp2p key; returns the SignedReceipt bytes. */
export async function signReceipt (facts: ReceiptFacts, key: PrivateKey): Promise<Bytes> {
  const body = pb.ReceiptBody.encode({ version: RECEIPT_VERSION, ...facts })
  const signature = new Uint8Array(await signWithPeerKey(key, concat(RECEIPT_DOMAIN, body)))
  return pb.SignedReceipt.encode({ body, signature })
}

export interface VerifyReceiptOptions {
  /** the peer id that must have signed it (else: the one the receipt names) */
  orchestrator?: string
  /** fields that must equal what the verifier saw */
  expect?: Partial<Pick<ReceiptFacts, 'gateway' | 'requestId' | 'pipeline' | 'modelId' | 'inputHash' | 'resultHash' | 'status' | 'resultBytes' | 'units'>>
}

/**
 * Decodes, checks and verifies a SignedReceipt; throws `ReceiptError` (MALFORMED,
 * WRONG_SIGNER, BAD_SIGNATURE, MISMATCH). Works offline: the key is in the peer id.
 */
export async function verifyReceipt (signed: Bytes, options: VerifyReceiptOptions = {}): Promise<Receipt> {
  const { receipt, body, signature } = decodeSigned(signed)
  if (options.orchestrator !== undefined && receipt.orchestrator !== options.orchestrator) {
    throw new ReceiptError('RECEIPT_ERROR_WRONG_SIGNER', `receipt names orchestrator ${receipt.orchestrator}, expected ${options.orchestrator}`)
  }
  let valid: boolean
  try {
    valid = await verifyByPeerId(receipt.orchestrator, concat(RECEIPT_DOMAIN, body), signature)
  } catch (err) {
    if (!(err instanceof PeerKeyError)) throw err
    if (err.code === 'PEER_KEY_ERROR_NOT_A_PEER_ID') throw new ReceiptError('RECEIPT_ERROR_MALFORMED', 'receipt names an orchestrator that is not a peer id')
    throw new ReceiptError('RECEIPT_ERROR_WRONG_SIGNER', 'the orchestrator\'s peer id does not hold its public key (not Ed25519 or secp256k1)')
  }
  if (!valid) throw new ReceiptError('RECEIPT_ERROR_BAD_SIGNATURE', `receipt signature does not verify for ${receipt.orchestrator}`)
  for (const [name, want] of Object.entries(options.expect ?? {})) {
    if (want === undefined) continue
    const got = receipt[name as keyof ReceiptFacts]
    const same = want instanceof Uint8Array ? got instanceof Uint8Array && Buffer.from(got).equals(want) : got === want
    if (!same) throw new ReceiptError('RECEIPT_ERROR_MISMATCH', `receipt ${name} differs from what was seen`, { field: name })
  }
  return receipt
}

/** Strict decode without the signature check (which needs `verifyReceipt`). */
export function decodeReceipt (signed: Bytes): Receipt {
  return decodeSigned(signed).receipt
}

/** The checked receipt with the body and signature it came in (decoded once). */
function decodeSigned (signed: Bytes): { receipt: Receipt, body: Uint8Array, signature: Uint8Array } {
  if (signed.byteLength > RECEIPT_LIMITS.maxBytes) throw malformed(`receipt of ${signed.byteLength} bytes exceeds ${RECEIPT_LIMITS.maxBytes}`)
  let outer, m
  try {
    outer = pb.SignedReceipt.decode(signed)
    m = pb.ReceiptBody.decode(outer.body)
  } catch (err) {
    throw malformed(`not a signed receipt: ${(err as Error).message}`)
  }
  if (outer.signature.byteLength !== RECEIPT_LIMITS.signatureBytes) throw malformed('signature must be 64 bytes')
  if (m.version !== RECEIPT_VERSION) throw malformed(`unknown receipt version ${m.version}`)
  for (const name of ['orchestrator', 'gateway', 'requestId', 'pipeline', 'contentType'] as const) {
    if (m[name].length > RECEIPT_LIMITS.maxStringLength) throw malformed(`${name} too long`)
  }
  if (m.orchestrator === '' || m.requestId === '' || m.pipeline === '') throw malformed('orchestrator, requestId and pipeline are required')
  if (!isModelId(m.modelId)) throw malformed('modelId is not a model id')
  if (m.inputHash.byteLength !== HASH_BYTES || m.resultHash.byteLength !== HASH_BYTES) throw malformed('hashes must be 32 bytes')
  if (m.status < 100 || m.status > 599) throw malformed('status out of range')
  if (!Number.isFinite(m.units) || m.units < 0) throw malformed('units must be a non-negative number')
  for (const name of ['pricePerUnit', 'pixelsPerUnit', 'chargedWei'] as const) {
    if (!/^(0|[1-9][0-9]{0,77})$/.test(m[name]) || BigInt(m[name]) > UINT256_MAX) throw malformed(`${name} must be a decimal uint256`)
  }
  if (m.finishedAt < m.startedAt) throw malformed('finishedAt before startedAt')
  return { receipt: { ...m, signed }, body: outer.body, signature: outer.signature }
}

/** The compact form for an HTTP header: the SignedReceipt bytes in base64url (about 400 characters). */
export function receiptHeaderValue (signed: Uint8Array): string {
  return Buffer.from(signed).toString('base64url')
}

export function receiptFromHeaderValue (value: string): Bytes {
  const trimmed = value.trim()
  if (!/^[A-Za-z0-9_-]+$/.test(trimmed) || trimmed.length > Math.ceil(RECEIPT_LIMITS.maxBytes * 4 / 3)) throw malformed('not a base64url receipt')
  return new Uint8Array(Buffer.from(trimmed, 'base64url'))
}

/** A receipt as JSON (hashes in hex), for the CLI, logs and the gateway's endpoint. */
export function receiptJson (r: Receipt): Record<string, string | number> {
  return {
    version: r.version,
    orchestrator: r.orchestrator,
    gateway: r.gateway,
    requestId: r.requestId,
    pipeline: r.pipeline,
    modelId: r.modelId,
    inputHash: Buffer.from(r.inputHash).toString('hex'),
    resultHash: Buffer.from(r.resultHash).toString('hex'),
    status: r.status,
    contentType: r.contentType,
    resultBytes: r.resultBytes,
    units: r.units,
    pricePerUnit: r.pricePerUnit,
    pixelsPerUnit: r.pixelsPerUnit,
    chargedWei: r.chargedWei,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    receipt: receiptHeaderValue(r.signed)
  }
}

function malformed (message: string): ReceiptError {
  return new ReceiptError('RECEIPT_ERROR_MALFORMED', message)
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}
