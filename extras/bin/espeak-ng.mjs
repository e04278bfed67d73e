#!/usr/bin/env node
// The `espeak-ng` command line the CPU runner uses (`-v VOICE [-s WPM] [-p PITCH] --stdout
// --stdin`), run by the WASM build of eSpeak NG from npm (package `espeak-ng`), for
// machines without Debian's espeak-ng. Reads the text on stdin, writes a WAV file to stdout;
// exits 1 with espeak's message on stderr when it fails (an unknown voice).
import ESpeakNg from 'espeak-ng'

const args = process.argv.slice(2)
const passed = []
for (let i = 0; i < args.length; i++) {
  const arg = args[i]
  if (arg === '--stdout' || arg === '--stdin') continue
  if (arg === '-v' || arg === '-s' || arg === '-p') {
    if (args[i + 1] === undefined) { process.stderr.write(`espeak-ng: ${arg} needs a value\n`); process.exit(2) }
    passed.push(arg, args[++i])
    continue
  }
  process.stderr.write(`espeak-ng (WASM): unsupported argument ${arg}\n`)
  process.exit(2)
}
const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const text = Buffer.concat(chunks).toString('utf8')

let status = 0
const errors = []
const espeak = await ESpeakNg({
  arguments: [...passed, '-f', '/input.txt', '-w', '/output.wav'],
  preRun: [(module) => { module.FS.writeFile('/input.txt', text) }],
  print: () => {},
  printErr: (line) => { if (!line.startsWith('program exited')) errors.push(line) },
  quit: (code) => { status = code }
})
if (status !== 0 || !espeak.FS.analyzePath('/output.wav').exists) {
  process.stderr.write(`${errors.join('\n') || 'espeak-ng failed'}\n`)
  process.exit(1)
}
process.stdout.write(espeak.FS.readFile('/output.wav'), () => { process.exit(0) })
