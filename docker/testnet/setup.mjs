// One-shot setup of docker/compose.local.yaml, run in the node image before the nodes:
// deploys Shoal's TicketBroker on the chain service (anvil), creates the bootstrap's and
// the gateway's keys in their data volumes, gives every node's account ether for gas,
// funds the gateway's deposit and reserve, and writes /mesh/broker,
// /mesh/bootstrap.peer, then /mesh/ready (what docker/testnet/launch.mjs waits for).
// Keys persist in the volumes; the chain does not, so every `up` deploys again.
import { rm, writeFile } from 'node:fs/promises'
import { Wallet, parseEther } from 'ethers'
import { createChainOperations, createProvider, deployTicketBroker } from '../dist/src/payments/chain/index.js'
import { loadOrCreateNodeKeys } from '../dist/src/p2p/keys.js'

// anvil's first default account (the public test mnemonic): local chains only
const FUNDER = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const rpcUrl = process.env.SHOAL_RPC_URL ?? 'http://chain:8545'
const dataDirs = (process.env.SHOAL_NODE_DATA_DIRS ?? '/data/bootstrap,/data/gateway').split(',')

await rm('/mesh/ready', { force: true })
const provider = await createProvider(rpcUrl, { connectTimeoutMs: 60_000 })
const { address: broker } = await deployTicketBroker({ provider, privateKey: FUNDER })
const funder = new Wallet(FUNDER, provider)
const keys = new Map()
for (const dir of dataDirs) {
  const k = await loadOrCreateNodeKeys(dir)
  keys.set(dir, k)
  await (await funder.sendTransaction({ to: k.ethereum.address, value: parseEther('100') })).wait()
}
const gateway = keys.get(dataDirs.find(d => d.endsWith('gateway')))
await createChainOperations({ provider, broker, privateKey: gateway.ethereum.privateKey }).fund(parseEther('10'), parseEther('10'), 8)
await writeFile('/mesh/broker', broker)
await writeFile('/mesh/bootstrap.peer', keys.get(dataDirs.find(d => d.endsWith('bootstrap'))).peerId.toString())
await writeFile('/mesh/ready', new Date().toISOString())
process.stdout.write(JSON.stringify({ event: 'setup', broker, gateway: gateway.ethereum.address }) + '\n')
provider.destroy()
