export { startEmbeddedCluster, resetEmbeddedData, type EmbeddedCluster, type EmbeddedClusterOptions } from './cluster';
export type { PgNode } from './node';
