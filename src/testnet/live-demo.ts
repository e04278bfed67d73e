/**
 * How to try live video on a running mesh, as `shoal testnet` prints it: start a stream,
 * subscribe to its output, publish a generated clip with ffmpeg piped into `shoal live
 * publish` (ffmpeg cannot post trickle segments itself), read the status, stop. The live
 * e2e test runs these very commands.
 */
export interface LiveTryOptions {
  /** the clip ffmpeg generates (testsrc): size x size at fps, for seconds */
  size?: number
  fps?: number
  seconds?: number
  /** the virtual background, #rrggbb */
  background?: string
  /** where the subscriber writes the output @default 'out.ts' */
  output?: string
}

export interface LiveTryCommands {
  start: string
  /** runs until the stream ends; its output is one MPEG-TS stream */
  subscribe: string
  publish: string
  status: string
  stop: string
  /** the page that publishes a camera over WHIP and plays the result over WHEP */
  page: string
}

export function liveTryCommands (gatewayUrl: string, stream: string, options: LiveTryOptions = {}): LiveTryCommands {
  const { size = 256, fps = 30, seconds = 60, background = '#00b140', output = 'out.ts' } = options
  const live = `${gatewayUrl}/live/video-to-video/${stream}`
  const params = encodeURIComponent(JSON.stringify({ background }))
  return {
    start: `curl -s -X POST '${live}/start?params=${params}'`,
    subscribe: `npx shoal live subscribe --gateway ${gatewayUrl} --stream ${stream} > ${output}`,
    publish: `ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc=size=${size}x${size}:rate=${fps} -t ${seconds} -c:v libx264 -preset ultrafast -tune zerolatency -bf 0 -g ${fps} -pix_fmt yuv420p -f mpegts - | npx shoal live publish --gateway ${gatewayUrl} --stream ${stream} -`,
    status: `curl -s ${live}/status`,
    stop: `curl -s -X POST ${live}/stop`,
    page: `${live}/play`
  }
}
