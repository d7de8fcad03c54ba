/**
 * Stock Apollo Gateway, configured exactly as Apollo's documentation shows
 * (`new ApolloGateway({ supergraphSdl })` + `new ApolloServer({ gateway })` +
 * `startStandaloneServer`), nothing tuned. Run by the benchmark as its own
 * process: `node --import tsx bench/targets/stock-gateway.ts`.
 *
 * Environment: `SUPERGRAPH_PATH` (required), `PORT` (required), `HOST`
 * (default 127.0.0.1: loopback only, the one departure from the docs'
 * `startStandaloneServer(server)`), `BENCH_WORKERS` (default 1). Apollo
 * Gateway has no cluster mode: with N > 1 workers this process is a
 * node:cluster primary that forks N copies of the documented setup sharing
 * the port. The benchmark sets `APOLLO_TELEMETRY_DISABLED=true`.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function serve(): Promise<void> {
  const supergraphSdl = readFileSync(required('SUPERGRAPH_PATH'), 'utf8');
  const gateway = new ApolloGateway({ supergraphSdl });
  const server = new ApolloServer({ gateway });
  await startStandaloneServer(server, {
    listen: { port: Number(required('PORT')), host: process.env.HOST ?? '127.0.0.1' },
  });
}

function fork(workers: number): void {
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    // A worker that dies under load is a failed run, not something to hide by restarting it.
    if (!stopping) {
      console.error(`stock gateway worker ${worker.process.pid} exited with ${code}`);
      process.exit(1);
    }
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(0), 5000);
    deadline.unref();
    cluster.disconnect(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const workers = Number(process.env.BENCH_WORKERS ?? '1');
if (!Number.isInteger(workers) || workers < 1 || workers > 64)
  throw new Error(`BENCH_WORKERS must be an integer 1-64, got ${JSON.stringify(process.env.BENCH_WORKERS)}`);
if (workers > 1 && cluster.isPrimary) fork(workers);
else
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
