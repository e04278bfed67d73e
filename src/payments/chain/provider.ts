import { JsonRpcProvider, Network } from 'ethers'
import { ChainError } from '../errors.js'
import { waitForRpc } from './anvil.js'

export interface ProviderOptions {
  /** known chain id; asked from the node (once) when missing */
  chainId?: bigint
  /** how often to poll for receipts and blocks; default 250 ms (anvil mines instantly) */
  pollingIntervalMs?: number
  /** how long to wait for the RPC to answer at first; default DEFAULT_CHAIN_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number
  signal?: AbortSignal
}

/**
 * How long a node waits at start for its chain's RPC to answer. A minute, not seconds: a
 * node started with many others on a busy machine (an emulated testnet of 50 hosts on 2
 * cores) reached its chain in more than 10 s, and a node that gives up does not start.
 */
export const DEFAULT_CHAIN_CONNECT_TIMEOUT_MS = 60_000

/**
 * An ethers JsonRpcProvider that is safe for back-to-back transactions: it waits until
 * the node answers, pins the network (no chain-id request per call), and disables the
 * result cache (`cacheTimeout: -1`), without which a second transaction from the same
 * account reuses a stale nonce ("nonce too low").
 */
export async function createProvider (rpcUrl: string, options: ProviderOptions = {}): Promise<JsonRpcProvider> {
  await waitForRpc(rpcUrl, options.connectTimeoutMs ?? DEFAULT_CHAIN_CONNECT_TIMEOUT_MS, options.signal)
  let chainId = options.chainId
  if (chainId === undefined) {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: options.signal ?? AbortSignal.timeout(10_000)
    })
    const body = await res.json() as { result?: string }
    if (typeof body.result !== 'string') throw new ChainError('CHAIN_ERROR_RPC', `${rpcUrl} returned no chain id`)
    chainId = BigInt(body.result)
  }
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
    staticNetwork: Network.from(chainId),
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: options.pollingIntervalMs ?? 250
  })
  provider.pollingInterval = options.pollingIntervalMs ?? 250
  return provider
}
