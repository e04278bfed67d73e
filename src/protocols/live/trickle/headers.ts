/** The reference's trickle HTTP headers and statuses. */
export const TRICKLE_SEQ = 'Lp-Trickle-Seq'
export const TRICKLE_LATEST = 'Lp-Trickle-Latest'
export const TRICKLE_CLOSED = 'Lp-Trickle-Closed'
export const TRICKLE_RESET = 'Lp-Trickle-Reset'
/** the channel exists, the segment does not (any more, or not yet) */
export const STATUS_SEGMENT_GONE = 470
