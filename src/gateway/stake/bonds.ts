import type { Logger } from '../../observability/logger.js'
import { anySignal } from '../../signals/any-signal.js'

export interface StakeOptions {
  /** wei an orchestrator must have bonded to get work from this gateway; 0: none required @default 0n */
  minBondWei: bigint
  /** weigh selection by bond: a bond of `fullWeightBondWei` or more gets full weight @default false */
  weighByBond: boolean
  /** the bond that earns full selection weight @default 1 ETH (or minBondWei if larger) */
  fullWeightBondWei: bigint
  /** the selection weight of an orchestrator with no bond, when bonds are weighed, 0..1 @default 0.25 */
  unbondedWeight: number
  /** a bond read on chain is trusted this long before it is read again, ms @default 60_000 */
  refreshMs: number
  /** chain reads at once; more wait @default 4 */
  maxConcurrentReads: number
  /** orchestrators remembered @default 10_000 */
  maxEntries: number
}

export const defaultStakeOptions: StakeOptions = {
  minBondWei: 0n,
  weighByBond: false,
  fullWeightBondWei: 10n ** 18n,
  unbondedWeight: 0.25,
  refreshMs: 60_000,
  maxConcurrentReads: 4,
  maxEntries: 10_000
}

export interface BondBookInit {
  /** the bond of an Ethereum address at the gateway's broker (a view call) */
  read: (ethAddress: string, options: { signal: AbortSignal }) => Promise<bigint>
  /** the broker the gateway uses (0x): a bond claimed at another one counts as none */
  broker: string
  options?: Partial<StakeOptions>
  logger: Logger
  /** told after each read: whether the peer has at least the minimum (at least 1 wei without one) */
  onBond?: (peerId: string, bonded: boolean, wei: bigint) => void
}

export interface BondBook {
  /** an announcement from `peerId` bound to `ethAddress`, claiming a bond at `bondBroker` (or none): read its bond if not fresh */
  observe: (peerId: string, ethAddress: string, bondBroker: string | undefined) => void
  /** the bond read for the peer, or undefined before the first read */
  bondOf: (peerId: string) => bigint | undefined
  /**
   * 0..1, a factor of selection weight: 0 below the minimum bond (or before its bond is
   * known, when one is required); with `weighByBond`, unbondedWeight + (1 - unbondedWeight)
   * x min(1, bond / fullWeightBondWei); else 1
   */
  factor: (peerId: string) => number
  /** resolves once no read is pending (tests) */
  settled: () => Promise<void>
  stop: () => void
}

interface Entry { wei: bigint | undefined, readAt: number, reading: boolean }

/**
 * What orchestrators have at stake, as this gateway reads it on chain. An announcement
 * names the broker holding its bond; the Ethereum address it binds to the peer id (by
 * a signature of that key) is whose bond is read, so a bond cannot be borrowed by a
 * peer id that does not hold the key. Reads are deduplicated, refreshed at most every
 * `refreshMs`, and bounded in concurrency: a flood of announcements claiming bonds
 * costs queued view calls, never unbounded work.
 */
export function createBondBook (init: BondBookInit): BondBook {
  const options: StakeOptions = { ...defaultStakeOptions, ...init.options }
  const full = options.fullWeightBondWei > options.minBondWei ? options.fullWeightBondWei : (options.minBondWei > 0n ? options.minBondWei : 1n)
  const broker = init.broker.toLowerCase()
  const entries = new Map<string, Entry>()
  const queue: Array<() => Promise<void>> = []
  let active = 0
  const controller = new AbortController()
  let idle: Array<() => void> = []

  function pump (): void {
    while (active < options.maxConcurrentReads && queue.length > 0) {
      const job = queue.shift()
      if (job === undefined) break
      active++
      void job().finally(() => {
        active--
        pump()
        if (active === 0 && queue.length === 0) { const w = idle; idle = []; for (const wake of w) wake() }
      })
    }
  }

  function record (peerId: string, entry: Entry, wei: bigint): void {
    entry.wei = wei
    entry.readAt = Date.now()
    const bonded = options.minBondWei > 0n ? wei >= options.minBondWei : wei > 0n
    try {
      init.onBond?.(peerId, bonded, wei)
    } catch (err) {
      init.logger.warn({ err, peer: peerId }, 'onBond listener threw')
    }
  }

  return {
    observe (peerId, ethAddress, bondBroker) {
      if (controller.signal.aborted) return
      let entry = entries.get(peerId)
      if (entry === undefined) {
        entry = { wei: undefined, readAt: 0, reading: false }
        entries.set(peerId, entry)
        while (entries.size > options.maxEntries) {
          const oldest = entries.keys().next().value
          if (oldest === undefined) break
          entries.delete(oldest)
        }
      }
      const e = entry
      // no claim, or a claim at another broker: no bond here, and nothing to read
      if (bondBroker?.toLowerCase() !== broker) {
        if (e.wei !== 0n) record(peerId, e, 0n)
        return
      }
      if (e.reading || (e.wei !== undefined && Date.now() - e.readAt < options.refreshMs)) return
      e.reading = true
      queue.push(async () => {
        try {
          const wei = await init.read(ethAddress, { signal: anySignal([controller.signal, AbortSignal.timeout(10_000)]) })
          record(peerId, e, wei)
          init.logger.debug({ peer: peerId, ethAddress, bondWei: wei.toString() }, 'bond read')
        } catch (err) {
          init.logger.info({ peer: peerId, ethAddress, err: (err as Error).message }, 'bond read failed; keeping the last value')
        } finally {
          e.reading = false
        }
      })
      pump()
    },
    bondOf: (peerId) => entries.get(peerId)?.wei,
    factor (peerId) {
      const wei = entries.get(peerId)?.wei
      if (options.minBondWei > 0n && (wei === undefined || wei < options.minBondWei)) return 0
      if (!options.weighByBond) return 1
      const share = wei === undefined ? 0 : Number(wei >= full ? 1_000_000n : (wei * 1_000_000n) / full) / 1_000_000
      return options.unbondedWeight + (1 - options.unbondedWeight) * share
    },
    async settled () {
      if (active === 0 && queue.length === 0) return
      await new Promise<void>(resolve => { idle.push(resolve) })
    },
    stop () { controller.abort(); queue.length = 0 }
  }
}
