import { expect } from 'chai'
import { createRecipientRand, type RandInput } from '../../src/payments/recipient-rand.js'
import { recipientRandHash } from '../../src/payments/ticket.js'

function counterBytes (): (n: number) => Uint8Array {
  let i = 0
  return (n) => new Uint8Array(n).fill(++i)
}

const base: RandInput = {
  seed: `0x${'01'.repeat(32)}`,
  sender: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  faceValue: 10n ** 16n,
  winProb: 12345n,
  expirationBlock: 99n,
  chainId: 31337n,
  broker: '0x5fbdb2315678afecb367f032d93f642f64180aa3'
}

describe('payments: recipientRand commit-reveal (HMAC-SHA256)', () => {
  const secret = new Uint8Array(32).fill(7)

  it('is a stateless function of the secret, the seed and the params', () => {
    const a = createRecipientRand({ secret, randomBytes: counterBytes() })
    const b = createRecipientRand({ secret, randomBytes: counterBytes() })
    expect(a.rand(base)).to.equal(b.rand(base))
    expect(a.randHash(base)).to.equal(recipientRandHash(a.rand(base)))
  })

  it('changes with the seed and with every param, so altered params fail the hash check', () => {
    const r = createRecipientRand({ secret, randomBytes: counterBytes() })
    const h = r.randHash(base)
    const variants: Array<Partial<RandInput>> = [
      { seed: `0x${'02'.repeat(32)}` },
      { sender: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc' },
      { recipient: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc' },
      { faceValue: base.faceValue + 1n },
      { winProb: base.winProb + 1n },
      { expirationBlock: base.expirationBlock + 1n },
      { chainId: 1n },
      { broker: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc' }
    ]
    for (const v of variants) expect(r.randHash({ ...base, ...v }), JSON.stringify(Object.keys(v))).to.not.equal(h)
  })

  it('another secret gives another rand', () => {
    const a = createRecipientRand({ secret, randomBytes: counterBytes() })
    const b = createRecipientRand({ secret: new Uint8Array(32).fill(8), randomBytes: counterBytes() })
    expect(a.rand(base)).to.not.equal(b.rand(base))
  })

  it('draws seeds from the injected randomness, and a random secret when none is given', () => {
    const r = createRecipientRand({ secret, randomBytes: counterBytes() })
    expect(r.newSeed()).to.equal(`0x${'01'.repeat(32)}`)
    expect(r.newSeed()).to.equal(`0x${'02'.repeat(32)}`)
    const bytes = counterBytes()
    const x = createRecipientRand({ randomBytes: bytes })
    const y = createRecipientRand({ randomBytes: bytes })
    expect(x.rand(base)).to.not.equal(y.rand(base))
  })

  it('refuses a short secret', () => {
    expect(() => createRecipientRand({ secret: new Uint8Array(8), randomBytes: counterBytes() })).to.throw(RangeError)
  })
})
