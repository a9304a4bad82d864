/**
 * A small JSON Schema checker for the subset Coda's OpenAPI document uses ($ref, type, enum,
 * required, properties, additionalProperties, items, allOf, oneOf/anyOf with discriminator), so
 * the fake server's responses can be held against the real specification without a dependency.
 *
 * Three readings are deliberately lenient, because the document relies on them: allOf branches
 * are merged before `additionalProperties: false` applies (each branch alone would reject the
 * other's fields); oneOf means "at least one" (a string is both a Value and a RichValue); and a
 * required property counts as declared (Table requires `viewId` but does not list it).
 */
type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, Schema> }>>;
  components: Record<string, Record<string, Schema>>;
}

function resolve(schema: Schema, root: OpenApiDocument): Schema {
  let current = schema;
  while (typeof current.$ref === 'string') {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    current = pointer.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as Schema;
  }
  return current;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function mergeAllOf(branches: Schema[]): Schema {
  const properties: Record<string, Schema> = {};
  const required = new Set<string>();
  let closed = false;
  for (const branch of branches) {
    for (const [key, property] of Object.entries((branch.properties ?? {}) as Record<string, Schema>)) {
      properties[key] = properties[key] ? { allOf: [properties[key], property] } : property;
    }
    for (const key of (branch.required ?? []) as string[]) required.add(key);
    if (branch.additionalProperties === false) closed = true;
  }
  return {
    type: 'object',
    properties,
    required: [...required],
    ...(closed ? { additionalProperties: false } : {}),
  };
}

function typeMatches(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Problems found, each as "$.items[0].format: ...": empty when the value conforms. */
export function checkAgainstSchema(given: Schema, value: unknown, root: OpenApiDocument, at = '$'): string[] {
  const schema = resolve(given, root);
  if (Array.isArray(schema.allOf)) {
    const branches = (schema.allOf as Schema[]).map((branch) => resolve(branch, root));
    if (branches.some((branch) => branch.properties))
      return checkAgainstSchema(mergeAllOf(branches), value, root, at);
    return branches.flatMap((branch) => checkAgainstSchema(branch, value, root, at));
  }
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (alternatives) {
    const discriminator = schema.discriminator as
      | { propertyName: string; mapping?: Record<string, string> }
      | undefined;
    const tag = isObject(value) && discriminator ? value[discriminator.propertyName] : undefined;
    const mapped = typeof tag === 'string' ? discriminator?.mapping?.[tag] : undefined;
    if (mapped) return checkAgainstSchema({ $ref: mapped }, value, root, at);
    const results = alternatives.map((alternative) => checkAgainstSchema(alternative, value, root, at));
    return results.some((problems) => problems.length === 0)
      ? []
      : [
          `${at}: matches none of ${alternatives.length} alternatives (${results.map((problems) => problems[0]).join(' | ')})`,
        ];
  }
  if (!typeMatches(schema.type, value))
    return [`${at}: expected ${String(schema.type)}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
  const problems: string[] = [];
  if (Array.isArray(value) && schema.items) {
    for (const [index, item] of value.entries()) {
      problems.push(...checkAgainstSchema(schema.items as Schema, item, root, `${at}[${index}]`));
    }
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const required = (schema.required ?? []) as string[];
    for (const key of required) if (!(key in value)) problems.push(`${at}: missing required ${key}`);
    for (const [key, item] of Object.entries(value)) {
      const property = properties[key];
      if (property) problems.push(...checkAgainstSchema(property, item, root, `${at}.${key}`));
      else if (schema.additionalProperties === false && !required.includes(key))
        problems.push(`${at}: unexpected property ${key}`);
      else if (isObject(schema.additionalProperties))
        problems.push(...checkAgainstSchema(schema.additionalProperties, item, root, `${at}.${key}`));
    }
  }
  return problems;
}

/** The schema of a documented response, e.g. responseSchema(doc, '/docs/{docId}', 200). */
export function responseSchema(root: OpenApiDocument, path: string, status: number): Schema {
  const operation = root.paths[path]?.get;
  const response = operation?.responses[String(status)];
  if (!response) throw new Error(`the OpenAPI document has no GET ${path} response ${status}`);
  const content = resolve(response, root).content as Record<string, { schema: Schema }>;
  const schema = content['application/json']?.schema;
  if (!schema) throw new Error(`GET ${path} ${status} has no JSON schema`);
  return schema;
}
