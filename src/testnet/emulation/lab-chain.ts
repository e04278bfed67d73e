/**
 * Paid jobs on an emulated mesh with the chain inside the lab: anvil on a host of its own
 * that nodes reach directly (startEmulatedMesh runs the starter and owns the chain). Both
 * `shoal testnet --hosts netns` and scenarios use it: bridged from the host's loopback
 * through two user-space proxies, the ticket checks of 24 orchestrators timed out under
 * load and most jobs were refused for payment.
 */
import { startTestnetChain, type TestnetChain } from '../local-chain.js'
import type { ChainPlacement, EmulatedMeshOptions } from './mesh.js'

export interface LabPaymentsOptions {
  /** anvil's log */
  logFile: string
  depositWei: bigint
  reserveWei: bigint
  ticketEvWei: string
  gasPriceWei: string
  signal?: AbortSignal
  /** told once the chain is up, with the TicketBroker deployed */
  onStarted?: (chain: TestnetChain) => void
}

/** `payments` for startEmulatedMesh: a local chain started in the lab, on the mesh's `chain` host. */
export function labPayments (options: LabPaymentsOptions): NonNullable<EmulatedMeshOptions['payments']> {
  return {
    chain: async (placement: ChainPlacement) => {
      const started = await startTestnetChain({ logFile: options.logFile, detached: true, signal: options.signal, placement })
      options.onStarted?.(started)
      return started
    },
    depositWei: options.depositWei,
    reserveWei: options.reserveWei,
    ticketEvWei: options.ticketEvWei,
    gasPriceWei: options.gasPriceWei
  }
}
