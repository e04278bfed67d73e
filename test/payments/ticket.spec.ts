import { expect } from 'chai'
import { solidityPackedKeccak256 } from 'ethers'
import { createEthersBroker } from '../../src/payments/chain/ethers-broker.js'
import { revertReason } from '../../src/payments/chain/abi.js'
import { createSender } from '../../src/payments/sender.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { defaultSenderCaps, defaultSenderOptions } from '../../src/payments/options.js'
import {
  isWinningTicket, MAX_WIN_PROB, recipientRandHash, ticketEV, ticketHashHex, ticketOf, winProbFor, type Ticket
} from '../../src/payments/ticket.js'
import { makeTicket, startChainFixture, type ChainFixture } from './fixtures.js'

const GOLDEN_TICKET: Ticket = {
  recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  sender: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  faceValue: 10n ** 16n,
  winProb: (1n << 255n) + 12345n,
  senderNonce: 7n,
  recipientRandHash: recipientRandHash(42n),
  expirationBlock: 1234n
}
// the first contract deployed by anvil's first account on chain 31337
const GOLDEN_DOMAIN = { chainId: 31337n, broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3' }
const GOLDEN_HASH = '0x809ce13dde73a3ecea6a79f99f2ec557348c53805b7329556830d278da774547'
const GOLDEN_RAND_HASH = '0xbeced09521047d05b8960b7e7bcc1d1292cf3e4b2a6b63f48335cbde5f7545d2'

const tuple = (t: Ticket): unknown[] => [t.recipient, t.sender, t.faceValue, t.winProb, t.senderNonce, t.recipientRandHash, t.expirationBlock]

describe('payments: tickets', function () {
  this.timeout(30_000)

  describe('hash (off-chain)', () => {
    it('matches the pinned golden vector', () => {
      expect(GOLDEN_TICKET.recipientRandHash).to.equal(GOLDEN_RAND_HASH)
      expect(ticketHashHex(GOLDEN_TICKET, GOLDEN_DOMAIN)).to.equal(GOLDEN_HASH)
    })

    it('equals ethers solidityPackedKeccak256 of the same fields', () => {
      for (let i = 0; i < 20; i++) {
        const t = { ...GOLDEN_TICKET, faceValue: BigInt(i) * 10n ** 15n + 1n, senderNonce: BigInt(i * 7919), expirationBlock: BigInt(i) }
        const expected = solidityPackedKeccak256(
          ['address', 'address', 'uint256', 'uint256', 'uint256', 'bytes32', 'uint256', 'uint256', 'address'],
          [...tuple(t), GOLDEN_DOMAIN.chainId, GOLDEN_DOMAIN.broker])
        expect(ticketHashHex(t, GOLDEN_DOMAIN)).to.equal(expected)
      }
    })

    it('binds the ticket to its chain and broker', () => {
      expect(ticketHashHex(GOLDEN_TICKET, { ...GOLDEN_DOMAIN, chainId: 1n })).to.not.equal(GOLDEN_HASH)
      expect(ticketHashHex(GOLDEN_TICKET, { ...GOLDEN_DOMAIN, broker: GOLDEN_TICKET.sender })).to.not.equal(GOLDEN_HASH)
    })
  })

  describe('expected value', () => {
    it('winProbFor gives back the EV within one wei of rounding', () => {
      for (const [ev, fv] of [[1n, 3n], [10n ** 12n, 3n * 10n ** 16n], [7n, 7n], [123456789n, 10n ** 18n]]) {
        const p = winProbFor(ev, fv)
        const back = ticketEV(fv, p)
        expect(back <= ev && back >= ev - 1n, `${ev} ${fv} -> ${back}`).to.equal(true)
      }
    })

    it('an EV at or above the face value means a certain win', () => {
      expect(winProbFor(5n, 5n)).to.equal(MAX_WIN_PROB)
      expect(winProbFor(9n, 5n)).to.equal(MAX_WIN_PROB)
      expect(ticketEV(5n, MAX_WIN_PROB)).to.equal(5n)
    })

    it('refuses a zero face value', () => {
      expect(() => winProbFor(1n, 0n)).to.throw(RangeError)
    })
  })

  describe('on-chain (anvil)', () => {
    let fx: ChainFixture
    before(async () => {
      fx = await startChainFixture()
      await (await fx.broker(1).fundDeposit({ value: 10n ** 18n })).wait()
    })
    after(async () => { await fx?.stop() })

    it('the contract computes the golden hash, and the same hash as the off-chain code for any ticket', async () => {
      expect(fx.deployment.address).to.equal(GOLDEN_DOMAIN.broker)
      const c = fx.broker(0)
      expect(await c.getTicketHash(tuple(GOLDEN_TICKET))).to.equal(GOLDEN_HASH)
      const t = makeTicket({ signer: fx.wallets[1].privateKey, recipient: fx.wallets[2].address, domain: fx.domain })
      expect(await c.getTicketHash(t.tuple)).to.equal(t.hash)
    })

    it('a ticket made and signed off-chain by the Sender redeems on-chain', async () => {
      const broker = createEthersBroker({ provider: fx.provider, address: fx.deployment.address, privateKey: fx.wallets[2].privateKey })
      const signer = createTicketSigner(fx.wallets[1].privateKey)
      const sender = createSender({ signer, broker, caps: defaultSenderCaps, options: defaultSenderOptions })
      const rand = 0x1234567890n
      const params = {
        recipient: fx.wallets[2].address.toLowerCase(),
        faceValue: 10n ** 16n,
        winProb: MAX_WIN_PROB,
        recipientRandHash: recipientRandHash(rand),
        seed: `0x${'11'.repeat(32)}`,
        expirationBlock: await fx.blockNumber() + 5n,
        chainId: fx.chain.chainId,
        broker: fx.deployment.address
      }
      const batch = sender.createTicketBatch(params, 2)
      expect(batch.tickets.map(t => t.senderNonce)).to.deep.equal([1n, 2n])
      const before = await fx.provider.getBalance(fx.wallets[2].address)
      const ticket = ticketOf(params, batch.sender, batch.tickets[1].senderNonce)
      const r = await broker.redeemWinningTicket(ticket, batch.tickets[1].signature, rand)
      expect(r.paid).to.equal(10n ** 16n)
      expect(r.fromDeposit).to.equal(10n ** 16n)
      expect(await fx.provider.getBalance(fx.wallets[2].address)).to.equal(before + r.paid - r.feeWei)
      expect(await broker.isTicketUsed(ticketHashHex(ticket, fx.domain))).to.equal(true)
      const found = await broker.findRedemption(ticketHashHex(ticket, fx.domain), 0n)
      expect(found?.txHash).to.equal(r.txHash)
    })

    it('the off-chain win check agrees with the contract', async () => {
      const c = fx.broker(2)
      let wins = 0
      let losses = 0
      for (let i = 0; i < 12; i++) {
        const t = makeTicket({ signer: fx.wallets[1].privateKey, recipient: fx.wallets[2].address, domain: fx.domain, winProb: 1n << 255n, faceValue: 1000n })
        const offChain = isWinningTicket(t.sig, t.rand, t.ticket.winProb)
        try {
          await (await c.redeemWinningTicket(t.tuple, t.sigHex, t.rand)).wait()
          expect(offChain).to.equal(true)
          wins++
        } catch (err) {
          expect(revertReason(err)).to.equal('TicketNotWinning')
          expect(offChain).to.equal(false)
          losses++
        }
      }
      expect(wins + losses).to.equal(12)
    })
  })
})
