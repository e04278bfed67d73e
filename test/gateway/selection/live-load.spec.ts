import { expect } from 'chai'
import { createLiveLoad } from '../../../src/gateway/selection/live-load.js'
import { candidate } from '../helpers.js'

describe('gateway selection: live load', () => {
  it('replaces announced slots with a fresh report, and ignores it once stale', () => {
    const live = createLiveLoad({ ttlMs: 1000 })
    const c = candidate('p', { capacity: 4, inUse: 0 })
    live.observe('p', 'upscale', 'esrgan-slim', { capacity: 2, inUse: 2 }, 10_000)
    expect(live.apply(c, 10_500)).to.include({ capacity: 2, inUse: 2 })
    expect(live.apply(c, 11_001)).to.include({ capacity: 4, inUse: 0 })
    // per model: another model of the same peer keeps its announced slots
    expect(live.apply(candidate('p', { modelId: 'other' }), 10_500)).to.include({ capacity: 4, inUse: 0 })
  })

  it('marks a busy answer full for busyMs, and a later report of a free slot ends it', () => {
    const live = createLiveLoad({ busyMs: 200 })
    const c = candidate('p', { capacity: 3, inUse: 0 })
    live.busy('p', { pipeline: 'upscale', modelId: 'esrgan-slim' }, 1000)
    expect(live.apply(c, 1100)).to.include({ capacity: 3, inUse: 3 })
    expect(live.apply(c, 1201)).to.include({ capacity: 3, inUse: 0 })
    live.busy('p', { pipeline: 'upscale', modelId: 'esrgan-slim' }, 2000)
    live.observe('p', 'upscale', 'esrgan-slim', { capacity: 3, inUse: 1 }, 2050)
    expect(live.apply(c, 2100)).to.include({ capacity: 3, inUse: 1 })
  })

  it('tells listeners when a report shows a free slot, and only then', () => {
    const live = createLiveLoad()
    const heard: string[] = []
    const off = live.onSlotFree((peerId, pipeline, modelId) => heard.push(`${peerId}/${pipeline}/${modelId}`))
    live.observe('p', 'upscale', 'm', { capacity: 1, inUse: 1 }, 0)
    live.observe('p', 'upscale', 'm', { capacity: 1, inUse: 0 }, 1)
    off()
    live.observe('q', 'upscale', 'm', { capacity: 1, inUse: 0 }, 2)
    expect(heard).to.deep.equal(['p/upscale/m'])
  })

  it('bounds what it keeps', () => {
    const live = createLiveLoad({ maxEntries: 10 })
    for (let i = 0; i < 50; i++) live.observe(`p${i}`, 'upscale', 'esrgan-slim', { capacity: 1, inUse: 1 }, 0)
    expect(live.apply(candidate('p0', { capacity: 5 }), 1)).to.include({ capacity: 5, inUse: 0 })
    expect(live.apply(candidate('p49', { capacity: 5 }), 1)).to.include({ capacity: 1, inUse: 1 })
  })
})
