export { registerLiveWebRtcRoutes, type LiveWebRtc, type LiveWebRtcCounts, type LiveWebRtcInit } from './routes.js'
export { DEFAULT_LIVE_WEBRTC_OPTIONS, resolveLiveWebRtcOptions, type LiveWebRtcOptions } from './options.js'
export { LiveCapacityError, LiveStreamNotFoundError, SdpOfferError } from './errors.js'
