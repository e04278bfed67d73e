import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { inspectSegment } from '../../../src/protocols/live/mpegts.js'
import { ffmpegPath } from './media.js'

const run = promisify(execFile)

async function encode (args: string[]): Promise<Uint8Array> {
  const { stdout } = await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', ...args, '-f', 'mpegts', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
  return new Uint8Array(stdout)
}

describe('protocols/live: MPEG-TS inspection of real ffmpeg output', function () {
  this.timeout(60_000)
  const cases: Array<[string, string[], { codec: string, frames: number, width: number, height: number }]> = [
    ['H.264 High 256x256', ['-f', 'lavfi', '-i', 'testsrc=size=256x256:rate=30', '-frames:v', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'high', '-pix_fmt', 'yuv420p'], { codec: 'h264', frames: 30, width: 256, height: 256 }],
    ['H.264 1280x720 (cropped SPS)', ['-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25', '-frames:v', '12', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'], { codec: 'h264', frames: 12, width: 1280, height: 720 }],
    ['H.264 baseline 322x242', ['-f', 'lavfi', '-i', 'testsrc=size=322x242:rate=10', '-frames:v', '7', '-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'], { codec: 'h264', frames: 7, width: 322, height: 242 }],
    ['MPEG-2 video', ['-f', 'lavfi', '-i', 'testsrc=size=128x128:rate=10', '-frames:v', '5', '-c:v', 'mpeg2video'], { codec: 'mpeg2', frames: 5, width: 0, height: 0 }]
  ]
  for (const [name, args, expected] of cases) {
    it(`reads ${name}`, async () => {
      expect(inspectSegment(await encode(args))).to.deep.equal(expected)
    })
  }
})
