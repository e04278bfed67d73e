/** The echo protocol of bench/overhead's raw peer (raw-peer.ts), for the processes that dial it. */
export const ECHO_PROTOCOL = '/shoal/bench/echo/1.0.0'
