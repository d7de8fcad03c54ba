/**
 * Which environment variables a service reads, found by running its real
 * configuration parser (and the libraries that read `process.env` at start:
 * the logger, node-postgres) over a Proxy that records every property read.
 * Nothing here lists variables by hand, so a variable another change adds to
 * a parser is known here at once.
 */
import pg from 'pg';
import { createLogger, type Env } from '@commerce/common';
import { loadGatewayConfig } from '@commerce/gateway';
import { loadSubgraphConfig } from '@commerce/kit';
import { DEFAULT_PORT as ORDERS_PORT } from '@commerce/orders';
import { DEFAULT_PORT as PRODUCTS_PORT } from '@commerce/products';
import { DEFAULT_PORT as USERS_PORT } from '@commerce/users';
import { loadDbBootstrapConfig } from '../../deploy/db-bootstrap';

/** What running `read` over `env` read: through its argument and through `process.env`. */
export function recordReads(env: Env, read: (env: Env) => unknown): { reads: Set<string>; error?: Error } {
  const reads = new Set<string>();
  const note = (key: string | symbol) => {
    if (typeof key === 'string') reads.add(key);
  };
  const proxy = new Proxy(
    { ...env },
    {
      get: (target, key) => (note(key), Reflect.get(target, key)),
      has: (target, key) => (note(key), Reflect.has(target, key)),
      getOwnPropertyDescriptor: (target, key) => (note(key), Reflect.getOwnPropertyDescriptor(target, key)),
      // Enumerating the environment reads every variable in it.
      ownKeys: (target) => (Reflect.ownKeys(target).forEach(note), Reflect.ownKeys(target)),
    },
  );
  const saved = process.env;
  process.env = proxy;
  try {
    read(proxy);
    return { reads };
  } catch (error) {
    return { reads, error: error as Error };
  } finally {
    process.env = saved;
  }
}

/** A service of ours: how it parses its environment at start. */
export interface ServiceReader {
  /** The README configuration table (`### <heading>`) documenting it. */
  readonly readmeHeading: string;
  /** The config parser alone: every variable it reads must be in the README table. */
  parse(env: Env): unknown;
  /** Everything else the process reads from `process.env` while starting. */
  libraries(): void;
}

const logger = () => void createLogger('deploy-test', undefined);
/** node-postgres resolves PG* defaults when a client is built (the shard map's URLs carry no password). */
const postgresClient = () => void new pg.Client({ connectionString: 'postgres://commerce@db.invalid:5432/commerce' });

function subgraph(port: number): ServiceReader {
  return {
    readmeHeading: 'Subgraphs',
    parse: (env) => loadSubgraphConfig(env, port),
    libraries: () => (logger(), postgresClient()),
  };
}

/** Our services by Dockerfile target (compose services and k8s containers name their target). */
export const SERVICES: Readonly<Record<string, ServiceReader>> = {
  gateway: { readmeHeading: 'Gateway', parse: loadGatewayConfig, libraries: logger },
  users: subgraph(USERS_PORT),
  products: subgraph(PRODUCTS_PORT),
  orders: subgraph(ORDERS_PORT),
  'db-bootstrap': { readmeHeading: '`npm start`', parse: loadDbBootstrapConfig, libraries: postgresClient },
};

/** The default port of each of our services (what the image's PORT must match). */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  gateway: 4000,
  users: USERS_PORT,
  products: PRODUCTS_PORT,
  orders: ORDERS_PORT,
};

export interface EnvCheck {
  /** Variables set that nothing reads. */
  readonly unread: string[];
  /** Variables the parser reads (must be documented). */
  readonly parserReads: Set<string>;
  /** The parser's error on this environment, if any. */
  readonly error?: Error;
  /** The parsed configuration. */
  readonly config?: any;
}

/** Parses `env` as `service` would and reports what was set but never read. */
export function checkServiceEnv(service: string, env: Record<string, string>): EnvCheck {
  const reader = SERVICES[service];
  if (!reader) throw new Error(`no reader for service ${service}`);
  let config: unknown;
  const parsed = recordReads(env, (proxy) => (config = reader.parse(proxy)));
  const libraries = recordReads(env, () => reader.libraries());
  const unread = Object.keys(env).filter((name) => !parsed.reads.has(name) && !libraries.reads.has(name));
  return { unread, parserReads: parsed.reads, error: parsed.error, config };
}
