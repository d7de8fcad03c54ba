import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadTelemetryConfig, startTelemetry, tracingEnabled } from '@commerce/common';

describe('loadTelemetryConfig: the standard OTEL_* variables', () => {
  it('leaves tracing off without an endpoint, and an empty endpoint counts as unset', () => {
    assert.equal(loadTelemetryConfig({}).tracesUrl, undefined);
    assert.equal(loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'x' }).tracesUrl, undefined);
  });

  it('sends traces to <endpoint>/v1/traces, with or without a trailing slash or a base path', () => {
    assert.equal(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).tracesUrl,
      'http://otel-collector:4318/v1/traces',
    );
    assert.equal(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318/' }).tracesUrl,
      'http://otel-collector:4318/v1/traces',
    );
    assert.equal(
      loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collect.example/otlp' }).tracesUrl,
      'https://collect.example/otlp/v1/traces',
    );
  });

  it('takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, over the base endpoint', () => {
    const config = loadTelemetryConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom',
    });
    assert.equal(config.tracesUrl, 'http://b:9999/custom');
  });

  it('parses headers (values URL-encoded), the service name and the sampler', () => {
    const config = loadTelemetryConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant=shop1',
      OTEL_SERVICE_NAME: 'users-eu',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    assert.deepEqual(config.headers, { authorization: 'Bearer abc', 'x-tenant': 'shop1' });
    assert.equal(config.serviceName, 'users-eu');
    assert.equal(config.sampler, 'parentbased_traceidratio');
    assert.equal(config.samplerRatio, 0.25);
    const defaults = loadTelemetryConfig({});
    assert.equal(defaults.serviceName, undefined);
    assert.equal(defaults.sampler, 'parentbased_always_on');
    assert.equal(defaults.samplerRatio, 1);
  });

  it('refuses bad values with a ConfigError naming the variable', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, /OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '::' }, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be a URL/],
      [{ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, /OTEL_EXPORTER_OTLP_HEADERS/],
      [{ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /OTEL_TRACES_SAMPLER must be one of/],
      [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG must be a ratio/],
    ];
    for (const [env, message] of bad)
      assert.throws(
        () => loadTelemetryConfig(env),
        (error: Error) => error instanceof ConfigError && message.test(error.message),
      );
  });
});

describe('startTelemetry', () => {
  it('without an endpoint installs nothing; with one, the provider stays until its last holder shuts down', async () => {
    const off = startTelemetry(loadTelemetryConfig({}), 'a');
    assert.equal(off.enabled, false);
    assert.equal(tracingEnabled(), false);
    // Nothing listens there: spans are never exported because none is made.
    const config = loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const first = startTelemetry(config, 'a');
    const second = startTelemetry(config, 'b');
    assert.equal(tracingEnabled(), true);
    await first.shutdown();
    await first.shutdown();
    assert.equal(tracingEnabled(), true, 'the second holder keeps tracing on');
    await second.shutdown();
    assert.equal(tracingEnabled(), false);
    await off.shutdown();
  });
});
