export { startEmbeddedCluster, resetEmbeddedData, type EmbeddedCluster, type EmbeddedClusterOptions } from './cluster';
export type { PgNode } from './node';
export { watchProcess, unwatchProcess, watchdogPid, type WatchOptions, type StopStep } from './watchdog';
export { isAlive, stopStalePostmaster } from './processes';
export { freePort } from './ports';
