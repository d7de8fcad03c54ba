export { ERROR_CODES, CommerceError, badUserInput, notFound, errorBody } from './errors';
export type { ErrorCode, CommerceErrorOptions } from './errors';
export { ConfigError, stringVar, optionalVar, intVar, boolVar, urlVar, redactUrl } from './config';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { createServiceMetrics } from './metrics';
export type { ServiceMetrics } from './metrics';
export { createGraphQLHttpHandler, listen, serveMetrics } from './http';
export type { GraphQLHttpOptions, Listening } from './http';
