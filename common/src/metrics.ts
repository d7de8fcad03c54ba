import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Each service owns a Prometheus registry (never the global one), so several
 * services can share a process (the embedded launcher, tests) and each
 * `/metrics` shows only its own series.
 */
export interface ServiceMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
}

export function createServiceMetrics(service: string, { defaults = true } = {}): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaults) collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  return { registry, httpRequests };
}
