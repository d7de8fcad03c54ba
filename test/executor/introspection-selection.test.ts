import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Kind, buildSchema, parse, print, type FieldNode, type FragmentDefinitionNode } from 'graphql';
import { introspectionSelection } from '../../gateway/src/executor/introspection-selection';

const schema = buildSchema('type Query { hello: String }');

it(
  'merges each fragment once into a selection set, so a doubling fragment bomb (2^40 expanded) stays one field',
  { timeout: 10_000 },
  () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i + 1 < levels
        ? `fragment F${i} on __Type { ...F${i + 1} ...G${i} } fragment G${i} on __Type { ...F${i + 1} }`
        : `fragment F${i} on __Type { name }`,
    ).join(' ');
    const document = parse(`{ __schema { queryType { ...F0 } } } ${fragments}`);
    const byName: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) byName[d.name.value] = d;
    const operation = document.definitions[0]!;
    assert.equal(operation.kind, Kind.OPERATION_DEFINITION);
    const field = operation.selectionSet.selections[0] as FieldNode;
    const selection = introspectionSelection(schema, field, [field], byName);
    assert.equal(print(selection), '__schema {\n  queryType {\n    name\n  }\n}');
  },
);
