import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { expect } from 'chai'
import { createLibp2p } from 'libp2p'
import { AI_PROTOCOL, aiClient, aiProtocol } from '../../../src/protocols/ai/index.js'
import { bodyOf, noopJob, readAll } from './helpers.js'

describe('protocols/ai as libp2p services', () => {
  it('registers on start, serves jobs, and ends them on stop', async () => {
    let running: AbortSignal | undefined
    const server = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        ai: aiProtocol({
          executor: {
            execute: async (job, ctx) => {
              if (job.params.prompt === 'hang') {
                running = ctx.signal
                await new Promise(resolve => ctx.signal.addEventListener('abort', resolve))
              }
              return { status: 200, contentType: 'text/plain', body: bodyOf(`served ${String(job.params.prompt)}`) }
            }
          }
        })
      }
    })
    const client = await createLibp2p({
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { ai: aiClient() }
    })
    try {
      expect(server.getProtocols()).to.include(AI_PROTOCOL)
      await client.dial(server.getMultiaddrs()[0])
      const res = await client.services.ai.runJob(server.peerId, noopJob('as a service'))
      expect(Buffer.from(await readAll(res.body)).toString()).to.equal('served as a service')

      const hanging = client.services.ai.runJob(server.peerId, noopJob('hang')).catch(e => e)
      while (running === undefined) await new Promise(resolve => setTimeout(resolve, 10))
      await server.services.ai.stop()
      expect(running.aborted).to.equal(true)
      const err = await hanging
      expect(err).to.have.property('code').that.matches(/^JOB_ERROR_/)
      expect(server.getProtocols()).to.not.include(AI_PROTOCOL)
    } finally {
      await client.stop()
      await server.stop()
    }
  })
})
