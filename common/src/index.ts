export { ERROR_CODES, CommerceError, badUserInput, notFound, errorBody } from './errors';
export type { ErrorCode, CommerceErrorOptions } from './errors';
export { ConfigError, stringVar, optionalVar, intVar, boolVar, urlVar, redactUrl } from './config';
export type { Env } from './config';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { createServiceMetrics, LATENCY_BUCKETS } from './metrics';
export type { ServiceMetrics } from './metrics';
export { createGraphQLHttpHandler, serveMetrics, readBody, send, sendValidated, etagOf, BodyTooLarge } from './http';
export type { CompleteResponse, GraphQLHttpOptions, GraphQLParams, PrepareResult, RawGraphQLRequest } from './http';
export { listen, isDraining, loadHttpServerConfig, serviceListenOptions, HTTP_SERVER_DEFAULTS } from './listen';
export type { HttpServerConfig, Listening, ListenOptions, ServiceListenConfig } from './listen';
export { stopOnSignals, loadShutdownConfig, SHUTDOWN_DEFAULTS } from './lifecycle';
export type { ShutdownConfig } from './lifecycle';
export { createRedis } from './redis';
export type { RedisClient } from './redis';
export {
  loadTelemetryConfig,
  startTelemetry,
  tracingEnabled,
  withSpan,
  injectTraceContext,
  activeTraceId,
  continueIncomingTraces,
  traceRequests,
  inServerSpan,
  endServerSpan,
  SERVICE_ATTRIBUTE,
} from './telemetry';
export type { ServerSpan, Telemetry, TelemetryConfig } from './telemetry';
export { API_KEY_HEADER, REQUEST_ID_HEADER, SESSION_ID_HEADER, USER_ID_HEADER } from './headers';
export {
  INTERNAL_IDENTITY_HEADER,
  INTERNAL_ISSUER,
  createInternalSigner,
  createInternalVerifier,
  internalPrivateKeyVar,
  internalPublicKeyVar,
} from './internal-identity';
export type { InternalClaims } from './internal-identity';
