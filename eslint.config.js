// ESLint flat config in the style js-libp2p uses (aegir: neostandard with TypeScript),
// plus one architecture rule: a layer never imports a layer above it.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import importX from 'eslint-plugin-import-x'
import neostandard from 'neostandard'

/**
 * The layers of src/, bottom first (README "Architecture"). A folder may import its own
 * layer and those below, never one above. `inference` is the shared kernel of pipelines,
 * jobs and runner managers until it is split into its own folders.
 */
const LAYERS = [
  ['kernel', 'observability', 'signals'],
  ['p2p', 'payments', 'inference'],
  ['discovery', 'protocols'],
  ['orchestrator', 'gateway'],
  ['roles'],
  ['testnet'],
  ['cli']
]

/**
 * Known exceptions, each to be removed by the change named beside it. `except` paths are
 * relative to the upper folder (import-x's `from`).
 */
const EXCEPTIONS = {
  // protocols/ai maps wire codes to the gateway's JobError: goes away with the one error
  // model on the wire (issue 11, item 4), which moves these errors below the protocols
  'protocols>gateway': ['./dispatch/errors.ts'],
  // the testnet's children stop when their stdin closes, the flag `shoal` understands
  'testnet>cli': ['./lifecycle.ts']
}

function layerZones () {
  const zones = []
  LAYERS.forEach((layer, level) => {
    const above = LAYERS.slice(level + 1).flat()
    for (const folder of layer) {
      for (const upper of above) {
        const except = EXCEPTIONS[`${folder}>${upper}`]
        zones.push({
          target: `./src/${folder}`,
          from: `./src/${upper}`,
          ...(except === undefined ? {} : { except }),
          message: `src/${folder} is below src/${upper} (see eslint.config.js LAYERS)`
        })
      }
    }
  })
  return zones
}

export default [
  ...neostandard({ ts: true, noJsx: true, ignores: ['dist/**', 'extras/**', 'node_modules/**', 'contracts/**'] }),
  {
    linterOptions: {
      // tests carry no-console directives for a stricter set; they do no harm
      reportUnusedDisableDirectives: 'off'
    },
    rules: {
      // objects are written on one line when they fit, as everywhere in this code
      '@stylistic/object-property-newline': 'off',
      // `void promise` marks a promise deliberately not awaited
      'no-void': ['error', { allowAsStatement: true }],
      // noble's hash names
      camelcase: ['error', { allow: ['^keccak_256$', '^sha256$'], properties: 'never' }],
      // validators reject control characters on purpose
      'no-control-regex': 'off',
      // abort reasons are passed on as they are
      'prefer-promise-reject-errors': 'off',
      // naming only; `res`/`rej` and `done` read fine
      'promise/param-names': 'off',
      // a timer declared before the callback that clears it, assigned after
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // loops on flags that callbacks flip (`while (!stopping)`) are the norm in tests
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }]
    }
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })]
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }]
    }
  }
]
