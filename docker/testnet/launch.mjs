// Entry point of the nodes in docker/compose.local.yaml (the image has no shell): waits
// for the setup service's files in /mesh, then runs `shoal ARGS`, adding
// `--bootstrap $SHOAL_BOOTSTRAP_ADDR/p2p/<bootstrap peer id>` (except on the bootstrap)
// and `--broker <TicketBroker address>` when `--rpc-url` is given.
import { existsSync, readFileSync } from 'node:fs'

const args = process.argv.slice(2)
const deadline = Date.now() + 120_000
while (!existsSync('/mesh/ready')) {
  if (Date.now() > deadline) {
    process.stderr.write('shoal-launch: /mesh/ready did not appear within 120 s (did the setup service fail?)\n')
    process.exit(1)
  }
  await new Promise(resolve => setTimeout(resolve, 200))
}
const read = (name) => readFileSync(`/mesh/${name}`, 'utf8').trim()
if (args[0] !== 'bootstrap' && process.env.SHOAL_BOOTSTRAP_ADDR !== undefined) args.push('--bootstrap', `${process.env.SHOAL_BOOTSTRAP_ADDR}/p2p/${read('bootstrap.peer')}`)
if (args.includes('--rpc-url')) args.push('--broker', read('broker'))
process.argv = [process.argv[0], '/app/bin/shoal.js', ...args]
await import('/app/bin/shoal.js')
