/** Decoding an uploaded image into RGB pixels for the CPU models, with the runner's 400s. */
import sharp from 'sharp'
import { ModelInputError } from '../errors.js'

export interface RgbImage {
  width: number
  height: number
  /** width x height x 3 bytes, row by row */
  data: Buffer
}

/**
 * Decodes any image sharp reads (EXIF rotation applied, alpha dropped) into RGB bytes.
 * Throws `ModelInputError` for bytes that are not an image or one over `maxPixels`.
 */
export async function decodeRgb (bytes: Uint8Array, maxPixels: number): Promise<RgbImage> {
  let meta
  try {
    meta = await sharp(bytes).metadata()
  } catch (err) {
    throw new ModelInputError('the image could not be decoded (send a PNG, JPEG, WebP, GIF, TIFF or AVIF file)', { cause: err })
  }
  const rotated = (meta.orientation ?? 1) >= 5
  const width = (rotated ? meta.height : meta.width) ?? 0
  const height = (rotated ? meta.width : meta.height) ?? 0
  if (width * height === 0) throw new ModelInputError('the image has no pixels')
  if (width * height > maxPixels) throw new ModelInputError(`the image is ${width}x${height} = ${width * height} pixels; this model accepts at most ${maxPixels}`)
  try {
    const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
    return { width: info.width, height: info.height, data }
  } catch (err) {
    throw new ModelInputError('the image could not be decoded', { cause: err })
  }
}
