import type { Experimental_DidResolveQueryPlanCallback } from '@apollo/gateway';
import { parse, print } from 'graphql';

/** ApolloGateway's query plan (typed through the gateway, which owns the planner). */
export type QueryPlan = Parameters<Experimental_DidResolveQueryPlanCallback>[0]['queryPlan'];
type Node = NonNullable<QueryPlan['node']>;

const INDENT = '  ';

function indent(text: string, depth: number): string {
  const pad = INDENT.repeat(depth);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
}

/** Subgraph operations arrive minified; print them one field per line. */
function operationText(operation: string): string {
  try {
    return print(parse(operation));
  } catch {
    return operation;
  }
}

function block(head: string, body: string[], depth: number): string {
  const pad = INDENT.repeat(depth);
  return `${pad}${head} {\n${body.join(',\n')}\n${pad}}`;
}

function node(plan: Node, depth: number): string {
  switch (plan.kind) {
    case 'Fetch':
      return block(
        `Fetch(service: ${JSON.stringify(plan.serviceName)})`,
        [indent(operationText(plan.operation), depth + 1)],
        depth,
      );
    case 'Flatten':
      return block(`Flatten(path: ${JSON.stringify(plan.path.join('.'))})`, [node(plan.node, depth + 1)], depth);
    case 'Sequence':
    case 'Parallel':
      return block(
        plan.kind,
        plan.nodes.map((child) => node(child, depth + 1)),
        depth,
      );
    case 'Condition': {
      const clauses = [
        ...(plan.ifClause ? [block('if', [node(plan.ifClause, depth + 2)], depth + 1)] : []),
        ...(plan.elseClause ? [block('else', [node(plan.elseClause, depth + 2)], depth + 1)] : []),
      ];
      return block(`Condition(variable: ${JSON.stringify(plan.condition)})`, clauses, depth);
    }
    case 'Defer': {
      const parts = [
        ...(plan.primary.node ? [block('Primary', [node(plan.primary.node, depth + 2)], depth + 1)] : []),
        ...plan.deferred.map((deferred) =>
          block(
            `Deferred(path: ${JSON.stringify(deferred.queryPath.join('.'))})`,
            deferred.node ? [node(deferred.node, depth + 2)] : [],
            depth + 1,
          ),
        ),
      ];
      return block('Defer', parts, depth);
    }
    case 'Subscription':
      return block(
        'Subscription',
        [node(plan.primary, depth + 1), ...(plan.rest ? [node(plan.rest, depth + 1)] : [])],
        depth,
      );
  }
}

/**
 * A query plan as indented text in the shape Apollo tools print it
 * (`QueryPlan { Sequence { Fetch(service: "products") { … } } }`), with each
 * subgraph operation pretty-printed. An operation answered without any
 * subgraph (only `__typename`) prints as `QueryPlan {}`.
 */
export function formatQueryPlan(plan: QueryPlan): string {
  return plan.node ? block('QueryPlan', [node(plan.node, 1)], 0) : 'QueryPlan {}';
}

/** The subgraphs a plan fetches from, each once, in plan order. */
export function servicesOfPlan(plan: QueryPlan): string[] {
  const seen = new Set<string>();
  const visit = (current: Node | undefined): void => {
    if (!current) return;
    switch (current.kind) {
      case 'Fetch':
        seen.add(current.serviceName);
        return;
      case 'Flatten':
        return visit(current.node);
      case 'Sequence':
      case 'Parallel':
        return current.nodes.forEach(visit);
      case 'Condition':
        visit(current.ifClause);
        return visit(current.elseClause);
      case 'Defer':
        visit(current.primary.node);
        return current.deferred.forEach((deferred) => visit(deferred.node));
      case 'Subscription':
        visit(current.primary);
        return visit(current.rest);
    }
  };
  visit(plan.node);
  return [...seen];
}
