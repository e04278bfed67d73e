/**
 * docker/k8s: the Kubernetes manifests parse, use the image the repo builds, agree with
 * compose.yaml and the Dockerfile on ports and the entry point's variables, and every
 * container's command line, SHOAL_* environment and config file is accepted by the real
 * CLI parsers of its command (unknown flags, env names or config keys fail here). No
 * cluster runs them here (none on these machines): this checks what can be checked
 * without one.
 */
import { expect } from 'chai'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { Argv, CommandModule } from 'yargs'
import { parse, parseAllDocuments } from 'yaml'
import { getShoalCli } from '../../src/cli/main.js'
import { bootstrapCommand } from '../../src/cli/commands/bootstrap.js'
import { gatewayCommand } from '../../src/cli/commands/gateway.js'
import { orchestratorCommand } from '../../src/cli/commands/orchestrator.js'
import { parseNodeArgs } from '../../src/cli/options/node.js'
import { parseOrchestratorArgs, readModels } from '../../src/cli/options/orchestrator.js'
import { parseGatewayArgs } from '../../src/cli/options/gateway.js'
import { parsePaymentArgs } from '../../src/cli/options/payments.js'

const ROOT = join(import.meta.dirname, '..', '..')
const K8S = join(ROOT, 'docker', 'k8s')
/** a valid peer id standing for the bootstrap's (the Secret's peer-id) */
const PEER_ID = '12D3KooWGn7hRdHEs9choQHyEjBNm6vpXg1XBjwXSj51UVGSuNY1'

interface EnvVar { name: string, value?: string, valueFrom?: { configMapKeyRef?: { name: string, key: string }, fieldRef?: { fieldPath: string } } }
interface Container { name: string, image: string, command?: string[], args?: string[], env?: EnvVar[], envFrom?: Array<{ configMapRef?: { name: string } }>, ports?: Array<{ name?: string, containerPort: number, protocol?: string }>, volumeMounts?: Array<{ name: string, mountPath: string }>, readinessProbe?: { httpGet?: { path: string, port: number } } }
interface Volume { name: string, configMap?: { name: string }, secret?: { secretName: string, items?: Array<{ key: string, path: string }> }, emptyDir?: object }
interface PodSpec { containers: Container[], initContainers?: Container[], volumes?: Volume[], securityContext?: { runAsUser?: number, fsGroup?: number, fsGroupChangePolicy?: string } }
interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string }
  data?: Record<string, string>
  spec?: { serviceName?: string, clusterIP?: string, selector?: Record<string, unknown>, ports?: Array<{ name: string, port: number, targetPort: number, protocol: string }>, template?: { metadata: { labels: Record<string, string> }, spec: PodSpec }, volumeClaimTemplates?: Array<{ metadata: { name: string } }> }
}

async function manifests (): Promise<Manifest[]> {
  const kustomization = parse(await readFile(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
  const out: Manifest[] = []
  for (const file of kustomization.resources) {
    for (const doc of parseAllDocuments(await readFile(join(K8S, file), 'utf8'))) {
      expect(doc.errors, file).to.deep.equal([])
      out.push(doc.toJS() as Manifest)
    }
  }
  return out
}

const find = (all: Manifest[], kind: string, name: string): Manifest => {
  const m = all.find(x => x.kind === kind && x.metadata.name === name)
  expect(m, `${kind}/${name}`).to.not.equal(undefined)
  return m as Manifest
}
const podOf = (m: Manifest): PodSpec => m.spec?.template?.spec as PodSpec
const mainContainer = (m: Manifest): Container => podOf(m).containers[0]
/** the port of the first --listen (or of a flag) in an argv */
const flagValue = (argv: string[], flag: string): string | undefined => { const i = argv.indexOf(flag); return i < 0 ? undefined : argv[i + 1] }
const portOf = (multiaddr: string | undefined): number => Number(/\/(?:tcp|udp)\/(\d+)/.exec(multiaddr ?? '')?.[1])

/** The variables the image's entry point reads (docker/entrypoint.sh), beside the CLI's own. */
async function entrypointVariables (): Promise<Set<string>> {
  const text = await readFile(join(ROOT, 'docker', 'entrypoint.sh'), 'utf8')
  return new Set([...text.matchAll(/\$\{?(SHOAL_[A-Z_]+)/g)].map(m => m[1] as string))
}

describe('docker/k8s: Kubernetes manifests agree with the image, compose.yaml and the CLI (no cluster here)', function () {
  this.timeout(20_000)
  let all: Manifest[]
  let compose: { services: Record<string, { image: string, build?: { dockerfile: string }, command?: string[] | string, environment?: Record<string, string>, ports?: string[] }> }
  let dir: string

  before(async () => {
    all = await manifests()
    compose = parse(await readFile(join(ROOT, 'docker', 'compose.yaml'), 'utf8'), { merge: true })
    dir = await mkdtemp(join(tmpdir(), 'shoal-k8s-'))
  })
  after(async () => {
    for (const key of Object.keys(process.env)) if (key.startsWith('SHOAL_')) Reflect.deleteProperty(process.env, key)
    await rm(dir, { recursive: true, force: true })
  })

  it('lists every manifest file in kustomization.yaml; each object has a kind and a name, one namespace', async () => {
    const files = (await readdir(K8S)).filter(f => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()
    const kustomization = parse(await readFile(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[], namespace: string }
    expect([...kustomization.resources].sort()).to.deep.equal(files)
    for (const m of all) expect(m.apiVersion, m.metadata.name).to.be.a('string')
    expect(all.map(m => `${m.kind}/${m.metadata.name}`).sort()).to.deep.equal([
      'ConfigMap/shoal-env', 'ConfigMap/shoal-files', 'Deployment/shoal-gateway', 'Namespace/shoal',
      'Service/shoal-bootstrap', 'Service/shoal-gateway', 'Service/shoal-orchestrator',
      'StatefulSet/shoal-bootstrap', 'StatefulSet/shoal-orchestrator'
    ])
    expect(find(all, 'Namespace', kustomization.namespace).kind).to.equal('Namespace')
  })

  it('runs the image compose.yaml builds from docker/Dockerfile.node, and exposes only ports the Dockerfile exposes', async () => {
    const built = Object.values(compose.services).find(s => s.build?.dockerfile === 'docker/Dockerfile.node')
    expect(built?.image).to.equal('shoal/node:latest')
    const exposed = /^EXPOSE (.+)$/m.exec(await readFile(join(ROOT, 'docker', 'Dockerfile.node'), 'utf8'))?.[1].split(/\s+/).map(Number) ?? []
    for (const m of all.filter(x => x.spec?.template !== undefined)) {
      for (const c of [...podOf(m).containers, ...(podOf(m).initContainers ?? [])]) {
        expect(c.image, `${m.metadata.name}/${c.name}`).to.equal(built?.image)
        for (const p of c.ports ?? []) expect(exposed, `${m.metadata.name} port ${p.containerPort}`).to.include(p.containerPort)
      }
    }
  })

  it('runs as the image\'s user, and keeps key files private across restarts (no group bits added by the kubelet)', async () => {
    expect(await readFile(join(ROOT, 'docker', 'Dockerfile.node'), 'utf8')).to.match(/^USER node$/m)
    for (const m of all.filter(x => x.spec?.template !== undefined)) {
      const sc = podOf(m).securityContext
      // `node` is uid 1000 in the node:20-slim image
      expect(sc, m.metadata.name).to.deep.include({ runAsUser: 1000, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' })
    }
  })

  it('listens on the ports compose.yaml uses, and every Service targets a port its pods declare', () => {
    const composeCommand = (name: string): string[] => { const c = compose.services[name].command; return Array.isArray(c) ? c.map(String) : String(c).split(/\s+/) }
    const bootstrapCompose = portOf(/--listen (\S+)/.exec(composeCommand('bootstrap').join(' '))?.[1])
    const orchestratorCompose = portOf(flagValue(composeCommand('orchestrator-a'), '--listen'))
    const gatewayCompose = Number(flagValue(composeCommand('gateway'), '--http-port'))
    expect([bootstrapCompose, orchestratorCompose, gatewayCompose]).to.deep.equal([4001, 4002, 8935])
    expect(portOf(flagValue(mainContainer(find(all, 'StatefulSet', 'shoal-bootstrap')).args ?? [], '--listen'))).to.equal(bootstrapCompose)
    expect(portOf(flagValue(mainContainer(find(all, 'StatefulSet', 'shoal-orchestrator')).args ?? [], '--listen'))).to.equal(orchestratorCompose)
    const files = find(all, 'ConfigMap', 'shoal-files').data as Record<string, string>
    expect((JSON.parse(files['gateway.json']) as { httpPort: number }).httpPort).to.equal(gatewayCompose)
    expect(mainContainer(find(all, 'Deployment', 'shoal-gateway')).readinessProbe?.httpGet?.port).to.equal(gatewayCompose)
    for (const [service, workload] of [['shoal-bootstrap', find(all, 'StatefulSet', 'shoal-bootstrap')], ['shoal-orchestrator', find(all, 'StatefulSet', 'shoal-orchestrator')], ['shoal-gateway', find(all, 'Deployment', 'shoal-gateway')]] as const) {
      const s = find(all, 'Service', service)
      // the selector picks the workload's pods
      for (const [k, v] of Object.entries(s.spec?.selector ?? {})) expect(workload.spec?.template?.metadata.labels[k], `${service} selector ${k}`).to.equal(v)
      const declared = mainContainer(workload).ports ?? []
      for (const p of s.spec?.ports ?? []) {
        expect(declared.some(d => d.containerPort === p.targetPort && (d.protocol ?? 'TCP') === p.protocol), `${service} ${p.name}`).to.equal(true)
      }
      if (workload.kind === 'StatefulSet') {
        expect(workload.spec?.serviceName).to.equal(service)
        expect(s.spec?.clusterIP, 'a StatefulSet\'s governing Service is headless').to.equal('None')
        expect(workload.spec?.volumeClaimTemplates?.map(v => v.metadata.name), 'keys on a volume of their own').to.deep.equal(['data'])
      }
    }
  })

  it('finds the bootstrap as compose.yaml does: the entry point\'s variables, the bootstrap pod\'s DNS name and port, its peer id from the Secret', async () => {
    const env = find(all, 'ConfigMap', 'shoal-env').data as Record<string, string>
    const composeEnv = compose.services['orchestrator-a'].environment ?? {}
    const entry = await entrypointVariables()
    for (const name of Object.keys(composeEnv)) expect(entry, `compose's ${name}`).to.include(name)
    expect(Object.keys(env).filter(k => entry.has(k)).sort()).to.deep.equal(Object.keys(composeEnv).sort())
    const bootstrap = find(all, 'StatefulSet', 'shoal-bootstrap')
    expect(env.SHOAL_BOOTSTRAP_ADDR).to.equal(`/dns4/${bootstrap.metadata.name}-0.${String(bootstrap.spec?.serviceName)}/tcp/${portOf(flagValue(mainContainer(bootstrap).args ?? [], '--listen'))}`)
    // where the peer id file is mounted in every node that joins through the bootstrap
    for (const m of [find(all, 'StatefulSet', 'shoal-orchestrator'), find(all, 'Deployment', 'shoal-gateway')]) {
      const c = mainContainer(m)
      expect(c.envFrom?.map(e => e.configMapRef?.name)).to.deep.equal(['shoal-env'])
      const mount = c.volumeMounts?.find(v => v.mountPath === dirname(env.SHOAL_BOOTSTRAP_PEER_FILE))
      const volume = podOf(m).volumes?.find(v => v.name === mount?.name)
      expect(volume?.secret?.secretName, m.metadata.name).to.equal('shoal-bootstrap-keys')
      expect(volume?.secret?.items, 'only the peer id, not the keys').to.deep.equal([{ key: 'peer-id', path: basename(env.SHOAL_BOOTSTRAP_PEER_FILE) }])
    }
    // the bootstrap's own keys from the same Secret, the file names the node reads
    const keys = podOf(bootstrap).volumes?.find(v => v.secret !== undefined)
    expect(keys?.secret?.items?.map(i => i.path)).to.deep.equal(['libp2p.key', 'ethereum.key'])
    expect(mainContainer(bootstrap).envFrom, 'the bootstrap must not get SHOAL_BOOTSTRAP_* (itself)').to.equal(undefined)
  })

  it('every node\'s command line, SHOAL_* environment and config file are accepted by its command\'s own parsers', async () => {
    const env = find(all, 'ConfigMap', 'shoal-env').data as Record<string, string>
    const files = find(all, 'ConfigMap', 'shoal-files').data as Record<string, string>
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    const entry = await entrypointVariables()
    const commands: Record<string, CommandModule> = { bootstrap: bootstrapCommand, orchestrator: orchestratorCommand, gateway: gatewayCommand }
    const workloads = [find(all, 'StatefulSet', 'shoal-bootstrap'), find(all, 'StatefulSet', 'shoal-orchestrator'), find(all, 'Deployment', 'shoal-gateway')]
    const seen: string[] = []
    for (const m of workloads) {
      const c = mainContainer(m)
      const role = (c.args ?? [])[0] as 'bootstrap' | 'orchestrator' | 'gateway'
      seen.push(role)
      // the container's environment as the kubelet builds it: envFrom, then env
      const vars: Record<string, string> = {}
      for (const from of c.envFrom ?? []) Object.assign(vars, find(all, 'ConfigMap', from.configMapRef?.name as string).data)
      for (const v of c.env ?? []) {
        const ref = v.valueFrom?.configMapKeyRef
        vars[v.name] = v.value ?? (ref !== undefined ? (find(all, 'ConfigMap', ref.name).data as Record<string, string>)[ref.key] : v.valueFrom?.fieldRef?.fieldPath === 'status.podIP' ? '10.1.2.3' : '')
        expect(vars[v.name], `${m.metadata.name} ${v.name}`).to.not.equal(undefined)
      }
      // $(VAR) in args, as Kubernetes expands them; the ConfigMap's files at /config
      let argv = (c.args ?? []).map(a => a.replace(/\$\(([A-Z_]+)\)/g, (_, n: string) => vars[n] ?? `$(${n})`).replace(/^\/config\//, `${dir}/`).replace(/^\/data$/, join(dir, role)))
      expect(argv.join(' '), 'every $(VAR) is defined').to.not.match(/\$\(/)
      // the entry point's part (docker/entrypoint.sh): --bootstrap <addr>/p2p/<peer id>
      if (vars.SHOAL_BOOTSTRAP_ADDR !== undefined && vars.SHOAL_BOOTSTRAP_PEER_FILE !== undefined) argv = [...argv, '--bootstrap', `${vars.SHOAL_BOOTSTRAP_ADDR}/p2p/${PEER_ID}`]
      for (const key of Object.keys(process.env)) if (key.startsWith('SHOAL_')) Reflect.deleteProperty(process.env, key)
      const shoalVars = Object.keys(vars).filter(k => k.startsWith('SHOAL_') && !entry.has(k))
      for (const k of shoalVars) process.env[k] = vars[k]
      let parsed: Record<string, unknown> | undefined
      // the flags the command declares (yargs takes any SHOAL_* variable, declared or not;
      // getOptions is yargs' own, left out of its type declarations)
      let declared = new Set<string>()
      const builder = commands[role].builder as (y: Argv) => Argv
      await getShoalCli(argv, {
        [role]: {
          ...commands[role],
          builder: (y: Argv) => { const built = builder(y); declared = new Set(Object.keys((built as unknown as { getOptions: () => { key: Record<string, unknown> } }).getOptions().key)); return built },
          handler: (a: Record<string, unknown>) => { parsed = a }
        }
      }).parseAsync()
      expect(parsed, role).to.not.equal(undefined)
      const args = parsed as Record<string, unknown>
      // each SHOAL_* variable names a flag of this command (yargs would ignore a misspelt one)
      for (const k of shoalVars) {
        const camel = k.slice('SHOAL_'.length).toLowerCase().replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())
        const kebab = camel.replace(/[A-Z]/g, ch => `-${ch.toLowerCase()}`)
        expect(declared.has(camel) || declared.has(kebab), `${m.metadata.name}: ${k} is no flag of \`shoal ${role}\``).to.equal(true)
        expect(args).to.have.property(camel)
      }
      const node = parseNodeArgs(role, args)
      expect(node.dataDir).to.equal(join(dir, role))
      if (role !== 'bootstrap') {
        expect(node.bootstrap.map(String), role).to.deep.equal([`${env.SHOAL_BOOTSTRAP_ADDR}/p2p/${PEER_ID}`])
        expect(parsePaymentArgs(args).enabled, 'payments off, from SHOAL_PAYMENTS').to.equal(false)
      }
      if (role === 'orchestrator') {
        const o = parseOrchestratorArgs(node, args)
        expect(o.aiLimits.quoteTimeoutMs, 'quoteTimeout from orchestrator.json').to.equal(2_000)
        expect((await readModels(o.aiModelsPath)).map(x => x.modelId)).to.deep.equal(['upscalerjs/esrgan-slim-x2', 'upscalerjs/esrgan-slim-x4'])
        expect(node.announce.map(String)).to.deep.equal(['/ip4/10.1.2.3/tcp/4002'])
      }
      if (role === 'gateway') expect(parseGatewayArgs(args).http).to.deep.include({ host: '0.0.0.0', port: 8935 })
      if (role === 'bootstrap') expect(node.relayServer, '--relay-server').to.not.equal(false)
    }
    expect(seen).to.deep.equal(['bootstrap', 'orchestrator', 'gateway'])
  })
})
