/**
 * A recipient process for the crash test: issues params for a sender, takes one batch on
 * stdin, prints what it accepted, and then waits to be killed (SIGKILL: no clean shutdown).
 * argv: rpcUrl brokerAddress privateKey storePath sender
 */
import { createInterface } from 'node:readline'
import { createEthersBroker } from '../../src/payments/chain/ethers-broker.js'
import { createProvider } from '../../src/payments/chain/provider.js'
import { createPaymentRecipient } from '../../src/payments/payment-recipient.js'
import { createSqliteTicketStore } from '../../src/payments/store/sqlite-ticket-store.js'
import { decodeTicketBatch, encodeTicketParams } from '../../src/payments/wire.js'

const [rpcUrl, brokerAddress, privateKey, storePath, sender] = process.argv.slice(2)
const provider = await createProvider(rpcUrl, { pollingIntervalMs: 50 })
const broker = createEthersBroker({ provider, address: brokerAddress, privateKey })
const recipient = createPaymentRecipient({
  privateKey,
  broker,
  store: createSqliteTicketStore(storePath),
  ev: 10n ** 16n, // EV = face value: every ticket wins
  gasPrice: 10n ** 9n,
  redeemGas: 100_000n,
  options: { paramsExpirationBlocks: 3n }
})
// the wire form (protobuf) as hex, one line each way
process.stdout.write(`${JSON.stringify({ params: Buffer.from(encodeTicketParams(await recipient.ticketParams(sender))).toString('hex') })}\n`)
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const result = await recipient.receive(decodeTicketBatch(Buffer.from(line, 'hex')))
  // acknowledged only now: the winner is already on disk
  process.stdout.write(`${JSON.stringify({ accepted: result.accepted, winners: result.winners })}\n`)
}
