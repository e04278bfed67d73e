import { createHmac } from 'node:crypto'
import { bytesToBigint, bytesToHex, writeHex, writeUint256 } from './hex.js'
import { recipientRandHash } from './ticket.js'

/**
 * Commit-reveal of recipientRand. The recipient keeps one secret and no per-params state:
 *
 *   recipientRand     = HMAC-SHA256(secret, seed ‖ sender ‖ recipient ‖ faceValue ‖ winProb ‖
 *                                   expirationBlock ‖ chainId ‖ broker)
 *   recipientRandHash = keccak256(recipientRand as a 32-byte word)
 *
 * The seed is random per params and travels in them, so the recipient recomputes
 * recipientRand from any ticket it receives. Because every other param is inside the
 * HMAC, a sender that alters faceValue, winProb or the expiration (or uses params issued
 * to another sender) gets a recipientRandHash mismatch.
 */
export interface RandInput {
  seed: string
  sender: string
  recipient: string
  faceValue: bigint
  winProb: bigint
  expirationBlock: bigint
  chainId: bigint
  broker: string
}

export interface RecipientRand {
  /** 32 fresh random bytes, 0x-hex */
  newSeed: () => string
  /** recipientRand for these params (a 256-bit integer) */
  rand: (input: RandInput) => bigint
  /** keccak256 commitment of `rand(input)` */
  randHash: (input: RandInput) => string
}

export interface RecipientRandInit {
  /**
   * HMAC key, at least 16 bytes. Keep it per process (the default is random): after a
   * restart old params stop validating, so losing tickets cannot be replayed against a
   * nonce set that was lost with the process. Winning tickets are stored with their
   * recipientRand and need no secret to redeem.
   */
  secret?: Uint8Array
  /** randomness source; default node:crypto */
  randomBytes: (length: number) => Uint8Array
}

const INPUT_LENGTH = 32 + 20 + 20 + 32 + 32 + 32 + 32 + 20

export function createRecipientRand (init: RecipientRandInit): RecipientRand {
  const secret = init.secret ?? init.randomBytes(32)
  if (secret.length < 16) throw new RangeError('recipientRand secret must be at least 16 bytes')
  const key = Buffer.from(secret)

  const rand = (input: RandInput): bigint => {
    const buf = new Uint8Array(INPUT_LENGTH)
    writeHex(buf, 0, input.seed, 32)
    writeHex(buf, 32, input.sender, 20)
    writeHex(buf, 52, input.recipient, 20)
    writeUint256(buf, 72, input.faceValue)
    writeUint256(buf, 104, input.winProb)
    writeUint256(buf, 136, input.expirationBlock)
    writeUint256(buf, 168, input.chainId)
    writeHex(buf, 200, input.broker, 20)
    return bytesToBigint(createHmac('sha256', key).update(buf).digest())
  }

  return {
    newSeed: () => bytesToHex(init.randomBytes(32)),
    rand,
    randHash: (input) => recipientRandHash(rand(input))
  }
}
