import { expect } from 'chai'
import sharp from 'sharp'
import { Uint8ArrayList } from 'uint8arraylist'
import { billableUnits } from '../../src/kernel/billing.js'
import type { InferenceJob, JobInput } from '../../src/kernel/job.js'

const upscale = (data: JobInput['data']): InferenceJob => ({
  pipeline: 'upscale',
  modelId: 'm',
  params: {},
  inputs: [{ field: 'image', filename: 'in', contentType: 'image/png', data }]
})

/** `bytes` as a list of parts of `size` bytes, each a view into a larger buffer of other bytes (as frames are). */
function framed (bytes: Uint8Array, size: number): Uint8ArrayList {
  const list = new Uint8ArrayList()
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    const part = bytes.subarray(offset, Math.min(offset + size, bytes.byteLength))
    const frame = new Uint8Array(part.byteLength + 32).fill(0xff)
    frame.set(part, 16)
    list.append(frame.subarray(16, 16 + part.byteLength))
  }
  return list
}

/** A JPEG whose frame header comes after `segments` APP15 segments of 64 KiB (past the head read first). */
function withLargeMetadata (jpeg: Buffer, segments: number): Buffer {
  const app = Buffer.alloc(0xffff + 2, 0x20)
  app.writeUInt16BE(0xffef, 0)
  app.writeUInt16BE(0xffff, 2)
  return Buffer.concat([jpeg.subarray(0, 2), ...Array.from({ length: segments }, () => app), jpeg.subarray(2)])
}

describe('kernel/billing: input pixels', () => {
  it('prices a PNG that arrived in many parts as the same PNG in one buffer', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png({ compressionLevel: 0 })
      .toBuffer()
    expect(png.byteLength).to.be.greaterThan(64 * 1024)
    // 7-byte parts: the signature and IHDR span several of them
    const parts = framed(png, 7)
    expect([...parts].length).to.be.greaterThan(1)
    expect(billableUnits(upscale(png))).to.equal(300n * 200n)
    expect(billableUnits(upscale(parts))).to.equal(300n * 200n)
    expect(billableUnits(upscale(framed(png, 64 * 1024)))).to.equal(300n * 200n)
  })

  it('reads the whole input when the size is not in its first 64 KiB (a JPEG with large metadata)', async () => {
    const jpeg = withLargeMetadata(await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toBuffer(), 2)
    expect(jpeg.byteLength).to.be.greaterThan(128 * 1024)
    expect(billableUnits(upscale(jpeg))).to.equal(40n * 30n)
    expect(billableUnits(upscale(framed(jpeg, 60_000)))).to.equal(40n * 30n)
  })

  it('prices an input that is not an image, or an empty one, as one unit', () => {
    expect(billableUnits(upscale(new Uint8Array(100_000).fill(7)))).to.equal(1n)
    expect(billableUnits(upscale(framed(new Uint8Array(100_000).fill(7), 1000)))).to.equal(1n)
    expect(billableUnits(upscale(new Uint8ArrayList()))).to.equal(1n)
    expect(billableUnits(upscale(new Uint8Array(0)))).to.equal(1n)
  })

  it('counts audio by the bytes of every part', () => {
    const audio = (data: JobInput['data']): InferenceJob => ({ pipeline: 'audio-to-text', modelId: 'm', params: {}, inputs: [{ field: 'audio', filename: 'a', contentType: 'audio/wav', data }] })
    expect(billableUnits(audio(framed(new Uint8Array(16_000), 999)))).to.equal(1000n)
    expect(billableUnits(audio(new Uint8Array(16_000)))).to.equal(1000n)
  })
})
