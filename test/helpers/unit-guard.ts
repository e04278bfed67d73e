// Loaded first by `npm run test:unit` (.mocharc.unit.json): the fast tier starts no
// processes, so anything that tries fails at once, naming the call, instead of quietly
// making the tier slow. Docker and the chain are reached through processes or
// DOCKER_HOST: both are refused here.
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (childProcess as Record<string, unknown>)[name] = () => {
    throw new Error(`child_process.${name} in the unit tier: a test that starts processes belongs in the full suite (npm test); see README "Tests"`)
  }
}
// named ESM imports of node:child_process see the replacements too
syncBuiltinESMExports()
delete process.env.DOCKER_HOST
