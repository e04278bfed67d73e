import { expect } from 'chai'
import { createRecentRequests } from '../../../src/gateway/dashboard/index.js'

describe('gateway/dashboard: recent requests', () => {
  it('keeps the last N requests, newest first, completed in place', () => {
    let t = 1_000
    const recent = createRecentRequests(3, () => t)
    const ends = ['a', 'b', 'c', 'd'].map(id => recent.start({ requestId: id, pipeline: 'llm', modelId: 'm' }))
    expect(recent.list().map(r => r.requestId)).to.deep.equal(['d', 'c', 'b'])
    expect(recent.list()[0]?.status).to.equal(undefined)
    t = 1_250
    ends[3]?.({ status: 200, orchestrator: 'peer-1', attempts: [{ peerId: 'peer-0', outcome: 'busy', ms: 3.4 }, { peerId: 'peer-1', outcome: 'success', ms: 120.6 }] })
    // a request already pushed out of the ring completes without coming back
    ends[0]?.({ status: 503, errorCode: 'GATEWAY_ERROR_NO_ORCHESTRATOR', attempts: [] })
    const [d] = recent.list()
    expect(d).to.deep.include({ requestId: 'd', status: 200, durationMs: 250, orchestrator: 'peer-1' })
    expect(d?.attempts).to.deep.equal([{ peerId: 'peer-0', outcome: 'busy', ms: 3 }, { peerId: 'peer-1', outcome: 'success', ms: 121 }])
    expect(recent.list().map(r => r.requestId)).to.deep.equal(['d', 'c', 'b'])
  })
})
