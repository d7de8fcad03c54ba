import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { GraphQLParams, Logger, PrepareResult, RedisClient } from '@commerce/common';
import type { GatewayConfig } from '../config';
import type { GatewayContext } from '../context';
import type { GatewayMetrics } from '../metrics';
import { checkPersistedQuery } from './apq-check';
import { createApqCache } from './apq-store';
import { EMPTY_MANIFEST, loadManifest, type Manifest } from './manifest';
import { resolveTrustedDocument } from './trusted-documents';
import { warmUpPlans, type InvalidOperation } from './warmup';

/** APQ and trusted documents, as configured. */
export interface PersistedDocuments {
  /** Apollo Server's `persistedQueries` option. */
  readonly apollo: false | { cache: KeyValueCache<string>; ttl: number };
  /** The HTTP layer's `prepare` hook: trusted documents (when a manifest is in use), then the APQ hash check (when APQ is on). */
  readonly prepare: ((params: GraphQLParams) => PrepareResult) | undefined;
  /** Loads the manifest (once) and plans every operation in it against `schema` (the API schema); resolves when done. */
  warmUp(apollo: ApolloServer<GatewayContext>, schema: GraphQLSchema): Promise<InvalidOperation[]>;
  /** True when the current manifest holds an operation of this name (bounded metric labels). */
  hasOperationName(name: string): boolean;
  /** Stops watching the manifest file. */
  close(): void;
}

/** The operation's name for logs: as sent, or read from the document's first definition. */
function operationNameOf(params: GraphQLParams): string | undefined {
  if (typeof params.operationName === 'string') return params.operationName;
  return typeof params.query === 'string'
    ? /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(params.query)?.[1]
    : undefined;
}

export function createPersistedDocuments(
  config: GatewayConfig,
  redis: RedisClient | undefined,
  metrics: GatewayMetrics,
  logger: Logger,
  /** Called after a changed manifest was loaded (e.g. to forget responses to operations no longer allowed). */
  onManifestChange: () => void = () => undefined,
): PersistedDocuments {
  const { mode, manifestPath, apq, apqTtlSeconds } = config.persisted;
  let manifest: Manifest = EMPTY_MANIFEST;
  let loaded = false;
  let watcher: FSWatcher | undefined;
  let warming: Promise<InvalidOperation[]> | undefined;
  let names: { of: Manifest; names: ReadonlySet<string> } | undefined;

  async function load(): Promise<void> {
    try {
      manifest = await loadManifest(manifestPath);
      logger.info({ path: manifestPath, operations: manifest.operations.length, mode }, 'trusted documents loaded');
    } catch (error) {
      if (mode === 'enforce' && !loaded) throw error;
      logger.error(
        { err: (error as Error).message },
        'trusted documents not (re)loaded; keeping the previous manifest',
      );
    }
    loaded = true;
  }

  let schema: GraphQLSchema | undefined;

  function plan(apollo: ApolloServer<GatewayContext>): Promise<InvalidOperation[]> {
    // One warm-up at a time; a change during one is planned right after it.
    const run = (warming ?? Promise.resolve([])).then(() => warmUpPlans(apollo, schema!, manifest, metrics, logger));
    warming = run.catch(() => []);
    return run;
  }

  function startWatching(apollo: ApolloServer<GatewayContext>): void {
    let timer: NodeJS.Timeout | undefined;
    try {
      watcher = watch(dirname(manifestPath), (_event, file) => {
        if (file !== basename(manifestPath)) return;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            void load()
              .then(() => (onManifestChange(), plan(apollo)))
              .catch(() => undefined),
          100,
        );
      });
      watcher.on('error', (error) =>
        logger.warn({ err: error.message }, 'trusted documents: watching the manifest failed'),
      );
    } catch (error) {
      logger.warn(
        { err: (error as Error).message },
        'trusted documents: cannot watch the manifest; changes need a restart',
      );
    }
  }

  return {
    apollo: apq
      ? { cache: createApqCache(redis, config.redisKeyPrefix, apqTtlSeconds, logger), ttl: apqTtlSeconds }
      : false,
    prepare:
      mode === 'off' && !apq
        ? undefined
        : (params) => {
            let decision: PrepareResult = { params };
            if (mode !== 'off') {
              const trusted = resolveTrustedDocument(params, manifest, mode);
              metrics.trustedDocuments.inc({ result: trusted.result });
              if (trusted.result === 'unknown')
                logger.warn(
                  { operationName: operationNameOf(params) },
                  'operation not in the trusted documents (allowed: TRUSTED_DOCUMENTS=allow)',
                );
              decision = trusted.decision;
            }
            return apq && 'params' in decision ? checkPersistedQuery(decision.params) : decision;
          },
    async warmUp(apollo, current) {
      schema = current;
      if (mode === 'off') return [];
      if (!loaded) {
        await load();
        startWatching(apollo);
      }
      return plan(apollo);
    },
    hasOperationName(name) {
      if (names?.of !== manifest) names = { of: manifest, names: new Set(manifest.operations.map((o) => o.name)) };
      return names.names.has(name);
    },
    close() {
      watcher?.close();
    },
  };
}
