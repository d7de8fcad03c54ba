import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kind, Lexer, Source, TokenKind, buildSchema, parse, visit } from 'graphql';
import { OPERATION_LIMIT_DEFAULTS } from '../../gateway/src/limits/config';
import { measureOperations } from '../../gateway/src/limits/operation-shape';
import { OPERATION_FEATURES, createOperationGenerator, type OperationFeature } from './fuzz/generate';

/** Interfaces (one implementing another), a union, enums, input objects, lists of lists, required arguments. */
const ZOO = buildSchema(`
  interface Node { id: ID! }
  interface Named { name: String }
  interface Animal implements Node { id: ID! legs: Int! }
  type Cat implements Animal & Node & Named { id: ID! name: String legs: Int! friends(first: Int = 2): [Animal!]! }
  type Dog implements Animal & Node { id: ID! legs: Int! owner: Person bark(loud: Boolean, tone: Tone = LOW): String }
  type Person implements Node & Named { id: ID! name: String pets(filter: PetFilter): [Animal] grid: [[Int]] }
  union Thing = Cat | Dog | Person
  enum Tone { LOW HIGH }
  input PetFilter { tone: Tone!, ids: [ID!], nested: PetFilter }
  type Query {
    node(id: ID!): Node
    things(filter: PetFilter, first: Int): [Thing!]!
    named: [Named]
    person(id: ID!): Person
  }
`);

const COUNT = 1_500;

describe('the operation generator of the executor fuzzing', () => {
  it('writes only documents that validate, with every construct it knows, abstract fragments included', () => {
    const seen = new Map<OperationFeature, number>();
    const generator = createOperationGenerator({ schema: ZOO, seed: 20261202 });
    for (let i = 0; i < COUNT; i += 1) {
      // operation() validates each document itself and throws on an invalid one.
      for (const feature of generator.operation(i).features) seen.set(feature, (seen.get(feature) ?? 0) + 1);
    }
    for (const feature of OPERATION_FEATURES)
      assert.ok(
        (seen.get(feature) ?? 0) >= COUNT / 50,
        `${feature} in ${seen.get(feature) ?? 0} of ${COUNT} operations`,
      );
  });

  it('makes the same operation from the same seed and index, alone or in a sequence, and others from another seed', () => {
    const sequence = createOperationGenerator({ schema: ZOO, seed: 7 });
    const ops = Array.from({ length: 60 }, (_, i) => sequence.operation(i));
    const alone = createOperationGenerator({ schema: ZOO, seed: 7 }).operation(42);
    assert.equal(alone.query, ops[42]!.query);
    assert.deepEqual(alone.variables, ops[42]!.variables);
    assert.equal(alone.draw, ops[42]!.draw);
    // Asked again out of order, the generator goes back to the seed's start.
    assert.equal(sequence.operation(3).query, ops[3]!.query);
    const other = createOperationGenerator({ schema: ZOO, seed: 8 });
    const differing = ops.filter((op, i) => other.operation(i).query !== op.query).length;
    assert.ok(differing >= 55, `${differing} of 60 operations differ between seeds 7 and 8`);
    assert.ok(new Set(ops.map((op) => op.query)).size >= 55, 'operations of one seed differ from each other');
  });

  it("keeps operations within the gateway's default operation limits and its own depth bound", () => {
    const generator = createOperationGenerator({ schema: ZOO, seed: 99, maxDepth: 5 });
    let overLimit = 0;
    for (let i = 0; i < 500; i += 1) {
      const { query } = generator.operation(i);
      const [shape] = [...measureOperations(parse(query)).values()];
      assert.ok(shape!.depth <= 5, `depth ${shape!.depth} of operation ${i}`);
      const lexer = new Lexer(new Source(query));
      let tokens = 0;
      while (lexer.advance().kind !== TokenKind.EOF) tokens += 1;
      assert.ok(tokens < OPERATION_LIMIT_DEFAULTS.maxTokens, `${tokens} tokens in operation ${i}`);
      const limits = OPERATION_LIMIT_DEFAULTS;
      if (shape!.aliases > limits.maxAliases || shape!.directives > limits.maxDirectives) overLimit += 1;
    }
    // Fragments spread several times multiply aliases: a few operations may be refused, most must not be.
    assert.ok(overLimit <= 25, `${overLimit} of 500 operations over the alias or directive limit`);
  });

  it('takes argument values from the hints, as literals or variables, and excludes hinted-out fields', () => {
    const ids = ['p-1', 'p-2'];
    const generator = createOperationGenerator({
      schema: ZOO,
      seed: 3,
      fields: { 'Query.person': { args: { id: { values: ids } } }, 'Query.named': { exclude: true } },
    });
    let persons = 0;
    for (let i = 0; i < 300; i += 1) {
      const op = generator.operation(i);
      const document = parse(op.query);
      // A variable's value: the one sent, else its default.
      const defaults = new Map<string, unknown>();
      visit(document, {
        VariableDefinition: (v) =>
          void defaults.set(
            v.variable.name.value,
            v.defaultValue?.kind === Kind.STRING ? v.defaultValue.value : undefined,
          ),
      });
      visit(document, {
        Field(field) {
          assert.notEqual(field.name.value, 'named', 'an excluded field was selected');
          if (field.name.value !== 'person') return;
          persons += 1;
          const value = field.arguments![0]!.value;
          const id =
            value.kind === Kind.VARIABLE
              ? (op.variables[value.name.value] ?? defaults.get(value.name.value))
              : value.kind === Kind.STRING
                ? value.value
                : undefined;
          assert.ok(ids.includes(id as string), `person(id: ${JSON.stringify(id)}) in operation ${i}`);
        },
      });
    }
    assert.ok(persons > 30, `person selected ${persons} times`);
  });

  it('refuses a hint for a field the schema does not have, and a hinted value its argument cannot take', () => {
    assert.throws(
      () => createOperationGenerator({ schema: ZOO, seed: 1, fields: { 'Query.nothing': { exclude: true } } }),
      /field hint Query\.nothing: no such field/,
    );
    const generator = createOperationGenerator({
      schema: ZOO,
      seed: 1,
      fields: { 'Query.person': { args: { id: { values: [{ not: 'an id' }] } } } },
    });
    assert.throws(() => {
      for (let i = 0; i < 200; i += 1) generator.operation(i);
    });
  });
});
