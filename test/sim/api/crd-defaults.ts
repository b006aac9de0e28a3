// A CRD's structural-schema defaults, filled in on every write of a custom resource as the
// real API server does: a property with a `default` that is absent (or null where the schema
// does not allow null) gets it, inside every object that exists, list items and map values
// included. Defaults are not owned by the applier: apply computes ownership before this runs.
import { type Obj, isObj } from './types.ts';

function fill(value: unknown, schema: Obj | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (isObj(schema.items)) for (const item of value) fill(item, schema.items);
    return;
  }
  if (!isObj(value)) return;
  if (isObj(schema.properties)) {
    for (const [key, prop] of Object.entries(schema.properties)) {
      if (!isObj(prop)) continue;
      const missing = value[key] === undefined || (value[key] === null && prop.nullable !== true);
      if (missing && prop.default !== undefined) value[key] = structuredClone(prop.default);
      fill(value[key], prop);
    }
  }
  if (isObj(schema.additionalProperties)) {
    for (const [key, child] of Object.entries(value)) if (!isObj(schema.properties) || !(key in schema.properties)) fill(child, schema.additionalProperties);
  }
}

/** Applies `schema`'s defaults to a custom resource in place (never to its metadata). */
export function defaultCustomResource(obj: Obj, schema: Obj | undefined): void {
  if (!schema || !isObj(schema.properties)) return;
  const { metadata: _m, ...properties } = schema.properties;
  fill(obj, { ...schema, properties });
}
