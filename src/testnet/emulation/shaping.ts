/**
 * Link conditions of an emulated host (a namespace of a NetnsLab): bandwidth and loss,
 * with what this kernel offers. There is no `netem` here, so:
 * - bandwidth: `tc tbf` on both ends of the host's veth (the host's own end shapes what it
 *   sends, the switch port's end what it receives), changed in place, existing
 *   connections included;
 * - loss: iptables `statistic --mode random` DROP rules in the host's namespace, in a
 *   chain of our own (SHOAL_LOSS) hooked into INPUT and OUTPUT for the host's device;
 * - delay: not here; see delay-proxy.ts (a user-space proxy in front of the node's port).
 * Every command runs inside the lab's namespaces; nothing touches the host's own.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { NetnsHost, NetnsLab } from '../netns.js'
import { runLabScript, shellCommand } from './batch.js'
import { EmulationError } from './errors.js'

const run = promisify(execFile)

export interface LinkShape {
  /** bandwidth of the host's link in kbit/s, each direction; undefined or 0: unlimited */
  rateKbit?: number
  /** share of packets dropped, each direction, in percent (0..100); undefined or 0: none */
  lossPercent?: number
}

const LOSS_CHAIN = 'SHOAL_LOSS'

/** tbf's burst must hold at least one rate tick of data; 32 kbit or rate/100, whichever is more (bytes) */
function burstBytes (rateKbit: number): number {
  return Math.max(4096, Math.ceil(rateKbit * 1000 / 8 / 100))
}

function rateLines (namespace: string, device: string, rateKbit: number | undefined): string[] {
  const tc = (...args: string[]): string => shellCommand(['ip', 'netns', 'exec', namespace, 'tc', 'qdisc', ...args])
  // nothing to delete is fine: the link was not shaped
  if (rateKbit === undefined || rateKbit <= 0) return [`${tc('del', 'dev', device, 'root')} 2>/dev/null || true`]
  return [tc('replace', 'dev', device, 'root', 'tbf', 'rate', `${Math.round(rateKbit)}kbit`, 'burst', String(burstBytes(rateKbit)), 'latency', '400ms')]
}

function lossLines (host: NetnsHost, lossPercent: number | undefined): string[] {
  const iptables = (...args: string[]): string => shellCommand(['ip', 'netns', 'exec', host.namespace, 'iptables', '-w', ...args])
  return [
    // the chain is created once per host, hooked for its device in both directions
    `${iptables('-n', '-L', LOSS_CHAIN)} >/dev/null 2>&1 || { ${iptables('-N', LOSS_CHAIN)} && ${iptables('-A', 'INPUT', '-i', host.device, '-j', LOSS_CHAIN)} && ${iptables('-A', 'OUTPUT', '-o', host.device, '-j', LOSS_CHAIN)}; }`,
    iptables('-F', LOSS_CHAIN),
    ...(lossPercent !== undefined && lossPercent > 0 ? [iptables('-A', LOSS_CHAIN, '-m', 'statistic', '--mode', 'random', '--probability', (lossPercent / 100).toFixed(6), '-j', 'DROP')] : [])
  ]
}

/** Sets the host's bandwidth and loss (each omitted or 0 removes that condition), in one child process (batch.ts). */
export async function shapeLink (lab: NetnsLab, name: string, shape: LinkShape): Promise<void> {
  const host = lab.hosts.get(name)
  if (host === undefined) throw new EmulationError('EMULATION_ERROR_UNKNOWN_HOST', `no host "${name}" in lab ${lab.id}`)
  if (shape.lossPercent !== undefined && (shape.lossPercent < 0 || shape.lossPercent > 100)) throw new EmulationError('EMULATION_ERROR_SHAPE', `loss must be within 0..100 %, not ${shape.lossPercent}`)
  await runLabScript(`shaping the link of ${name}`, [
    rateLines(host.namespace, host.device, shape.rateKbit),
    rateLines(lab.hub, host.switchPort, shape.rateKbit),
    lossLines(host, shape.lossPercent)
  ])
}

/** What `tc` and `iptables` say is on the host's link (for tests and the report). */
export async function describeLink (lab: NetnsLab, name: string): Promise<{ qdisc: string, lossRules: string }> {
  const host = lab.hosts.get(name)
  if (host === undefined) throw new EmulationError('EMULATION_ERROR_UNKNOWN_HOST', `no host "${name}" in lab ${lab.id}`)
  const qdisc = (await run('ip', ['netns', 'exec', host.namespace, 'tc', 'qdisc', 'show', 'dev', host.device], { timeout: 10_000 })).stdout
  const lossRules = (await run('ip', ['netns', 'exec', host.namespace, 'iptables', '-w', '-S', LOSS_CHAIN], { timeout: 10_000 }).catch(() => ({ stdout: '' }))).stdout
  return { qdisc, lossRules }
}
