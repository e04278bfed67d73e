/**
 * bench/tickets: tickets signed and verified per second on one core, Shoal's hot path
 * (ticket hash with @noble/hashes keccak, libsecp256k1 via tiny-secp256k1) against
 * ethers 6 doing the same work (solidityPackedKeccak256 + Wallet.signMessageSync;
 * solidityPackedKeccak256 + hashMessage + recoverAddress), measured in the same run.
 * Also the full recipient path per ticket (validate: rand hash, hash, recover) and the
 * win check. Goals: >= 4,000 signed/s and >= 2,000 verified/s.
 *
 *   npx tsx bench/tickets/index.ts [seconds-per-measurement=2]
 */
import { Wallet, hashMessage, recoverAddress, solidityPackedKeccak256, getBytes } from 'ethers'
import { bytesToHex } from '../../src/payments/hex.js'
import { createSignatureVerifier, createTicketSigner } from '../../src/identity/ethereum.js'
import { isWinningTicket, MAX_WIN_PROB, recipientRandHash, ticketHash, type Ticket } from '../../src/payments/ticket.js'
import { createTicketValidator } from '../../src/payments/validator.js'

const seconds = Number(process.argv[2] ?? 2)

function rate (label: string, fn: (i: number) => void): number {
  // warm up (JIT, WASM instantiation)
  for (let i = 0; i < 200; i++) fn(i)
  const deadline = performance.now() + seconds * 1000
  const start = performance.now()
  let n = 0
  while (performance.now() < deadline) {
    for (let k = 0; k < 50; k++) fn(n++)
  }
  const perSec = n / ((performance.now() - start) / 1000)
  process.stdout.write(`  ${label.padEnd(52)} ${Math.round(perSec).toLocaleString('en-US').padStart(10)} /s\n`)
  return perSec
}

const wallet = Wallet.createRandom()
const signer = createTicketSigner(wallet.privateKey)
const verifier = createSignatureVerifier()
const validator = createTicketValidator({ verifier })
const domain = { chainId: 31337n, broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3' }
const rand = 0x1234567890abcdefn
const base: Ticket = {
  recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  sender: signer.address,
  faceValue: 10n ** 16n,
  winProb: MAX_WIN_PROB / 1000n,
  senderNonce: 0n,
  recipientRandHash: recipientRandHash(rand),
  expirationBlock: 1000n
}
const TYPES = ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'uint256', 'uint256', 'address']
const ethersHash = (t: Ticket): string => solidityPackedKeccak256(TYPES, [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.expirationBlock, domain.chainId, domain.broker])
const ticket = (i: number): Ticket => ({ ...base, senderNonce: BigInt(i) })

// pre-signed tickets for the verification runs
const POOL = 512
const pool = Array.from({ length: POOL }, (_, i) => {
  const t = ticket(i)
  const sig = signer.sign(ticketHash(t, domain))
  return { t, sig, sigHex: bytesToHex(sig) }
})
// both implementations must agree before their speed means anything
for (const { t, sigHex } of pool.slice(0, 32)) {
  if (bytesToHex(ticketHash(t, domain)) !== ethersHash(t)) throw new Error('hash mismatch with ethers')
  if (wallet.signMessageSync(getBytes(ethersHash(t))) !== sigHex) throw new Error('signature mismatch with ethers')
}

process.stdout.write(`bench/tickets: one core, ${seconds} s per measurement, node ${process.version}\n\n`)
process.stdout.write('sign (hash the ticket, EIP-191 sign it)\n')
const oursSign = rate('shoal (noble keccak + tiny-secp256k1)', (i) => { signer.sign(ticketHash(ticket(i), domain)) })
const ethersSign = rate('ethers 6 (solidityPackedKeccak256 + signMessageSync)', (i) => { wallet.signMessageSync(getBytes(ethersHash(ticket(i)))) })

process.stdout.write('\nverify (hash the ticket, recover the signer, compare)\n')
const oursVerify = rate('shoal (noble keccak + tiny-secp256k1 recover)', (i) => {
  const { t, sig } = pool[i % POOL]
  if (!verifier.verify(t.sender, ticketHash(t, domain), sig)) throw new Error('verify failed')
})
const ethersVerify = rate('ethers 6 (hashMessage + recoverAddress)', (i) => {
  const { t, sigHex } = pool[i % POOL]
  if (recoverAddress(hashMessage(getBytes(ethersHash(t))), sigHex).toLowerCase() !== t.sender) throw new Error('verify failed')
})

process.stdout.write('\nrecipient path per ticket\n')
const ctx = { recipient: base.recipient, domain, ticketDomain: domain, recipientRand: rand, currentBlock: 10n }
const validate = rate('validateTicket (rand hash + hash + recover) + win check', (i) => {
  const { t, sig } = pool[i % POOL]
  validator.validateTicket(t, sig, ctx)
  isWinningTicket(sig, rand, t.winProb)
})

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`
process.stdout.write(`
summary (per core)
  signed/s    shoal ${Math.round(oursSign)}  ethers ${Math.round(ethersSign)}  ratio ${ratio(oursSign, ethersSign)}  goal >= 4000: ${oursSign >= 4000 ? 'met' : 'NOT met'}
  verified/s  shoal ${Math.round(oursVerify)}  ethers ${Math.round(ethersVerify)}  ratio ${ratio(oursVerify, ethersVerify)}  goal >= 2000: ${oursVerify >= 2000 ? 'met' : 'NOT met'}
  full recipient validation: ${Math.round(validate)} tickets/s
`)
