import type { Logger, RedisClient } from '@commerce/common';
import type { GatewayConfig } from '../../config';
import type { GatewayMetrics } from '../../metrics';
import { createPersistedDocuments, type PersistedDocuments } from '../../persisted';
import type { GatewayFeature } from '../feature';

/** Options of {@link usePersistedDocuments}. */
export interface PersistedDocumentsOptions {
  /** `PERSISTED_QUERIES`, `APQ_TTL_SECONDS`, `TRUSTED_DOCUMENTS*` (config.persisted) and `REDIS_KEY_PREFIX`. */
  config: GatewayConfig;
  redis?: RedisClient;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Called after a changed manifest was loaded (e.g. to forget cached answers to operations no longer allowed). */
  onManifestChange?: () => void;
}

/** The persisted documents feature, with what Apollo Server and the warm-up phase need of it. */
export interface PersistedDocumentsFeature extends GatewayFeature {
  readonly documents: PersistedDocuments;
}

/**
 * Persisted documents: trusted documents (ids resolved to manifest
 * operations, unknown ones refused or logged) and the APQ hash check, before
 * the cache lookup; APQ registration is Apollo Server's. The manifest's
 * operations are what the warm-up phase plans.
 */
export function usePersistedDocuments({
  config,
  redis,
  metrics,
  logger,
  onManifestChange,
}: PersistedDocumentsOptions): PersistedDocumentsFeature {
  const documents = createPersistedDocuments(config, redis, metrics, logger, onManifestChange);
  return {
    name: 'persisted-documents',
    onCacheHit: true,
    duringWarmup: true,
    documents,
    prepare: documents.prepare,
    close: () => documents.close(),
  };
}
