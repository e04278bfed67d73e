import { expect } from 'chai'
import { createCpuRunnerServer, type CpuRunnerServer } from '../../../src/cpu-runner/server.js'
import { loadMatte, composite, type Matte } from '../../../src/cpu-runner/live/matte.js'
import { LIVE_MODEL_ID } from '../../../src/cpu-runner/live/model.js'
import { startTrickleServer, type TrickleServer } from '../../../src/protocols/live/trickle/server.js'
import { tricklePublish, trickleSubscribe } from '../../../src/protocols/live/trickle/client.js'
import { decodeFrames, personSegments, psnr } from '../../protocols/live/media.js'

describe('cpu-runner/live: live-video-to-video on the four trickle channels', function () {
  this.timeout(120_000)
  let trickle: TrickleServer
  let runner: CpuRunnerServer
  let matte: Matte

  before(async () => {
    trickle = await startTrickleServer()
    runner = createCpuRunnerServer({ pipeline: 'live-video-to-video', modelId: LIVE_MODEL_ID, port: 0 })
    await runner.start()
    matte = await loadMatte()
  })
  after(async () => {
    await runner?.stop()
    await trickle?.stop()
    matte?.close()
  })

  it('replaces the background of every frame with the model\'s mask, one output segment per input segment, and reports status', async () => {
    const segments = await personSegments({ size: 128, fps: 10, seconds: 2 })
    expect(segments).to.have.length(2)
    for (const name of ['in', 'out', 'control', 'events']) trickle.store.create(`s1-${name}`)
    const res = await fetch(`${runner.url}/live-video-to-video`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model_id: LIVE_MODEL_ID, subscribe_url: trickle.channelUrl('s1-in'), publish_url: trickle.channelUrl('s1-out'), control_url: trickle.channelUrl('s1-control'), events_url: trickle.channelUrl('s1-events'), params: { background: '#ff0000' }, stream_id: 's1' })
    })
    expect(res.status, await res.clone().text()).to.equal(200)
    const outputs: Uint8Array[] = []
    const reading = (async () => {
      for await (const { data } of trickleSubscribe(trickle.channelUrl('s1-out'), { from: 0 })) {
        outputs.push(data)
        if (outputs.length === segments.length) break
      }
    })()
    for (const [i, s] of segments.entries()) await tricklePublish(trickle.channelUrl('s1-in'), i, s)
    await reading
    for (const [i, s] of segments.entries()) {
      const input = await decodeFrames(s)
      const output = await decodeFrames(outputs[i])
      expect(output.width).to.equal(input.width)
      expect(output.frames.length).to.equal(input.frames.length)
      let modelWins = 0
      for (const [k, frame] of input.frames.entries()) {
        const expected = composite(frame, await matte.alpha(frame, input.width, input.height), [255, 0, 0])
        const vsModel = psnr(expected, output.frames[k])
        const vsInput = psnr(frame, output.frames[k])
        expect(vsModel, `frame ${k} of segment ${i}`).to.be.greaterThan(28)
        if (vsModel > vsInput + 3) modelWins++
      }
      expect(modelWins).to.equal(input.frames.length)
    }
    // status events on the events channel
    const events: Array<Record<string, unknown>> = []
    for await (const { data } of trickleSubscribe(trickle.channelUrl('s1-events'), { from: 0 })) {
      events.push(JSON.parse(Buffer.from(data).toString()) as Record<string, unknown>)
      if (events.some(e => e.type === 'status' && e.state === 'ONLINE')) break
    }
    const online = events.find(e => e.state === 'ONLINE') as Record<string, unknown>
    expect(online.last_params).to.deep.equal({ background: '#ff0000' })
    expect(online.frames_out).to.be.greaterThan(0)
    trickle.store.delete('s1-in')
  })
})
