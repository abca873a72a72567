import { HearthError } from "@hearth/core";

/** Keywords llama.cpp's grammar (node-llama-cpp's JSON schema support) enforces. */
const ENFORCED = new Set([
  "type",
  "properties",
  "additionalProperties",
  "required",
  "items",
  "prefixItems",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "format",
  "enum",
  "const",
  "oneOf",
  "anyOf",
  "$ref",
  "$defs",
]);
/** Keywords that describe and constrain nothing. */
const ANNOTATIONS = new Set([
  "title",
  "description",
  "default",
  "examples",
  "$schema",
  "$id",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
]);
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);
const FORMATS = new Set(["date-time", "date", "time"]);
/** Keywords whose value is a schema, a list of schemas or a map of schemas. */
const SUBSCHEMA = new Set(["items", "additionalProperties"]);
const SUBSCHEMA_LISTS = new Set(["prefixItems", "oneOf", "anyOf"]);
const SUBSCHEMA_MAPS = new Set(["properties", "$defs"]);

/**
 * The JSON schema a request asks the answer to follow, in the form the grammar builder takes
 * (`anyOf` as `oneOf`: for generation, any alternative may be produced), or a 400 naming the request
 * field that carried it (`field`: Ollama's `format`, OpenAI's `response_format`) and what the
 * grammar could not enforce: a keyword such as `minimum` or `pattern` would otherwise be dropped
 * silently and the answer could break it, and an unknown type would make the grammar produce `null`.
 */
export function grammarSchema(schema: unknown, field: string): unknown {
  const problems: string[] = [];
  const converted = convert(schema, "$", problems);
  if (problems.length > 0)
    throw new HearthError(
      "INVALID_REQUEST",
      `${field}: the JSON schema cannot be enforced by the model's grammar: ${problems.slice(0, 5).join("; ")}`,
      { details: { field } },
    );
  return converted;
}

/** What in a schema the grammar could not enforce, as grammarSchema names it ("$" is the schema). */
export function grammarProblems(schema: unknown): string[] {
  const problems: string[] = [];
  convert(schema, "$", problems);
  return problems;
}

function convert(schema: unknown, path: string, problems: string[]): unknown {
  if (typeof schema === "boolean") return schema ? {} : schema;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    problems.push(`${path} is not a schema`);
    return schema;
  }
  const result: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    if (!ENFORCED.has(keyword)) {
      problems.push(`${path}.${keyword} is not supported`);
      continue;
    }
    const at = `${path}.${keyword}`;
    if (keyword === "type") {
      const types = Array.isArray(value) ? value : [value];
      for (const type of types)
        if (typeof type !== "string" || !TYPES.has(type))
          problems.push(`${at}: unknown type ${JSON.stringify(type)}`);
      result.type = value;
    } else if (keyword === "format") {
      if (typeof value !== "string" || !FORMATS.has(value))
        problems.push(
          `${at}: the format ${JSON.stringify(value)} is not supported (date-time, date, time are)`,
        );
      result.format = value;
    } else if (SUBSCHEMA.has(keyword) && typeof value !== "boolean") {
      result[keyword] = convert(value, at, problems);
    } else if (SUBSCHEMA_LISTS.has(keyword)) {
      if (!Array.isArray(value)) problems.push(`${at} is not a list of schemas`);
      else
        result[keyword === "anyOf" ? "oneOf" : keyword] = value.map((item, i) =>
          convert(item, `${at}[${i}]`, problems),
        );
    } else if (SUBSCHEMA_MAPS.has(keyword)) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        problems.push(`${at} is not a map of schemas`);
      else
        result[keyword] = Object.fromEntries(
          Object.entries(value).map(([name, item]) => [name, convert(item, `${at}.${name}`, problems)]),
        );
    } else {
      result[keyword] = value;
    }
  }
  // The grammar writes the properties it has a schema for: a required one without would never come.
  const { required, properties } = schema as { required?: unknown; properties?: unknown };
  if (Array.isArray(required))
    for (const name of required)
      if (typeof properties !== "object" || properties === null || !Object.hasOwn(properties, String(name)))
        problems.push(`${path}.required: ${JSON.stringify(name)} has no schema in properties`);
  return result;
}
