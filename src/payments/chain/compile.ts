import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ChainError } from '../errors.js'

/** ABI and creation bytecode of a contract of contracts/. */
export interface ContractArtifact {
  contractName: string
  /** solc version that produced it */
  compiler: string
  /** sha256 of the Solidity source: a changed source invalidates the cache */
  sourceHash: string
  abi: unknown[]
  /** creation bytecode, 0x-hex */
  bytecode: string
}

export interface CompileOptions {
  /** where `contracts/` lives; found by walking up from this module by default */
  root?: string
  /** artifact cache file; default `<root>/dist/contracts/<name>.json`; null disables the file cache */
  cacheFile?: string | null
}

/** The contracts of contracts/, each in its own `<name>.sol`. */
export type ContractName = 'TicketBroker' | 'ShoalPriceAggregator'
const CONTRACT_FILE = 'TicketBroker.sol'
/** Cancun is live on Ethereum and its L2s; anvil runs it too. */
const EVM_VERSION = 'cancun'

const memo = new Map<ContractName, Promise<ContractArtifact>>()

/** The repository (or installed package) root: the first folder above this module with `contracts/TicketBroker.sol`. */
export function findContractsRoot (from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (;;) {
    if (existsSync(join(dir, 'contracts', CONTRACT_FILE))) return dir
    const up = dirname(dir)
    if (up === dir) throw new ChainError('CHAIN_ERROR_COMPILE', `contracts/${CONTRACT_FILE} not found above ${from}`)
    dir = up
  }
}

/**
 * The compiled TicketBroker: from memory, else from the cache file when its source hash
 * matches, else compiled with solc-js (about 1-2 s) and written to the cache file.
 */
export async function loadTicketBrokerArtifact (options: CompileOptions = {}): Promise<ContractArtifact> {
  return await loadContractArtifact('TicketBroker', options)
}

/** A contract of contracts/, compiled or from its cache, as `loadTicketBrokerArtifact`. */
export async function loadContractArtifact (name: ContractName, options: CompileOptions = {}): Promise<ContractArtifact> {
  if (options.root === undefined && options.cacheFile === undefined) {
    let pending = memo.get(name)
    if (pending === undefined) {
      pending = compileContract(name).catch((err: unknown) => { memo.delete(name); throw err })
      memo.set(name, pending)
    }
    return await pending
  }
  return await compileContract(name, options)
}

async function compileContract (name: ContractName, options: CompileOptions = {}): Promise<ContractArtifact> {
  const root = options.root ?? findContractsRoot()
  const source = await readFile(join(root, 'contracts', `${name}.sol`), 'utf8')
  const sourceHash = createHash('sha256').update(source).digest('hex')
  const cacheFile = options.cacheFile === undefined ? join(root, 'dist', 'contracts', `${name}.json`) : options.cacheFile

  if (cacheFile !== null) {
    const cached = await readCache(cacheFile)
    if (cached?.sourceHash === sourceHash) return cached
  }

  const artifact = await compileSource(name, source, sourceHash)
  if (cacheFile !== null) {
    try {
      await mkdir(dirname(cacheFile), { recursive: true })
      const tmp = `${cacheFile}.${process.pid}.tmp`
      await writeFile(tmp, JSON.stringify(artifact))
      await rename(tmp, cacheFile)
    } catch {
      // a read-only install still works from memory
    }
  }
  return artifact
}

async function readCache (file: string): Promise<ContractArtifact | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as ContractArtifact
    if (typeof parsed.bytecode === 'string' && Array.isArray(parsed.abi)) return parsed
  } catch {}
  return undefined
}

interface SolcOutput {
  errors?: Array<{ severity: string, formattedMessage: string }>
  contracts?: Record<string, Record<string, { abi: unknown[], evm: { bytecode: { object: string } } }>>
}

async function compileSource (name: ContractName, source: string, sourceHash: string): Promise<ContractArtifact> {
  const file = `${name}.sol`
  const { default: solc } = await import('solc') as { default: { compile: (input: string) => string, version: () => string } }
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } }
    }
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (output.errors ?? []).filter(e => e.severity === 'error')
  if (errors.length > 0) {
    throw new ChainError('CHAIN_ERROR_COMPILE', `solc: ${errors.map(e => e.formattedMessage).join('\n')}`)
  }
  const compiled = output.contracts?.[file]?.[name]
  if (compiled === undefined) throw new ChainError('CHAIN_ERROR_COMPILE', `solc produced no ${name}`)
  return {
    contractName: name,
    compiler: solc.version(),
    sourceHash,
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`
  }
}

// `node dist/src/payments/chain/compile.js` (or `npx tsx src/payments/chain/compile.ts`) writes the cache at build time.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const name of ['TicketBroker', 'ShoalPriceAggregator'] as const) {
    const artifact = await loadContractArtifact(name)
    process.stdout.write(`compiled ${artifact.contractName} with solc ${artifact.compiler} (${(artifact.bytecode.length - 2) / 2} bytes)\n`)
  }
}
