/**
 * A small federated subgraph run as its own OS process by
 * `startSubgraphProcess` (helpers.ts), so a test can kill -9 it and start it
 * again on the same port. It serves `inventory`:
 *   type Query { stock: Int }  type Mutation { restock: Int }  Product @key(id) { stock }
 * Behaviour from the environment:
 *   PORT          port to listen on (required)
 *   DELAY_MS      every resolver answers after this long (default 0)
 *   FAIL_STATUS   answer every GraphQL POST with this HTTP status and an HTML body
 *   DROP_FIRST    destroy the connection of the first N GraphQL POSTs without answering
 * `GET /stats` reports what it saw: `{ calls, inFlight, maxInFlight }` (calls: every GraphQL POST).
 * Prints `listening` on stdout once it accepts connections.
 */
import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createGraphQLHttpHandler, createServiceMetrics } from '@commerce/common';
import { FEDERATION_LINK, INVENTORY_SDL } from './fault-schema';

const port = Number(process.env.PORT);
const delayMs = Number(process.env.DELAY_MS ?? 0);
const failStatus = Number(process.env.FAIL_STATUS ?? 0);
let dropFirst = Number(process.env.DROP_FIRST ?? 0);

const slow = async <T>(value: T): Promise<T> => {
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  return value;
};

const apollo = new ApolloServer({
  schema: buildSubgraphSchema([
    {
      typeDefs: parse(`${FEDERATION_LINK}\n${INVENTORY_SDL}`),
      resolvers: {
        Query: { stock: () => slow(7) },
        Mutation: { restock: () => slow(1) },
        Product: { __resolveReference: (ref: { id: string }) => ref, stock: () => slow(7) },
      },
    },
  ]),
  stopOnTerminationSignals: false,
});
await apollo.start();
const graphql = createGraphQLHttpHandler({
  apollo,
  metrics: createServiceMetrics('fault-subgraph', { defaults: false }),
  context: async () => ({}),
});

const stats = { calls: 0, inFlight: 0, maxInFlight: 0 };

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.method !== 'POST') return void graphql(req, res);
  stats.calls++;
  if (dropFirst > 0) {
    dropFirst--;
    req.socket.destroy();
    return;
  }
  if (failStatus) {
    req.resume();
    res.writeHead(failStatus, { 'content-type': 'text/html' });
    res.end('<h1>unavailable</h1>');
    return;
  }
  stats.inFlight++;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  res.on('close', () => stats.inFlight--);
  void graphql(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
