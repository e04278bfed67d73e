import { expect } from 'chai'
import { ContractFactory, type Contract, type ContractTransactionResponse, type Wallet } from 'ethers'
import { revertReason, ticketBrokerInterface, TICKET_BROKER_ABI } from '../../src/payments/chain/abi.js'
import { loadTicketBrokerArtifact } from '../../src/payments/chain/compile.js'
import { bytesToHex, hexToBytes } from '../../src/payments/hex.js'
import { createTicketSigner } from '../../src/identity/ethereum.js'
import { MAX_WIN_PROB } from '../../src/payments/ticket.js'
import { makeTicket, startChainFixture, type ChainFixture } from './fixtures.js'

const ETH = 10n ** 18n
const N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n * 2n + 1n // secp256k1 order

async function expectRevert (p: Promise<unknown>, name: string): Promise<void> {
  try {
    await p
  } catch (err) {
    expect(revertReason(err), String((err as Error).message).slice(0, 300)).to.equal(name)
    return
  }
  expect.fail(`expected revert ${name}`)
}

async function mined (p: Promise<ContractTransactionResponse>): Promise<void> {
  await (await p).wait()
}

describe('payments: TicketBroker contract (anvil)', function () {
  this.timeout(30_000)
  let fx: ChainFixture
  let snap: string
  // wallets: 0 deployer, 1 sender, 2 recipient, 3 recipient, 4 recipient, 5 other sender
  let sender: Wallet
  let recipient: Wallet
  let bySender: Contract
  let byRecipient: Contract
  const UNLOCK = 10n
  const WINDOW = 20n

  before(async () => {
    fx = await startChainFixture({ unlockPeriodBlocks: UNLOCK, redeemWindowBlocks: WINDOW })
    sender = fx.wallets[1]
    recipient = fx.wallets[2]
    bySender = fx.broker(1)
    byRecipient = fx.broker(2)
  })
  after(async () => { await fx?.stop() })
  beforeEach(async () => { snap = await fx.snapshot() })
  afterEach(async () => { await fx.revert(snap) })

  const info = async (who: string): Promise<{ deposit: bigint, withdrawBlock: bigint, reserveFunds: bigint, allocBase: bigint, maxRecipients: bigint, epoch: bigint, frozen: boolean }> => {
    const r = await bySender.getSenderInfo(who)
    return { deposit: r[0], withdrawBlock: r[1], reserveFunds: r[2], allocBase: r[3], maxRecipients: r[4], epoch: r[5], frozen: r[6] }
  }
  const ticketFor = (opts: Partial<Parameters<typeof makeTicket>[0]> = {}): ReturnType<typeof makeTicket> =>
    makeTicket({ signer: sender.privateKey, recipient: recipient.address, domain: fx.domain, ...opts })

  it('the hand-written ABI matches what solc compiles', async () => {
    const artifact = await loadTicketBrokerArtifact()
    const compiled = new ContractFactory(artifact.abi as never, artifact.bytecode).interface
    const sigs = (i: typeof compiled): string[] => {
      const out: string[] = []
      i.forEachFunction(f => out.push(`${f.format('sighash')}:${f.stateMutability}:${f.outputs.map(o => o.type).join(',')}`))
      i.forEachEvent(e => out.push(e.format('full')))
      i.forEachError(e => out.push(e.format('sighash')))
      return out.sort()
    }
    expect(sigs(ticketBrokerInterface)).to.deep.equal(sigs(compiled))
    expect(TICKET_BROKER_ABI.length).to.be.greaterThan(10)
  })

  it('exposes its unlock period and redeem window', async () => {
    expect(await bySender.unlockPeriod()).to.equal(UNLOCK)
    expect(await bySender.redeemWindow()).to.equal(WINDOW)
  })

  describe('funding', () => {
    it('fundDeposit adds to the deposit and emits DepositFunded', async () => {
      const tx = await bySender.fundDeposit({ value: ETH })
      const receipt = await tx.wait()
      await mined(bySender.fundDeposit({ value: 2n * ETH }))
      expect((await info(sender.address)).deposit).to.equal(3n * ETH)
      const log = ticketBrokerInterface.parseLog(receipt.logs[0])
      expect(log?.name).to.equal('DepositFunded')
      expect(log?.args.amount).to.equal(ETH)
    })

    it('fundDeposit refuses zero value (ZeroValue)', async () => {
      await expectRevert(bySender.fundDeposit({ value: 0n }), 'ZeroValue')
    })

    it('fundReserve adds funds and sets maxRecipients', async () => {
      await mined(bySender.fundReserve(4, { value: ETH }))
      const i = await info(sender.address)
      expect(i.reserveFunds).to.equal(ETH)
      expect(i.maxRecipients).to.equal(4n)
      expect(i.frozen).to.equal(false)
    })

    it('fundReserve refuses zero value (ZeroValue) and zero maxRecipients (InvalidMaxRecipients)', async () => {
      await expectRevert(bySender.fundReserve(1, { value: 0n }), 'ZeroValue')
      await expectRevert(bySender.fundReserve(0, { value: ETH }), 'InvalidMaxRecipients')
    })

    it('maxRecipients may fall at any time but rise only while the reserve is empty (MaxRecipientsIncrease)', async () => {
      await mined(bySender.fundReserve(4, { value: ETH }))
      await expectRevert(bySender.fundReserve(5, { value: ETH }), 'MaxRecipientsIncrease')
      await mined(bySender.fundReserve(2, { value: ETH }))
      expect((await info(sender.address)).maxRecipients).to.equal(2n)
    })

    it('fundDepositAndReserve splits msg.value, refusing a mismatch (ValueMismatch) or zero (ZeroValue)', async () => {
      await mined(bySender.fundDepositAndReserve(ETH, 2n * ETH, 3, { value: 3n * ETH }))
      const i = await info(sender.address)
      expect(i.deposit).to.equal(ETH)
      expect(i.reserveFunds).to.equal(2n * ETH)
      expect(i.maxRecipients).to.equal(3n)
      await expectRevert(bySender.fundDepositAndReserve(ETH, ETH, 3, { value: 3n * ETH }), 'ValueMismatch')
      await expectRevert(bySender.fundDepositAndReserve(0n, 0n, 3, { value: 0n }), 'ZeroValue')
    })

    it('refuses plain ether transfers', async () => {
      let failed = false
      try {
        await (await sender.sendTransaction({ to: fx.deployment.address, value: 1n })).wait()
      } catch { failed = true }
      expect(failed).to.equal(true)
    })
  })

  describe('unlock and withdraw', () => {
    it('unlock needs funds (NoFunds), sets withdrawBlock, and cannot be repeated (AlreadyUnlocking)', async () => {
      await expectRevert(bySender.unlock(), 'NoFunds')
      await mined(bySender.fundDeposit({ value: ETH }))
      const tx = await bySender.unlock()
      const receipt = await tx.wait()
      expect((await info(sender.address)).withdrawBlock).to.equal(BigInt(receipt.blockNumber) + UNLOCK)
      await expectRevert(bySender.unlock(), 'AlreadyUnlocking')
    })

    it('cancelUnlock stops an unlock and needs one in progress (NotUnlocking)', async () => {
      await expectRevert(bySender.cancelUnlock(), 'NotUnlocking')
      await mined(bySender.fundDeposit({ value: ETH }))
      await mined(bySender.unlock())
      await mined(bySender.cancelUnlock())
      expect((await info(sender.address)).withdrawBlock).to.equal(0n)
    })

    it('withdraw needs an unlock (NotUnlocking) and a finished period (UnlockPeriodNotOver), then pays out everything', async () => {
      await expectRevert(bySender.withdraw(), 'NotUnlocking')
      await mined(bySender.fundDepositAndReserve(ETH, 2n * ETH, 1, { value: 3n * ETH }))
      await mined(bySender.unlock())
      await expectRevert(bySender.withdraw(), 'UnlockPeriodNotOver')
      await fx.mine(Number(UNLOCK))
      const before = await fx.provider.getBalance(sender.address)
      const receipt = await (await bySender.withdraw()).wait()
      const after = await fx.provider.getBalance(sender.address)
      expect(after - before + (receipt.gasUsed as bigint) * (receipt.gasPrice as bigint)).to.equal(3n * ETH)
      const i = await info(sender.address)
      expect(i.deposit).to.equal(0n)
      expect(i.reserveFunds).to.equal(0n)
      expect(i.withdrawBlock).to.equal(0n)
    })
  })

  describe('redeemWinningTicket', () => {
    beforeEach(async () => {
      await mined(bySender.fundDepositAndReserve(ETH, ETH, 2, { value: 2n * ETH }))
    })

    it('computes the same ticket hash as the off-chain code', async () => {
      const t = ticketFor()
      expect(await bySender.getTicketHash(t.tuple)).to.equal(t.hash)
    })

    it('pays a winning ticket to its recipient from the deposit, marks it used, emits WinningTicketRedeemed', async () => {
      const t = ticketFor({ faceValue: ETH / 10n })
      const before = await fx.provider.getBalance(recipient.address)
      // anyone may submit: the money always goes to ticket.recipient
      const receipt = await (await fx.broker(0).redeemWinningTicket(t.tuple, t.sigHex, t.rand)).wait()
      expect(await fx.provider.getBalance(recipient.address) - before).to.equal(ETH / 10n)
      expect(await bySender.usedTickets(t.hash)).to.equal(true)
      expect((await info(sender.address)).deposit).to.equal(ETH - ETH / 10n)
      const log = ticketBrokerInterface.parseLog(receipt.logs[0])
      expect(log?.name).to.equal('WinningTicketRedeemed')
      expect(log?.args.ticketHash).to.equal(t.hash)
      expect(log?.args.fromDeposit).to.equal(ETH / 10n)
      expect(log?.args.fromReserve).to.equal(0n)
    })

    it('refuses a ticket redeemed twice (TicketUsed)', async () => {
      const t = ticketFor()
      await mined(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand))
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'TicketUsed')
    })

    it('refuses a zero recipient (InvalidRecipient), zero sender (InvalidSender), zero face value (ZeroFaceValue)', async () => {
      const zero = '0x0000000000000000000000000000000000000000'
      const a = ticketFor({ recipient: zero })
      await expectRevert(byRecipient.redeemWinningTicket(a.tuple, a.sigHex, a.rand), 'InvalidRecipient')
      const b = ticketFor({ sender: zero })
      await expectRevert(byRecipient.redeemWinningTicket(b.tuple, b.sigHex, b.rand), 'InvalidSender')
      const c = ticketFor({ faceValue: 0n })
      await expectRevert(byRecipient.redeemWinningTicket(c.tuple, c.sigHex, c.rand), 'ZeroFaceValue')
    })

    it('accepts a ticket until redeemWindow blocks after its expiration, then refuses it (TicketExpired)', async () => {
      const now = await fx.blockNumber()
      const ok = ticketFor({ expirationBlock: now - 1n })
      await mined(byRecipient.redeemWinningTicket(ok.tuple, ok.sigHex, ok.rand)) // mined in now+1: 2 blocks past
      const late = ticketFor({ expirationBlock: now })
      await fx.mine(Number(WINDOW) - 1) // the next tx is mined in now + WINDOW + 1
      await expectRevert(byRecipient.redeemWinningTicket(late.tuple, late.sigHex, late.rand), 'TicketExpired')
    })

    it('refuses a wrong recipientRand preimage (InvalidRecipientRand)', async () => {
      const t = ticketFor()
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand + 1n), 'InvalidRecipientRand')
    })

    it('refuses signatures by another key, altered tickets, high-s copies, bad v and bad lengths (InvalidSignature)', async () => {
      const other = createTicketSigner(fx.wallets[5].privateKey)
      const forged = ticketFor({ signer: other, sender: sender.address })
      await expectRevert(byRecipient.redeemWinningTicket(forged.tuple, forged.sigHex, forged.rand), 'InvalidSignature')

      const t = ticketFor({ faceValue: ETH / 100n })
      const altered = [...t.tuple] as typeof t.tuple
      altered[2] = ETH / 10n
      await expectRevert(byRecipient.redeemWinningTicket(altered, t.sigHex, t.rand), 'InvalidSignature')

      // (r, n - s, v ^ 1) is a valid ECDSA signature of the same digest: the contract must refuse it
      const sig = hexToBytes(t.sigHex)
      const s = BigInt(bytesToHex(sig.subarray(32, 64)))
      const highS = new Uint8Array(sig)
      highS.set(hexToBytes(`0x${(N - s).toString(16).padStart(64, '0')}`), 32)
      highS[64] = sig[64] === 27 ? 28 : 27
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, bytesToHex(highS), t.rand), 'InvalidSignature')

      const badV = new Uint8Array(sig)
      badV[64] = 1
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, bytesToHex(badV), t.rand), 'InvalidSignature')
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, bytesToHex(sig.subarray(0, 64)), t.rand), 'InvalidSignature')
    })

    it('refuses a losing ticket (TicketNotWinning)', async () => {
      const t = ticketFor({ winProb: 1n })
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'TicketNotWinning')
    })

    it('reverts when the sender has nothing to pay with, keeping the ticket redeemable (SenderUnfunded)', async () => {
      const broke = fx.wallets[5]
      const t = makeTicket({ signer: broke.privateKey, recipient: recipient.address, domain: fx.domain })
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'SenderUnfunded')
      expect(await bySender.usedTickets(t.hash)).to.equal(false)
      await mined(fx.broker(5).fundDeposit({ value: ETH }))
      await mined(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand))
    })

    it('refuses the payout when the recipient cannot receive ether (TransferFailed)', async () => {
      const rejecter = '0x00000000000000000000000000000000000000aa'
      await fx.provider.send('anvil_setCode', [rejecter, '0x60006000fd']) // PUSH 0 PUSH 0 REVERT
      const t = ticketFor({ recipient: rejecter })
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'TransferFailed')
    })

    it('blocks re-entry from a recipient during its payout (Reentrancy)', async () => {
      const { default: solc } = await import('solc') as { default: { compile: (s: string) => string } }
      const source = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
interface IBroker { function withdraw() external; }
contract Reenterer {
  address immutable broker; bytes public lastError;
  constructor(address b) { broker = b; }
  receive() external payable { try IBroker(broker).withdraw() {} catch (bytes memory r) { lastError = r; } }
}`
      const out = JSON.parse(solc.compile(JSON.stringify({
        language: 'Solidity',
        sources: { 'R.sol': { content: source } },
        settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } }
      })))
      const c = out.contracts['R.sol'].Reenterer
      const deployed = await new ContractFactory(c.abi, c.evm.bytecode.object, fx.wallets[0]).deploy(fx.deployment.address)
      await deployed.waitForDeployment()
      const addr = (await deployed.getAddress()).toLowerCase()
      const t = ticketFor({ recipient: addr, faceValue: 1000n })
      await mined(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand))
      const lastError = await (deployed as Contract).lastError() as string
      expect(ticketBrokerInterface.parseError(lastError)?.name).to.equal('Reentrancy')
    })
  })

  describe('reserve rule', () => {
    const R = ETH // reserve
    let r2: string, r3: string, r4: string

    beforeEach(async () => {
      r2 = fx.wallets[2].address
      r3 = fx.wallets[3].address
      r4 = fx.wallets[4].address
    })

    it('pays from the deposit first, then the reserve', async () => {
      await mined(bySender.fundDepositAndReserve(ETH / 10n, R, 2, { value: ETH / 10n + R }))
      const t = ticketFor({ faceValue: ETH / 4n })
      const receipt = await (await byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand)).wait()
      const log = ticketBrokerInterface.parseLog(receipt.logs[0])
      expect(log?.args.fromDeposit).to.equal(ETH / 10n)
      expect(log?.args.fromReserve).to.equal(ETH / 4n - ETH / 10n)
      const i = await info(sender.address)
      expect(i.deposit).to.equal(0n)
      expect(i.frozen).to.equal(true)
      expect(i.allocBase).to.equal(R)
    })

    it('each recipient may claim at most reserve / maxRecipients, fixed at the first claim', async () => {
      await mined(bySender.fundReserve(2, { value: R }))
      expect(await bySender.claimableReserve(sender.address, r2)).to.equal(R / 2n)
      // r2 asks for more than its share: paid only its share
      const a = makeTicket({ signer: sender.privateKey, recipient: r2, domain: fx.domain, faceValue: R })
      await mined(byRecipient.redeemWinningTicket(a.tuple, a.sigHex, a.rand))
      expect(await bySender.claimedReserve(sender.address, r2)).to.equal(R / 2n)
      expect(await bySender.claimableReserve(sender.address, r2)).to.equal(0n)
      // r3's share is still half of the reserve as it was at the first claim, not of what is left
      expect(await bySender.claimableReserve(sender.address, r3)).to.equal(R / 2n)
      const b = makeTicket({ signer: sender.privateKey, recipient: r3, domain: fx.domain, faceValue: R / 4n })
      await mined(byRecipient.redeemWinningTicket(b.tuple, b.sigHex, b.rand))
      expect(await bySender.claimableReserve(sender.address, r3)).to.equal(R / 4n)
      // r2 is exhausted: its next ticket reverts and stays redeemable
      const c = makeTicket({ signer: sender.privateKey, recipient: r2, domain: fx.domain, faceValue: 1n })
      await expectRevert(byRecipient.redeemWinningTicket(c.tuple, c.sigHex, c.rand), 'SenderUnfunded')
    })

    it('never pays out more than the reserve holds when more recipients claim than declared', async () => {
      await mined(bySender.fundReserve(2, { value: R }))
      for (const r of [r2, r3]) {
        const t = makeTicket({ signer: sender.privateKey, recipient: r, domain: fx.domain, faceValue: R })
        await mined(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand))
      }
      expect((await info(sender.address)).reserveFunds).to.equal(0n)
      expect(await bySender.claimableReserve(sender.address, r4)).to.equal(0n)
      const t = makeTicket({ signer: sender.privateKey, recipient: r4, domain: fx.domain, faceValue: R })
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'SenderUnfunded')
    })

    it('topping up a frozen reserve starts a new epoch with fresh shares', async () => {
      await mined(bySender.fundReserve(2, { value: R }))
      const a = makeTicket({ signer: sender.privateKey, recipient: r2, domain: fx.domain, faceValue: R })
      await mined(byRecipient.redeemWinningTicket(a.tuple, a.sigHex, a.rand))
      expect(await bySender.claimableReserve(sender.address, r2)).to.equal(0n)
      await mined(bySender.fundReserve(2, { value: R / 2n }))
      const i = await info(sender.address)
      expect(i.epoch).to.equal(1n)
      expect(i.frozen).to.equal(false)
      // reserve is now R/2 (left) + R/2 (new) = R: everyone's share is R/2 again
      expect(await bySender.claimableReserve(sender.address, r2)).to.equal(R / 2n)
    })

    it('a partial payment uses up the ticket', async () => {
      await mined(bySender.fundReserve(4, { value: R }))
      const t = ticketFor({ faceValue: R })
      const receipt = await (await byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand)).wait()
      const log = ticketBrokerInterface.parseLog(receipt.logs[0])
      expect(log?.args.fromReserve).to.equal(R / 4n)
      await expectRevert(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand), 'TicketUsed')
    })

    it('recipients can still claim while the sender is unlocking, and withdraw resets the epoch', async () => {
      await mined(bySender.fundReserve(2, { value: R }))
      await mined(bySender.unlock())
      const t = ticketFor({ faceValue: R / 4n })
      await mined(byRecipient.redeemWinningTicket(t.tuple, t.sigHex, t.rand))
      await fx.mine(Number(UNLOCK))
      await mined(bySender.withdraw())
      const i = await info(sender.address)
      expect(i.reserveFunds).to.equal(0n)
      expect(i.frozen).to.equal(false)
      expect(i.epoch).to.equal(1n)
    })
  })

  describe('batchRedeemWinningTickets', () => {
    beforeEach(async () => {
      await mined(bySender.fundDeposit({ value: ETH }))
    })

    it('redeems the good tickets and reports each bad one (TicketRedemptionFailed) without reverting', async () => {
      const good1 = ticketFor({ faceValue: 1000n })
      const losing = ticketFor({ winProb: 1n })
      const good2 = ticketFor({ faceValue: 2000n })
      const before = await fx.provider.getBalance(recipient.address)
      const receipt = await (await fx.broker(0).batchRedeemWinningTickets(
        [good1.tuple, losing.tuple, good2.tuple, good1.tuple],
        [good1.sigHex, losing.sigHex, good2.sigHex, good1.sigHex],
        [good1.rand, losing.rand, good2.rand, good1.rand]
      )).wait()
      expect(await fx.provider.getBalance(recipient.address) - before).to.equal(3000n)
      const logs = receipt.logs.map((l: { topics: string[], data: string }) => ticketBrokerInterface.parseLog(l)).filter((l: unknown) => l !== null)
      const failed = logs.filter((l: { name: string }) => l.name === 'TicketRedemptionFailed')
      expect(failed.map((l: { args: { index: bigint } }) => l.args.index)).to.deep.equal([1n, 3n])
      expect(failed.map((l: { args: { reason: string } }) => ticketBrokerInterface.parseError(l.args.reason)?.name))
        .to.deep.equal(['TicketNotWinning', 'TicketUsed'])
      expect(logs.filter((l: { name: string }) => l.name === 'WinningTicketRedeemed')).to.have.length(2)
    })

    it('refuses arrays of different lengths (LengthMismatch)', async () => {
      const t = ticketFor()
      await expectRevert(byRecipient.batchRedeemWinningTickets([t.tuple], [], [t.rand]), 'LengthMismatch')
    })

    it('a ticket signed with MAX_WIN_PROB always wins', async () => {
      const t = ticketFor({ winProb: MAX_WIN_PROB, faceValue: 5n })
      await mined(byRecipient.batchRedeemWinningTickets([t.tuple], [t.sigHex], [t.rand]))
      expect(await bySender.usedTickets(t.hash)).to.equal(true)
    })
  })
})
