import { createLogger, stopOnSignals } from '@commerce/common';
import { loadSubgraphConfig } from './config';
import { startSubgraph, type SubgraphDefinition } from './subgraph';

/** Entry point of a standalone subgraph process: config from the environment, graceful stop on signals. */
export async function runSubgraphMain<L>(definition: SubgraphDefinition<L>, defaultPort: number): Promise<void> {
  const logger = createLogger(definition.name);
  try {
    const config = loadSubgraphConfig(process.env, defaultPort);
    const running = await startSubgraph(definition, config, logger);
    stopOnSignals(running.stop, logger, `${definition.name} subgraph`, config.shutdown);
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} failed to start`);
    process.exit(1);
  }
}
