import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { assertNoExecutorMismatch, jsonLines, mismatchesOf } from './executor-mismatch';
import { TEST_AUTH_ENV } from './tokens';

/**
 * A gateway in this process for tests, on a free port, whose every answer is
 * checked against @apollo/gateway's executor (GATEWAY_EXECUTOR=verify, unless
 * `env` says otherwise): it logs nothing, except that its `stop()` fails when
 * an answer differed. `env` is added to the test defaults.
 */
export async function startVerifiedGateway(env: Record<string, string>): Promise<RunningGateway> {
  const mismatches = mismatchesOf();
  const read = jsonLines(mismatches.see);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      read(chunk);
      done();
    },
  });
  const gateway = await startGateway(
    loadGatewayConfig({ PORT: '0', NODE_ENV: 'test', GATEWAY_EXECUTOR: 'verify', ...TEST_AUTH_ENV, ...env }),
    { logger: pino({ level: 'error' }, sink) },
  );
  return {
    url: gateway.url,
    port: gateway.port,
    async stop() {
      await gateway.stop();
      assertNoExecutorMismatch(mismatches.found);
    },
  };
}
