import { expect } from 'chai'
import { launchNice } from '../../../src/testnet/emulation/priority.js'

describe('testnet/emulation/priority: the nice value a node starts at', () => {
  it('in the mesh\'s start-up: the startup priority where it is higher than the role\'s', () => {
    expect(launchNice(0, -10, 'initial')).to.equal(-10)
    // the gateway's own is already higher: it keeps it
    expect(launchNice(-15, -10, 'initial')).to.equal(-15)
    expect(launchNice(5, undefined, 'initial')).to.equal(5)
  })

  it('a restart while the mesh serves load: the role\'s, whatever the startup priority', () => {
    expect(launchNice(0, -10, 'restart')).to.equal(0)
    expect(launchNice(-15, -10, 'restart')).to.equal(-15)
    expect(launchNice(0, undefined, 'restart')).to.equal(0)
  })

  it('no priorities given: none set, initial or restart', () => {
    expect(launchNice(undefined, -10, 'initial')).to.equal(undefined)
    expect(launchNice(undefined, -10, 'restart')).to.equal(undefined)
  })
})
