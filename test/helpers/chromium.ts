import { existsSync } from 'node:fs'

/** Debian's chromium package (`apt-get install -y chromium`), or CHROMIUM_PATH; undefined when neither is here. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p))
