/**
 * A tiny live input segment for tests that start no ffmpeg: MPEG-TS holding 2 frames of
 * 32x32 H.264 (made once with `ffmpeg -f lavfi -i testsrc=size=32x32:rate=10 -frames:v 2
 * -c:v libx264 -preset ultrafast -tune zerolatency -bf 0 -g 2 -pix_fmt yuv420p -f mpegts`).
 */
export const TINY_SEGMENT: Uint8Array = Buffer.from(
  'R0AREABC8CUAAcEAAP8B/wAB/IAUSBIBBkZGbXBlZwlTZXJ2aWNlMDF3fEPK////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '//////////////////////////////////////////////////9HQAAQAACwDQABwQAAAAHwACqxBLL/////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '/0dQABAAArASAAHBAADhAPAAG+EA8AAVvU1W////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////R0EAMAdQAAB7DH4AAAAB4AAAgIAFIQAH2GEAAAABCfAAAAAB' +
  'Z0LACtolsBEAAAMAAQAAAwAUjxImoAAAAAFozg/IAAABBgX//03cRem95tlIt5Ys2CDZI+7veDI2NCAtIGNvcmUgMTY0IHIzMDk1' +
  'IGJhZWU0MDAgLSBILjI2NC9NUEVHLTQgQVZDIGNvZGVjIC0gQ29weWxlZnQgMjAwMy0yMDIyIC0gaHR0cDovL3d3dy52aWRlb2xh' +
  'bi5HAQARb3JnL3gyNjQuaHRtbCAtIG9wdGlvbnM6IGNhYmFjPTAgcmVmPTEgZGVibG9jaz0wOjA6MCBhbmFseXNlPTA6MCBtZT1k' +
  'aWEgc3VibWU9MCBwc3k9MSBwc3lfcmQ9MS4wMDowLjAwIG1peGVkX3JlZj0wIG1lX3JhbmdlPTE2IGNocm9tYV9tZT0xIHRyZWxs' +
  'aXM9MCA4eDhkY3Q9MCBjcW09MCBkZWFkem9uZT0yMSwxMSBmYXN0X0cBABJwc2tpcD0xIGNocm9tYV9xcF9vZmZzZXQ9MCB0aHJl' +
  'YWRzPTEgbG9va2FoZWFkX3RocmVhZHM9MSBzbGljZWRfdGhyZWFkcz0wIG5yPTAgZGVjaW1hdGU9MSBpbnRlcmxhY2VkPTAgYmx1' +
  'cmF5X2NvbXBhdD0wIGNvbnN0cmFpbmVkX2ludHJhPTAgYmZyYW1lcz0wIHdlaWdodHA9MCBrZXlpbnQ9MiBrZXlpbnRfbWluPTEg' +
  'c2NlRwEAE25lY3V0PTAgaW50cmFfcmVmcmVzaD0wIHJjPWNyZiBtYnRyZWU9MCBjcmY9MjMuMCBxY29tcD0wLjYwIHFwbWluPTAg' +
  'cXBtYXg9NjkgcXBzdGVwPTQgaXBfcmF0aW89MS40MCBhcT0wAIAAAAFliIQ6DGAAhoBAPLDevKmALSDIW1QnwAKbIiY36GR3AAdB' +
  'lEcxJpqXCvKq4EzRJ+oLppv7MB7/BuHvwgAAQAAAMAVLD2AACgAc0wFHAQAURsDo+eAyAABALAAEAcAPufhEAAQAQABAZAAQEAAI' +
  'CQEAfIAJkzzIAoF/5/ayADi5XAOD31CBBWCwgrAAFk4dRERhRIH3FoX7RQsVwfy/D0XyDwgABUAAQBGBAACoAAgCMBjADgYQAPIh' +
  'NAjJEgmKbgRgP1/4OAAIAIAHALlgJAVuUPiHL+nGJhac0hu7QYEZmRobdDoz4AGCma7UoeB3xRr+3hghAACAAIEpqYyQMmg3vu+F' +
  'AAEBYEcBABUAEBkAAQ6wgABAIA4AklrzUACjRKAYEMq1GWmwBQNO2ECCsFhBWNwQMgOg3h6Cxh3GwMM+qTCFAJmNzCAAFQABAEYE' +
  'AAKgACAIwFnABxgwgenyOodC9OESXDKcfgA8EQALqR5ogk8r6vf5AAAgCAACAMBlwqAPuAHRAE4AQArLxYPFwEwe5SCddaKPZf4k' +
  'ADcLHiWaFpqCcrfwkAAtaAYGR2BACAAIFCgAEhAACCiUAAQOEKpZRpYARwEANgEA5eoNMYBwYvXLEZyFQIAllfy2WqlgCmHMoegy' +
  'ZyInv+xMCchnMJCgWXP+CzgAIACAqQZZIG4W70mDpKtm3V/AB7CDNQPVIGHzfq8DwABACYBgB1wcIDYgONt3gDHYGmsUBxNCcAG4' +
  'edDcBQmOUAd+7QkAA3IAHA+GwIAAQAQABAlCAJBAJmKVuWpM8XiQqldAFACM9+y1N4bmUYDN8qebkfEYzMRSPkAOhoA/RBBZVyVj' +
  'oWfCB61HQAARAACwDQABwQAAAAHwACqxBLL/////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '/////////////////////////////////////////////////////////0dQABEAArASAAHBAADhAPAAG+EA8AAVvU1W////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '////////R0EAN40QAACMoH4A////////////////////////////////////////////////////////////////////////////' +
  '////////////////////////////////////////////////////////////////////////////////////////////////////' +
  '//8AAAHgAACAgAUhAAkesQAAAAEJ8AAAAAFBmiBifBHF00qVeCOK22phMoA=',
  'base64'
)

export const TINY_SEGMENT_INFO = { codec: 'h264', frames: 2, width: 32, height: 32 } as const
