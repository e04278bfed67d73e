import { createCpuRunnerServer } from '/work/main/src/inference/runner/index.ts'
import { portraitPhoto, groupPhoto, textImage } from '/work/main/test/inference/runner/pipelines/helpers.ts'
import sharp from 'sharp'
for (const modelId of ['human-models/selfie-person-mask', 'human-models/meet-person-mask']) {
  const r = createCpuRunnerServer({ pipeline: 'segment-anything-2', modelId, port: 0 })
  let t = performance.now()
  await r.start()
  console.log(modelId, 'load', Math.round(performance.now() - t))
  for (const [name, img] of [['portrait', await portraitPhoto()], ['group', await groupPhoto()], ['text', await textImage(['hello'])]] as const) {
    const form = new FormData()
    form.set('return_logits', 'false')
    form.set('image', new Blob([img]), 'x.png')
    t = performance.now()
    const res = await fetch(`${r.url}/segment-anything-2`, { method: 'POST', body: form })
    const body = await res.json() as any
    const ms = Math.round(performance.now() - t)
    if (res.status !== 200) { console.log(res.status, body); continue }
    const masks = JSON.parse(body.masks) as number[][][]
    const h = masks[0].length, w = masks[0][0].length
    let fg = 0; for (const row of masks[0]) for (const v of row) fg += v
    console.log(name, ms, 'ms', w, h, 'fg', (fg / (w * h)).toFixed(3), 'score', body.scores, 'logits len', body.logits.length, 'centre', masks[0][h/2|0][w/2|0], 'corner', masks[0][2][2])
    const png = await sharp(Buffer.from(masks[0].flat().map(v => v * 255)), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer()
    await sharp(png).toFile(`/tmp/mask-${modelId.split('/')[1]}-${name}.png`)
  }
  await r.stop()
}
