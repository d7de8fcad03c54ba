import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLError } from 'graphql';

/**
 * `GATEWAY_EXECUTOR=verify`: the compiled executor answers through
 * recording data sources; Apollo's executor then runs the same plan on
 * replaying ones (each recorded subgraph answer given back once, to the same
 * request), and the two results are compared.
 */

type Services = Record<string, GraphQLDataSource>;
type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

interface Exchange {
  readonly key: string;
  readonly response?: Response;
  readonly error?: unknown;
  used: boolean;
}

function keyOf(service: string, options: GraphQLDataSourceProcessOptions): string {
  return `${service}\0${options.request.query ?? ''}\0${JSON.stringify(options.request.variables ?? {})}`;
}

/** A copy of what the compiled executor received, before it merges (and so mutates) it. */
function copyOf(response: Response): Response {
  return structuredClone({ data: response.data, errors: response.errors, extensions: response.extensions });
}

/** The exchanges of one request: record them once, replay them once. */
export class Recording {
  readonly #exchanges: Exchange[] = [];
  /** Requests Apollo's executor made that the compiled one did not. */
  readonly unmatched: string[] = [];

  recording(services: Services): Services {
    const wrapped: Services = Object.create(null) as Services;
    for (const [name, service] of Object.entries(services)) {
      wrapped[name] = {
        process: async (options) => {
          const key = keyOf(name, options);
          try {
            const response = await service.process(options);
            this.#exchanges.push({ key, response: copyOf(response), used: false });
            return response;
          } catch (error) {
            this.#exchanges.push({ key, error, used: false });
            throw error;
          }
        },
      };
    }
    return wrapped;
  }

  replaying(services: Services): Services {
    const wrapped: Services = Object.create(null) as Services;
    for (const name of Object.keys(services)) {
      wrapped[name] = {
        process: (options) => {
          const key = keyOf(name, options);
          const exchange = this.#exchanges.find((e) => !e.used && e.key === key);
          if (!exchange) {
            this.unmatched.push(key.replaceAll('\0', ' | '));
            return Promise.reject(new Error(`verify: the compiled executor never sent this request to ${name}`));
          }
          exchange.used = true;
          return exchange.response ? Promise.resolve(exchange.response) : Promise.reject(exchange.error as Error);
        },
      };
    }
    return wrapped;
  }

  /** Requests the compiled executor made that Apollo's did not. */
  unused(): string[] {
    return this.#exchanges.filter((e) => !e.used).map((e) => e.key.replaceAll('\0', ' | '));
  }
}

function errorJson(error: GraphQLError | Error): string {
  const { message } = error;
  const { path, extensions } = error as Partial<GraphQLError>;
  return JSON.stringify({ message, path, extensions });
}

/** The result as the client would see it, errors in their order or sorted (`anyErrorOrder`). */
export function canonicalResult(result: GatewayExecutionResult, anyErrorOrder: boolean): string {
  const errors = result.errors?.map(errorJson);
  if (anyErrorOrder) errors?.sort();
  const completion = (result.extensions?.valueCompletion as GraphQLError[] | undefined)?.map(errorJson);
  return JSON.stringify({
    data: result.data,
    errors,
    extensions: completion ? { valueCompletion: completion } : undefined,
  });
}
