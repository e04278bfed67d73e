import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { Type, type TObject, type TSchema } from '@sinclair/typebox'
import type { Options } from 'yargs'
import { compileSchema } from '../../kernel/schema.js'
import { DEFAULT_GOSSIP_HEARTBEAT_MS, DEFAULT_PREFERRED_TRANSPORT, type AddressScope, type DirectTransport, type NodeRole } from '../../p2p/node.js'
import { DEFAULT_MONITOR } from '../../p2p/constants.js'
import { DEFAULT_RELAY_SERVER, type RelayServerOptions } from '../../p2p/relay.js'
import type { NodeConfig } from '../../roles/config.js'
import { CliError } from '../errors.js'

/**
 * Options every node role shares. Values come from (highest first) flags, `SHOAL_*`
 * environment variables (`SHOAL_LISTEN=/ip4/..,/ip4/..`), the JSON file given with
 * `--config`, then these defaults; yargs applies that precedence, this module checks
 * the result and turns it into typed options.
 */
export interface NodeOptions extends NodeConfig {
  logLevel: string
}

/** TCP and QUIC on the same port number (QUIC is UDP): both are dialable and announced. */
export const DEFAULT_LISTEN: Record<NodeRole, string[]> = {
  bootstrap: ['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/udp/4001/quic-v1'],
  orchestrator: ['/ip4/0.0.0.0/tcp/4002', '/ip4/0.0.0.0/udp/4002/quic-v1'],
  gateway: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1'],
  worker: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/udp/0/quic-v1']
}

export function defaultDataDir (role: NodeRole): string {
  return join(homedir(), '.shoal', role)
}

export function nodeFlags (role: NodeRole): Record<string, Options> {
  return {
    config: { type: 'string', describe: 'JSON config file; its keys are the flag names in camelCase', config: true, group: 'Node:' },
    'data-dir': { type: 'string', describe: `data directory for keys, peers and state [default: ~/.shoal/${role}]`, group: 'Node:' },
    listen: { type: 'array', string: true, describe: `multiaddrs to listen on; behind NAT add /p2p-circuit (any relay) or <relay multiaddr>/p2p-circuit [default: ${DEFAULT_LISTEN[role].join(' ')}]`, group: 'Node:' },
    announce: { type: 'array', string: true, describe: 'multiaddrs to announce instead of the listen addresses (NAT, containers)', group: 'Node:' },
    bootstrap: { type: 'array', string: true, describe: 'bootstrap peers: multiaddrs ending in /p2p/<peer id>', group: 'Node:' },
    'address-scope': { choices: ['public', 'private', 'all'], describe: 'which peer addresses the DHT keeps: public (internet), private (LAN, loopback), all', default: 'all', group: 'Node:' },
    'relay-server': { type: 'boolean', default: false, describe: 'act as a circuit relay for nodes behind NAT (bootstraps are the natural relays)', group: 'Relay:' },
    'relay-max-reservations': { type: 'number', default: DEFAULT_RELAY_SERVER.maxReservations, describe: 'relay: nodes behind NAT that may hold a slot at once', group: 'Relay:' },
    'relay-duration-limit': { type: 'number', default: DEFAULT_RELAY_SERVER.durationLimitMs / 1000, describe: 'relay: seconds after which a relayed connection is reset', group: 'Relay:' },
    'relay-data-limit': { type: 'number', default: Number(DEFAULT_RELAY_SERVER.dataLimitBytes / 1024n ** 2n), describe: 'relay: MiB after which a relayed connection is reset (both ways together)', group: 'Relay:' },
    'prefer-transport': { choices: ['tcp', 'quic'], default: DEFAULT_PREFERRED_TRANSPORT, describe: 'transport dialled first when a peer offers both', group: 'Node:' },
    'monitor-interval': { type: 'number', default: DEFAULT_MONITOR.intervalMs, describe: 'how often every connection is pinged, ms (a gateway stops choosing an orchestrator whose ping it missed); longer costs less CPU per connection in a large mesh on few cores', group: 'Node:' },
    'gossip-heartbeat': { type: 'number', default: DEFAULT_GOSSIP_HEARTBEAT_MS, describe: 'gossipsub heartbeat, ms (mesh upkeep and lazy gossip to peers outside the mesh); longer costs less CPU in a large mesh on few cores', group: 'Node:' },
    'log-level': { choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', describe: 'log level (JSON logs on stderr)', group: 'Node:' }
  }
}

function camelCase (flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

/** A flag's value in the config file, typed as the flag is. */
function flagValueSchema (option: Options): TSchema {
  if (option.choices !== undefined) return Type.Unsafe({ enum: [...option.choices as unknown[]] })
  switch (option.type) {
    case 'string': return Type.String()
    case 'number': return Type.Number()
    case 'boolean': return Type.Boolean()
    // a list, or one comma-separated string as in SHOAL_* variables
    case 'array': return Type.Union([Type.Array(Type.Union([Type.String(), Type.Number()])), Type.String()])
    default: return Type.Union([Type.String(), Type.Number(), Type.Boolean()])
  }
}

/**
 * The `--config` file's schema for a command: an object whose keys are the command's
 * flag names (camelCase, as documented, or as written on the command line), each typed
 * as its flag; any other key is refused, so a typo is not silently ignored.
 */
export function configFileSchema (flags: Record<string, Options>): TObject {
  const properties: Record<string, TSchema> = {}
  for (const [name, option] of Object.entries(flags)) {
    if (name === 'config') continue
    for (const key of new Set([name, camelCase(name)])) properties[key] = Type.Optional(flagValueSchema(option))
  }
  return Type.Object(properties, { additionalProperties: false })
}

/**
 * The command's flags with a `--config` file reader that validates the file against
 * `configFileSchema(flags)` and names the file and key of the first problem.
 */
export function withConfigFile (flags: Record<string, Options>): Record<string, Options> {
  const config = flags.config
  if (config === undefined) return flags
  const schema = compileSchema(configFileSchema(flags))
  const configParser = (path: string): object => {
    let value: unknown
    try {
      value = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new CliError('CLI_ERROR_CONFIG', `--config ${path}: ${(err as Error).message}`)
    }
    const checked = schema.check(value)
    if (!checked.ok) {
      const key = checked.problem.path.join('.')
      throw new CliError('CLI_ERROR_CONFIG', `--config ${path}: ${key === '' ? 'the file' : `"${key}"`} ${checked.problem.message}`)
    }
    return checked.value
  }
  return { ...flags, config: { ...config, configParser } }
}

/** Env vars give lists as comma-separated strings; flags give arrays. Accept both. */
export function listOption (value: unknown): string[] {
  if (value === undefined || value === null) return []
  const items = Array.isArray(value) ? value : [value]
  return items.flatMap(v => String(v).split(',')).map(s => s.trim()).filter(s => s.length > 0)
}

function checkMultiaddrs (flag: string, values: string[], requirePeerId = false): string[] {
  for (const value of values) {
    let addr
    try {
      addr = multiaddr(value)
    } catch (err) {
      throw new CliError('CLI_ERROR_CONFIG', `--${flag}: "${value}" is not a multiaddr (${(err as Error).message})`)
    }
    if (requirePeerId && !addr.getComponents().some(c => c.name === 'p2p')) {
      throw new CliError('CLI_ERROR_CONFIG', `--${flag}: "${value}" must end with /p2p/<peer id>`)
    }
  }
  return values
}

export function parseNodeArgs (role: NodeRole, args: Record<string, unknown>): NodeOptions {
  const listen = listOption(args.listen)
  return {
    role,
    dataDir: resolve(typeof args.dataDir === 'string' ? args.dataDir : defaultDataDir(role)),
    listen: checkMultiaddrs('listen', listen.length > 0 ? listen : DEFAULT_LISTEN[role]),
    announce: checkMultiaddrs('announce', listOption(args.announce)),
    bootstrap: checkMultiaddrs('bootstrap', listOption(args.bootstrap), true),
    addressScope: (args.addressScope ?? 'all') as AddressScope,
    relayServer: args.relayServer === true ? parseRelayServer(args) : false,
    preferredTransport: (args.preferTransport ?? DEFAULT_PREFERRED_TRANSPORT) as DirectTransport,
    monitorIntervalMs: atLeast('monitor-interval', args.monitorInterval, DEFAULT_MONITOR.intervalMs, 100),
    gossipHeartbeatMs: atLeast('gossip-heartbeat', args.gossipHeartbeat, DEFAULT_GOSSIP_HEARTBEAT_MS, 100),
    logLevel: String(args.logLevel ?? 'info')
  }
}

function atLeast (flag: string, value: unknown, fallback: number, min: number): number {
  const n = Number(value ?? fallback)
  if (!Number.isInteger(n) || n < min) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be a whole number of ms, at least ${min}`)
  return n
}

function positive (flag: string, value: unknown, fallback: number): number {
  const n = Number(value ?? fallback)
  if (!Number.isFinite(n) || n <= 0) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} must be a positive number`)
  return n
}

function parseRelayServer (args: Record<string, unknown>): RelayServerOptions {
  return {
    ...DEFAULT_RELAY_SERVER,
    maxReservations: Math.floor(positive('relay-max-reservations', args.relayMaxReservations, DEFAULT_RELAY_SERVER.maxReservations)),
    durationLimitMs: Math.round(positive('relay-duration-limit', args.relayDurationLimit, DEFAULT_RELAY_SERVER.durationLimitMs / 1000) * 1000),
    dataLimitBytes: BigInt(Math.round(positive('relay-data-limit', args.relayDataLimit, Number(DEFAULT_RELAY_SERVER.dataLimitBytes / 1024n ** 2n)) * 1024 * 1024))
  }
}

export function parsePort (flag: string, value: unknown): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError('CLI_ERROR_CONFIG', `--${flag}: ${String(value)} is not a TCP port`)
  return n
}

/**
 * Parses repeated `PIPELINE=VALUE` flags (e.g. `--default-model upscale=m`) into a map,
 * refusing a missing side or a pipeline `isPipeline` does not accept.
 */
export function parsePipelineMap<P extends string> (flag: string, values: string[], isPipeline: (name: string) => name is P, valueName: string): Partial<Record<P, string>> {
  const out: Partial<Record<P, string>> = {}
  for (const value of values) {
    const at = value.indexOf('=')
    const pipeline = value.slice(0, at)
    if (at <= 0 || at === value.length - 1 || !isPipeline(pipeline)) {
      throw new CliError('CLI_ERROR_CONFIG', `--${flag}: "${value}" must be PIPELINE=${valueName} with a known pipeline`)
    }
    out[pipeline] = value.slice(at + 1)
  }
  return out
}
