/**
 * @module http/routes/schemas
 * Schemas shared by several routes. Route schemas are the single source for validation, TypeScript
 * types (through the TypeBox type provider) and the OpenAPI document.
 */
import { Type } from 'typebox'
import { pageSizeDefault, pageSizeMax } from '../../core/limits.ts'
import { roles } from '../../db/schema.ts'

export const Uuid = Type.String({ format: 'uuid' })
export const RoleSchema = Type.Union(roles.map((role) => Type.Literal(role)))
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageSizeMax, default: pageSizeDefault })),
    after: Type.Optional(Type.String({ format: 'uuid', description: 'cursor: the `nextCursor` of the previous page' })),
  },
  { additionalProperties: false },
)
export const problemResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  409: Type.Ref('Problem'),
  422: Type.Ref('Problem'),
} as const

/** Strict object: unknown fields are rejected (`unknown_field`), never silently dropped. */
export const Strict = { additionalProperties: false } as const
