/**
 * The schema compiler for configuration files (`aiModels.json`, the `--config` file):
 * TypeBox schemas compiled by Ajv, reporting the first problem. Unlike the pipeline
 * request validator, nothing is dropped silently: an unknown property is an error.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { Static, TSchema } from '@sinclair/typebox'

const ajv = new Ajv({ allErrors: false, strict: true })

export interface SchemaProblem {
  /** the property path, e.g. `['capacity']`, or `['optimization_flags', 'SFAST']` */
  path: string[]
  /** what is wrong, in words an operator can act on */
  message: string
}

export interface CompiledSchema<T extends TSchema> {
  /** the value typed, or the first problem */
  check: (value: unknown) => { ok: true, value: Static<T> } | { ok: false, problem: SchemaProblem }
}

function problemOf (error: ErrorObject): SchemaProblem {
  const path = error.instancePath.split('/').slice(1).map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  const p = error.params as Record<string, unknown>
  // a property name that fails `propertyNames` is reported on the object, naming the property
  const name = (error as { propertyName?: string }).propertyName
  if (name !== undefined) return { path: [...path, name], message: 'is not an allowed name' }
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'is required' }
    case 'additionalProperties':
      return { path: [...path, String(p.additionalProperty)], message: 'is an unknown field' }
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}` }
    case 'propertyNames':
      return { path: [...path, String(p.propertyName)], message: 'is not an allowed name' }
    default:
      return { path, message: error.message ?? 'is invalid' }
  }
}

export function compileSchema<T extends TSchema> (schema: T): CompiledSchema<T> {
  const validate: ValidateFunction = ajv.compile(schema)
  return {
    check: (value) => {
      if (validate(value)) return { ok: true, value: value as Static<T> }
      const error = validate.errors?.[0]
      return { ok: false, problem: error === undefined ? { path: [], message: 'is invalid' } : problemOf(error) }
    }
  }
}
