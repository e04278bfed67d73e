import { expect } from 'chai'
import { createJobQueue } from '../../src/cpu-runner/job-queue.js'

describe('cpu-runner/job-queue: the runner job limiter', () => {
  it('runs `concurrency` jobs, queues the rest in order, and refuses beyond the queue with RunnerBusyError', async () => {
    const queue = createJobQueue(1, 2)
    const signal = new AbortController().signal
    const first = await queue.acquire(signal)
    const order: number[] = []
    const second = queue.acquire(signal).then((release) => { order.push(2); return release })
    const third = queue.acquire(signal).then((release) => { order.push(3); return release })
    expect([queue.running, queue.waiting]).to.deep.equal([1, 2])
    const err = await queue.acquire(signal).then(() => null, (e) => e)
    expect(err).to.have.property('name', 'RunnerBusyError')
    expect(err).to.have.property('code', 'CPU_RUNNER_ERROR_BUSY')
    first()
    first() // a second release is ignored
    ;(await second)()
    ;(await third)()
    expect(order).to.deep.equal([2, 3])
    expect([queue.running, queue.waiting]).to.deep.equal([0, 0])
  })

  it('drops a waiting job whose signal aborts', async () => {
    const queue = createJobQueue(1, 4)
    const release = await queue.acquire(new AbortController().signal)
    const controller = new AbortController()
    const waiting = queue.acquire(controller.signal)
    controller.abort(new Error('client gone'))
    expect(await waiting.then(() => null, (e) => e)).to.have.property('message', 'client gone')
    expect(queue.waiting).to.equal(0)
    release()
    expect(queue.running).to.equal(0)
  })
})
