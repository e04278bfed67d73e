import { expect } from 'chai'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseModelsConfigText } from '../../src/inference/models-config.js'
import { feeFor } from '../../src/kernel/billing.js'
import { PIPELINE_UNIT } from '../../src/kernel/pipelines.js'
import { packageRoot } from '../../src/testnet/package-root.js'

describe('docs/aiModels.md: its example is valid and its prices come to what it says', () => {
  it('parses, and the worked prices match billing', async () => {
    const doc = await readFile(join(packageRoot(), 'docs', 'aiModels.md'), 'utf8')
    const example = /```json\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(example).to.be.a('string')
    const entries = parseModelsConfigText(example as string)
    const price = (pipeline: string): { pricePerUnit: bigint, pixelsPerUnit: bigint } => {
      const e = entries.find(x => x.pipeline === pipeline)
      return { pricePerUnit: BigInt(e?.pricePerUnit ?? -1), pixelsPerUnit: BigInt(e?.pixelsPerUnit ?? -1) }
    }
    expect(feeFor(512n * 512n, price('upscale'))).to.equal(262_144n * 10n ** 9n)
    expect(feeFor(200n, price('text-to-speech'))).to.equal(20_000n * 10n ** 9n)
    // 0.005 ETH, to within a wei per pixel of rounding
    const t2i = feeFor(1024n * 1024n, price('text-to-image'))
    expect(Number(t2i) / 1e18).to.be.closeTo(0.005, 1e-9)
    // the units table names each pipeline's unit as billing does
    for (const [pipeline, unit] of Object.entries(PIPELINE_UNIT)) {
      if (pipeline === 'live-video-to-video') continue
      expect(doc, pipeline).to.match(new RegExp(`\\| [^|\\n]*${pipeline}[^|\\n]* \\| ${unit} \\|`))
    }
  })
})
