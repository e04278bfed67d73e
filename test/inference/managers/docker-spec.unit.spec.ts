import { expect } from 'chai'
import {
  DEFAULT_RUNNER_IMAGE, containerName, containerSpec, runnerImage
} from '../../../src/inference/managers/docker-spec.js'
import { demuxLogs } from '../../../src/inference/managers/docker-engine.js'
import { createDockerRunnerManager } from '../../../src/inference/managers/docker.js'
import { entry } from '../fixtures.js'

describe('inference/managers/docker-spec: what a runner container is made of', () => {
  it('uses the ai-runner image of the pipeline unless configured otherwise', () => {
    expect(runnerImage('text-to-image', {}, DEFAULT_RUNNER_IMAGE)).to.equal('livepeer/ai-runner:latest')
    expect(runnerImage('segment-anything-2', {}, DEFAULT_RUNNER_IMAGE)).to.equal('livepeer/ai-runner:segment-anything-2')
    expect(runnerImage('llm', {}, DEFAULT_RUNNER_IMAGE)).to.equal('livepeer/ai-runner:llm')
    expect(runnerImage('llm', { llm: 'me/llm:1' }, DEFAULT_RUNNER_IMAGE)).to.equal('me/llm:1')
    expect(runnerImage('upscale', {}, 'me/base:2')).to.equal('me/base:2')
  })

  it('names containers <prefix>-<pipeline>_<model>_<port> with characters Docker accepts', () => {
    expect(containerName('shoal', 'text-to-image', 'stabilityai/sd-turbo', 49152)).to.equal('shoal-text-to-image_stabilityai-sd-turbo_49152')
    expect(containerName('o1', 'llm', 'org/Model:v1 @x', 8000)).to.equal('o1-llm_org-Model-v1-x_8000')
    const long = containerName('shoal', 'llm', 'a'.repeat(400), 65535)
    expect(long).to.have.length(200)
    expect(long.endsWith('_65535')).to.equal(true)
  })

  it('builds create options: env, labels, 127.0.0.1 port, /models mount, init, one GPU per container', () => {
    const spec = containerSpec({
      entry: entry({ pipeline: 'text-to-image', modelId: 'stabilityai/sd-turbo', optimizationFlags: { SFAST: true, DEEPCACHE: 0 } }),
      image: 'livepeer/ai-runner:latest',
      name: 'shoal-text-to-image_stabilityai-sd-turbo_41000',
      owner: '12D3KooWOwner',
      slot: 3,
      gpu: '1',
      token: 'tok',
      modelsDir: '/srv/models',
      hostIp: '127.0.0.1',
      hostPort: 41000,
      network: null,
      env: { HUGGINGFACE_TOKEN: 'hf', PIPELINE: 'overridden' }
    })
    expect(spec.Image).to.equal('livepeer/ai-runner:latest')
    expect(spec.name).to.equal('shoal-text-to-image_stabilityai-sd-turbo_41000')
    expect(spec.Env).to.have.members(['HUGGINGFACE_TOKEN=hf', 'SFAST=true', 'DEEPCACHE=0', 'PIPELINE=text-to-image', 'MODEL_ID=stabilityai/sd-turbo', 'AUTH_TOKEN=tok', 'MODEL_DIR=/models'])
    expect(spec.ExposedPorts).to.deep.equal({ '8000/tcp': {} })
    expect(spec.Labels).to.deep.equal({ 'shoal.managed': '12D3KooWOwner', 'shoal.pipeline': 'text-to-image', 'shoal.model-id': 'stabilityai/sd-turbo', 'shoal.slot': '3', 'shoal.gpu': '1' })
    expect(spec.HostConfig).to.deep.equal({
      Init: true,
      PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }] },
      Mounts: [{ Type: 'bind', Source: '/srv/models', Target: '/models' }],
      DeviceRequests: [{ Driver: '', Count: 0, DeviceIDs: ['1'], Capabilities: [['gpu']], Options: {} }]
    })
  })

  it('on CPU and on a Docker network: no device request, no published port', () => {
    const spec = containerSpec({
      entry: entry({ pipeline: 'upscale', modelId: 'shoal/noop' }),
      image: 'shoal/cpu-runner:test',
      name: 'n',
      owner: 'o',
      slot: 0,
      gpu: null,
      token: 't',
      modelsDir: null,
      hostIp: '127.0.0.1',
      hostPort: null,
      network: 'shoal-net',
      env: {}
    })
    expect(spec.HostConfig).to.deep.equal({ Init: true, NetworkMode: 'shoal-net' })
    expect(spec.Env).to.not.include('MODEL_DIR=/models')
  })

  it('reads Docker multiplexed log frames', () => {
    const frame = (stream: number, text: string): Buffer => {
      const header = Buffer.alloc(8)
      header[0] = stream
      header.writeUInt32BE(Buffer.byteLength(text), 4)
      return Buffer.concat([header, Buffer.from(text)])
    }
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).to.equal('out\nerr\n')
    expect(demuxLogs(Buffer.from('plain text from a TTY'))).to.equal('plain text from a TTY')
  })

  it('refuses a configuration it cannot honour, before touching Docker', () => {
    const noop = entry({ pipeline: 'upscale', modelId: 'shoal/noop', warm: true })
    expect(() => createDockerRunnerManager({ entries: [noop], owner: '' })).to.throw(TypeError, /owner/)
    expect(() => createDockerRunnerManager({ entries: [{ ...noop, url: 'http://127.0.0.1:1' }], owner: 'o' })).to.throw(TypeError, /external/)
    expect(() => createDockerRunnerManager({ entries: [noop, entry({ pipeline: 'llm', modelId: 'x', warm: true })], owner: 'o', gpus: ['0'] })).to.throw(TypeError, /2 warm entries but only 1 container slots/)
    expect(() => createDockerRunnerManager({ entries: [noop], owner: 'o', namePrefix: '-bad' })).to.throw(TypeError, /namePrefix/)
    expect(() => createDockerRunnerManager({ entries: [noop], owner: 'o', modelsDir: 'relative/models' })).to.throw(TypeError, /absolute/)
    // two GPUs x 2 containers: four warm entries fit
    const four = ['a', 'b', 'c', 'd'].map((m) => entry({ pipeline: 'llm', modelId: m, warm: true }))
    expect(() => createDockerRunnerManager({ entries: four, owner: 'o', gpus: ['0', '1'], containersPerGpu: 2 })).to.not.throw()
  })
})
