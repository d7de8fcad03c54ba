import { Cluster, Redis } from 'ioredis';
import { ConfigError, redactUrl } from './config';
import type { Logger } from './logger';

export type RedisClient = Redis | Cluster;

/**
 * A Redis client from a URL: `redis://[:password@]host:port[/db]`,
 * `rediss://…` (TLS), or `redis+cluster://host:port,host:port` for a Redis
 * Cluster. Tuned to fail fast while Redis is away (callers degrade instead of
 * queueing requests) and to reconnect by itself.
 */
export function createRedis(url: string, logger: Logger, purpose: string): RedisClient {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    enableAutoPipelining: true,
  };
  let client: RedisClient;
  if (url.startsWith('redis+cluster://')) {
    const nodes = url
      .slice('redis+cluster://'.length)
      .split(',')
      .map((hostPort) => {
        const [host, port] = hostPort.split(':');
        if (!host || !port || !/^\d+$/.test(port))
          throw new ConfigError(`REDIS_URL cluster node must be host:port, got ${JSON.stringify(hostPort)}`);
        return { host, port: Number(port) };
      });
    client = new Cluster(nodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: options.retryStrategy,
      redisOptions: options,
    });
  } else {
    if (!/^rediss?:\/\//.test(url))
      throw new ConfigError(
        `REDIS_URL must be redis://, rediss:// or redis+cluster://, got ${JSON.stringify(redactUrl(url))}`,
      );
    client = new Redis(url, options);
  }
  let down = false;
  client.on('error', (error: Error) => {
    if (!down) logger.warn({ purpose, err: error.message }, 'redis unavailable; degrading until it returns');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info({ purpose }, 'redis reconnected');
    down = false;
  });
  return client;
}
