import type { GraphQLParams, PrepareResult } from '@commerce/common';
import { errorBody } from '@commerce/common';
import type { Manifest, ManifestOperation } from './manifest';

/** `off`: no manifest; `allow`: anything runs, unknown operations are logged and counted; `enforce`: only manifest operations run. */
export type TrustedDocumentsMode = 'off' | 'allow' | 'enforce';

export type TrustedDocumentResult = 'known' | 'unknown' | 'rejected';

interface PersistedQueryExtension {
  version?: unknown;
  sha256Hash?: unknown;
}

/** The id a client used to name a stored document: `documentId` (GraphQL-over-HTTP) or Apollo's `extensions.persistedQuery.sha256Hash`. */
function requestedId(params: GraphQLParams): string | undefined {
  if (typeof params.documentId === 'string') return params.documentId.replace(/^sha256:/, '');
  const persisted = (params.extensions as { persistedQuery?: PersistedQueryExtension } | undefined)?.persistedQuery;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

function withoutPersistedQuery(params: GraphQLParams, operation: ManifestOperation): GraphQLParams {
  const { persistedQuery: _unused, ...extensions } = (params.extensions as Record<string, unknown> | undefined) ?? {};
  const { documentId: _id, extensions: _all, ...rest } = params;
  const resolved: GraphQLParams = { ...rest, query: operation.body };
  // Keys are left out rather than set to undefined: Apollo Server rejects a present-but-undefined `extensions`.
  if (typeof params.operationName !== 'string' && operation.name) resolved.operationName = operation.name;
  if (Object.keys(extensions).length) resolved.extensions = extensions;
  return resolved;
}

/**
 * Resolves manifest ids to their bodies (so Apollo Server runs the trusted
 * text, not whatever came with the id) and, in `enforce` mode, refuses
 * anything that is not a manifest operation. Ids unknown to the manifest fall
 * through to APQ in `allow` mode.
 */
export function resolveTrustedDocument(
  params: GraphQLParams,
  manifest: Manifest,
  mode: Exclude<TrustedDocumentsMode, 'off'>,
): { result: TrustedDocumentResult; decision: PrepareResult } {
  const id = requestedId(params);
  const byId = id === undefined ? undefined : manifest.byId(id);
  if (byId) return { result: 'known', decision: { params: withoutPersistedQuery(params, byId) } };
  if (typeof params.query === 'string' && manifest.byBody(params.query))
    return { result: 'known', decision: { params } };
  if (mode === 'allow') return { result: 'unknown', decision: { params } };
  const what = id !== undefined ? `document ${JSON.stringify(id.slice(0, 80))} is` : 'this operation is';
  return {
    result: 'rejected',
    decision: {
      reject: {
        status: 400,
        body: errorBody(
          'PERSISTED_QUERY_NOT_IN_LIST',
          `The ${what} not in the list of trusted documents; only operations from the manifest may run`,
        ),
      },
    },
  };
}
