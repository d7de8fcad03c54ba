import { createHash } from 'node:crypto';
import { Supergraph } from '@apollo/federation-internals';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '@commerce/common';
import { withEnforcedSecurity } from './features/authorization/rules';
import type { GatewayMetrics } from './metrics';
import type { SupergraphSource } from './supergraph-source';

/** A supergraph that passed {@link validateSupergraph}. */
export interface ValidSupergraph {
  /** As ApolloGateway takes it (the authorization specs this gateway enforces are not `for: SECURITY` to it). */
  sdl: string;
  /** sha256 of the SDL, hex; also ApolloGateway's composition id. */
  hash: string;
  /** Subgraph names, in supergraph order. */
  subgraphs: string[];
}

export function hashSupergraph(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex');
}

/**
 * Builds the supergraph the way ApolloGateway will (join metadata, the
 * supergraph schema and the API schema) so that a bad one is refused before
 * the swap, and checks that every subgraph can be routed to. Throws with the reason.
 */
export function validateSupergraph(source: string, subgraphUrls: Readonly<Record<string, string>>): ValidSupergraph {
  const sdl = withEnforcedSecurity(source);
  const supergraph = Supergraph.build(sdl, { validateSupergraph: true });
  supergraph.schema.toGraphQLJSSchema();
  supergraph.apiSchema().toGraphQLJSSchema();
  const subgraphs = supergraph.subgraphsMetadata();
  if (subgraphs.length === 0) throw new Error('the supergraph has no subgraphs');
  for (const { name, url } of subgraphs) {
    if (!url && !subgraphUrls[name])
      throw new Error(`subgraph "${name}" has no routing URL; set one in the supergraph or in SUBGRAPH_URLS`);
  }
  return { sdl, hash: hashSupergraph(source), subgraphs: subgraphs.map((s) => s.name) };
}

/** Options of {@link createSupergraphManager}. */
export interface SupergraphManagerOptions {
  source: SupergraphSource;
  /** `SUBGRAPH_URLS`; only checked here (data sources apply them). */
  subgraphUrls: Readonly<Record<string, string>>;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Serves the supergraph from a file or URL to ApolloGateway and swaps it when
 * the source changes: read, validate, `update`. A reload that fails at any
 * step keeps the current supergraph, is logged and counted (once per
 * distinct SDL). Reloads run one
 * at a time. ApolloGateway plans each request against the schema current when
 * the request starts, so requests in flight finish on the old supergraph.
 */
export function createSupergraphManager({
  source,
  subgraphUrls,
  metrics,
  logger,
}: SupergraphManagerOptions): SupergraphManager {
  let currentHash: string | undefined;

  function load(sdl: string): ValidSupergraph {
    const valid = validateSupergraph(sdl, subgraphUrls);
    const unknown = Object.keys(subgraphUrls).filter((name) => !valid.subgraphs.includes(name));
    if (unknown.length > 0)
      logger.warn(
        { unknown, subgraphs: valid.subgraphs },
        'SUBGRAPH_URLS names subgraphs the supergraph does not have',
      );
    return valid;
  }

  function serving({ hash, subgraphs }: ValidSupergraph): void {
    currentHash = hash;
    metrics.supergraphLastReloadSuccess.set(1);
    metrics.supergraphInfo.reset();
    metrics.supergraphInfo.set({ hash }, 1);
    logger.info({ source: source.description, hash, subgraphs }, 'serving supergraph');
  }

  return {
    async initialize({ update }) {
      let initial: ValidSupergraph;
      try {
        initial = load(await source.read());
      } catch (error) {
        metrics.supergraphLastReloadSuccess.set(0);
        throw new Error(`Cannot load the supergraph from ${source.description}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      serving(initial);

      let stopped = false;
      let rejectedHash: string | undefined;
      async function reload(): Promise<void> {
        if (stopped) return;
        try {
          const sdl = await source.read();
          const hash = hashSupergraph(sdl);
          if (stopped || hash === currentHash || hash === rejectedHash) return;
          rejectedHash = hash;
          const next = load(sdl);
          update(next.sdl);
          rejectedHash = undefined;
          metrics.supergraphReloads.inc({ result: 'success' });
          serving(next);
        } catch (error) {
          if (stopped) return;
          metrics.supergraphReloads.inc({ result: 'failure' });
          metrics.supergraphLastReloadSuccess.set(0);
          logger.error(
            { source: source.description, err: error },
            'supergraph reload failed; still serving the previous supergraph',
          );
        }
      }

      let queue = Promise.resolve();
      const stopWatching = source.watch(() => {
        queue = queue.then(reload);
      });
      return {
        supergraphSdl: initial.sdl,
        async cleanup() {
          stopped = true;
          stopWatching();
          await queue;
        },
      };
    },
  };
}
