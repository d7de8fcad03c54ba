import { HeaderMap, type GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../../context';
import type { Principal } from '../../principal';
import type { GatewayFeature } from '../feature';
import { authorizeOperation, filteredQueryHash, type AuthorizedOperation } from './filter';
import { applyRemovals } from './patch';
import { accessRules, labelRefusal, type AccessRules, type AccessSubject } from './rules';

export { accessRules, withEnforcedSecurity } from './rules';

/** The authorization feature, told about every supergraph the gateway loads. */
export interface AuthorizationFeature extends GatewayFeature {
  /** Reads the access rules of a supergraph (its `@authenticated` / `@requiresScopes`) for the API schema built from it. */
  useSupergraph(apiSchema: GraphQLSchema, supergraphSdl: string): void;
}

/** Signed in (a verified token or a known API key: any kind but `anonymous`) and the scopes granted. */
export function accessSubject(principal: Principal): AccessSubject {
  const { kind, scopes } = principal as Partial<Pick<Principal, 'kind' | 'scopes'>> & Principal;
  return { authenticated: kind !== undefined && kind !== 'anonymous', scopes: new Set(scopes ?? []) };
}

/**
 * Authorization in the schema, enforced before planning as Apollo Router
 * does (README "Authorization"): the fields of an operation the caller may not
 * see (`@authenticated`, `@requiresScopes` in the supergraph) are removed from
 * the document the gateway plans, so no subgraph is asked for them, and
 * answered as null with an UNAUTHENTICATED or FORBIDDEN error carrying their
 * path. The query hash of a filtered operation includes what was removed, so
 * plans and response-cache entries of different outcomes never mix; a
 * response with a removed field has errors and is never cached. Cache hits:
 * the entry's facts carry the requirements of its fields, and a caller that
 * does not meet one of them takes the full path instead of the hit.
 */
export function useAuthorization(): AuthorizationFeature {
  const rulesBySchema = new WeakMap<GraphQLSchema, AccessRules>();
  let latest: AccessRules | undefined;

  function rulesFor(schema: GraphQLSchema): AccessRules | undefined {
    return rulesBySchema.get(schema) ?? latest;
  }

  function filter(requestContext: GraphQLRequestContextDidResolveOperation<GatewayContext>) {
    const rules = rulesFor(requestContext.schema);
    const { operation, document } = requestContext;
    if (!rules || !operation) return undefined;
    const decision = authorizeOperation({
      schema: requestContext.schema,
      rules,
      document,
      operation,
      subject: accessSubject(requestContext.contextValue.principal),
    });
    requestContext.contextValue.outcome.access = decision.requirements;
    if (decision.signature === '') return undefined;
    // What Apollo Server and the gateway plan, estimate, key and execute from here on.
    const mutable = requestContext as { document: unknown; operation: unknown; queryHash: string };
    mutable.document = decision.document;
    mutable.operation = decision.operation;
    mutable.queryHash = filteredQueryHash(requestContext.queryHash, decision.signature);
    return decision;
  }

  return {
    name: 'authorization',
    onCacheHit: true,
    duringWarmup: false,
    useSupergraph(apiSchema, supergraphSdl) {
      latest = accessRules(supergraphSdl);
      rulesBySchema.set(apiSchema, latest);
    },
    checkHit(hit) {
      // An entry holds only fields its first caller was allowed to see (a removal is an error: never cached).
      const subject = accessSubject(hit.context.principal);
      return !(hit.facts.access ?? []).some((label) => labelRefusal(label, subject) !== undefined);
    },
    operation: {
      async requestDidStart() {
        let decision: AuthorizedOperation | undefined;
        return {
          // Not async: the document is replaced before the next feature's hook (cost, rate limits) reads it.
          didResolveOperation(requestContext) {
            decision = filter(requestContext);
            return Promise.resolve();
          },
          async responseForOperation() {
            if (!decision?.nothingLeft) return null;
            return {
              http: { status: undefined, headers: new HeaderMap() },
              body: { kind: 'single', singleResult: { data: null } },
            };
          },
          // Not async either: the errors are in place before the response cache decides whether to store.
          willSendResponse(requestContext) {
            const { body } = requestContext.response;
            if (!decision || decision.removals.size === 0 || body.kind !== 'single') return Promise.resolve();
            const result = body.singleResult;
            const patched = applyRemovals(decision.nothingLeft ? undefined : result.data, decision.removals);
            result.data = patched.data;
            result.errors = [...patched.errors, ...(result.errors ?? [])];
            return Promise.resolve();
          },
        };
      },
    },
  };
}
