import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { buildShardMap } from '@commerce/kit';
import {
  ROOT,
  dockerfileStages,
  loadCompose,
  readText,
  readmeTableVariables,
  urlHostPort,
  type ComposeService,
} from './manifests';
import { DEFAULT_PORTS, SERVICES, checkServiceEnv } from './env-readers';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const compose = loadCompose();
const services = compose.file.services;
const stages = dockerfileStages();
/** Our images: services built from the Dockerfile, by target. */
const ours = Object.entries(services).filter(([, s]) => s.build?.target) as [
  string,
  ComposeService & { build: { target: string } },
][];
const effectiveEnv = (s: ComposeService & { build: { target: string } }): Record<string, string> => ({
  ...stages.get(s.build.target)?.env,
  ...s.environment,
});

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification JSON schema', () => {
    const schema = JSON.parse(readText('test/deploy/schemas/compose-spec.json')) as Record<string, unknown>;
    delete schema.$schema;
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const validate = ajv.compile(schema);
    assert.ok(validate(compose.raw), JSON.stringify(validate.errors, null, 2));
    assert.ok(validate(compose.file), JSON.stringify(validate.errors, null, 2));
  });

  it('reads every secret from .env (interpolation), and .env.example defines each one and nothing else', () => {
    assert.deepEqual([...compose.variables].sort(), Object.keys(compose.envExample).sort());
    assert.match(readText('.gitignore'), /^\.env$/m, '.env is git-ignored');
    assert.match(readText('.dockerignore'), /^\.env$/m, '.env stays out of the build context');
  });

  it('builds each of our services from a Dockerfile target that exists', () => {
    assert.deepEqual(
      new Set(ours.map(([, s]) => s.build.target)),
      new Set(['gateway', 'users', 'products', 'orders', 'db-bootstrap']),
    );
    for (const [name, s] of ours)
      assert.ok(stages.has(s.build.target), `${name}: Dockerfile has no target ${s.build.target}`);
    for (const [target, port] of Object.entries(DEFAULT_PORTS))
      assert.equal(stages.get(target)?.env.PORT, String(port), `image ${target} listens on its default port`);
  });

  it('gives every long-running service a healthcheck and every dependency a condition', () => {
    for (const [name, s] of Object.entries(services)) {
      const job = s.restart === 'no';
      if (job) assert.equal(s.healthcheck, undefined, `${name} is a one-shot job`);
      else
        assert.ok(
          s.healthcheck?.test?.length || (s.build?.target && stages.get(s.build.target)?.healthcheck),
          `${name} has a healthcheck (its own or its image's HEALTHCHECK)`,
        );
      for (const [dependency, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = services[dependency];
        assert.ok(target, `${name} depends on unknown service ${dependency}`);
        const expected = target.restart === 'no' ? 'service_completed_successfully' : 'service_healthy';
        assert.equal(condition, expected, `${name} → ${dependency}`);
        if (!s.profiles)
          assert.equal(
            target.profiles,
            undefined,
            `${name} (always on) depends on ${dependency} of an optional profile`,
          );
      }
    }
    assert.match(readText('Dockerfile'), /HEALTHCHECK[^\n]*\n[^\n]*\/health/, 'the image HEALTHCHECK asks /health');
  });

  it('mounts only files that exist in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./'))
          assert.ok(existsSync(`${ROOT}${source.slice(2)}`), `${name} mounts missing ${source}`);
        else
          assert.ok(
            source in ((compose.file.volumes as Record<string, unknown>) ?? {}),
            `${name} mounts undeclared volume ${source}`,
          );
      }
    }
  });

  it('sets for each of our services only variables its configuration parser reads, with values the parser accepts', () => {
    for (const [name, s] of ours) {
      const check = checkServiceEnv(s.build.target, effectiveEnv(s));
      assert.equal(check.error, undefined, `${name}: ${check.error?.message}`);
      assert.deepEqual(check.unread, [], `${name} sets variables nothing reads`);
    }
  });

  it('documents in the README every variable the parsers read', () => {
    for (const [name, s] of ours) {
      const reader = SERVICES[s.build.target]!;
      const documented = readmeTableVariables(reader.readmeHeading);
      const { parserReads } = checkServiceEnv(s.build.target, effectiveEnv(s));
      const missing = [...parserReads].filter((v) => !documented.has(v));
      assert.deepEqual(
        missing,
        [],
        `${name}: read by the parser but not in the README table "${reader.readmeHeading}"`,
      );
    }
  });

  it('wires the gateways to the subgraph services, the subgraphs to the shard services, and everything to Redis', () => {
    const portOf = (service: string) =>
      Number(effectiveEnv(services[service] as ComposeService & { build: { target: string } }).PORT);
    for (const [name, s] of ours.filter(([, x]) => x.build.target === 'gateway')) {
      const check = checkServiceEnv('gateway', effectiveEnv(s));
      const urls = check.config.subgraphUrls as Record<string, string>;
      assert.deepEqual(Object.keys(urls).sort(), ['orders', 'products', 'users'], name);
      for (const [subgraph, url] of Object.entries(urls)) {
        const { host, port } = urlHostPort(url);
        assert.equal(host, subgraph, `${name}: ${subgraph} URL names its compose service`);
        assert.equal(port, portOf(subgraph), `${name}: ${subgraph} port`);
      }
      assert.equal(urlHostPort(check.config.redisUrl).host, 'redis');
      assert.ok(Object.keys(s.depends_on ?? {}).includes('redis'));
    }
    for (const [name, s] of ours.filter(([, x]) => x.build.target !== 'gateway')) {
      const map = buildShardMap(JSON.parse(s.environment!.SHARD_MAP!));
      for (const shard of map.shards) {
        assert.equal(urlHostPort(shard.primary).host, `${shard.name}-primary`, `${name}: ${shard.name} primary`);
        for (const replica of shard.replicas)
          assert.equal(urlHostPort(replica).host, `${shard.name}-replica`, `${name}: ${shard.name} replica`);
        const primary = services[`${shard.name}-primary`];
        assert.ok(primary, `${name}: no service ${shard.name}-primary`);
        assert.equal(
          primary.environment?.POSTGRES_PASSWORD,
          s.environment?.PGPASSWORD,
          `${name}: PGPASSWORD is the shard's password`,
        );
      }
      if (s.build.target !== 'db-bootstrap')
        assert.equal(
          map.shards.every((x) => x.replicas.length === 1),
          true,
          `${name} reads from the replicas`,
        );
    }
  });

  it('puts nginx in front of every gateway replica, using every variable of its template', () => {
    const template = readText('deploy/nginx/nginx.conf.template');
    const nginx = services.nginx!;
    const templateVars = new Set([...template.matchAll(/\$\{([A-Z_0-9]+)\}/g)].map((m) => m[1]!));
    const set = Object.keys(nginx.environment ?? {}).filter((v) => !v.startsWith('NGINX_ENVSUBST_'));
    assert.deepEqual(new Set(set), templateVars);
    const gateways = ours
      .filter(([, s]) => s.build.target === 'gateway')
      .map(([name, s]) => `${name}:${effectiveEnv(s).PORT}`);
    assert.equal(gateways.length, 2);
    const upstreams = [...templateVars].filter((v) => /^GATEWAY_\d+$/.test(v)).map((v) => nginx.environment![v]);
    assert.deepEqual(upstreams.sort(), gateways.sort());
    assert.match(template, /least_conn;/);
    assert.equal(
      nginx.environment?.NGINX_ENVSUBST_OUTPUT_DIR,
      '/etc/nginx',
      'the template becomes the main nginx.conf',
    );
  });

  it('has Prometheus scrape every gateway and subgraph on its metrics port', () => {
    const prometheus = parse(readText('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = new Set(prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)));
    for (const [name, s] of ours.filter(([, x]) => x.restart !== 'no')) {
      const env = effectiveEnv(s);
      assert.ok(targets.has(`${name}:${env.METRICS_PORT ?? env.PORT}`), `prometheus scrapes ${name}`);
    }
  });

  it('provisions Grafana with the Prometheus data source and a dashboard over metrics the services export', () => {
    const grafana = services.grafana!;
    assert.ok(grafana.volumes?.some((v) => v.startsWith('./deploy/grafana/provisioning:/etc/grafana/provisioning')));
    const datasource = parse(readText('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    assert.equal(datasource.datasources[0]!.url, 'http://prometheus:9090');
    const provider = parse(readText('deploy/grafana/provisioning/dashboards/commerce.yml')) as {
      providers: Array<{ options: { path: string } }>;
    };
    assert.ok(grafana.volumes?.includes(`./deploy/grafana/dashboards:${provider.providers[0]!.options.path}:ro`));
    const dashboard = JSON.parse(readText('deploy/grafana/dashboards/commerce.json')) as {
      panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
    };
    // Metric names defined in the services' sources (prom-client `name: '…'`).
    const sources = ['gateway/src', 'common/src', 'subgraphs/kit/src']
      .map((dir) =>
        listSources(dir)
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n'),
      )
      .join('\n');
    const defined = new Set([...sources.matchAll(/name: '([a-z_:]+)'/g)].map((m) => m[1]!));
    defined.add('up');
    // Metrics a panel may query before a service exports them (none today).
    const pending = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource.uid, datasource.datasources[0]!.uid, panel.title);
      for (const { expr } of panel.targets) {
        for (const metric of metricNames(expr)) {
          const base = metric.replace(/_(bucket|sum|count)$/, '');
          assert.ok(
            defined.has(metric) || defined.has(base) || pending.has(base),
            `panel "${panel.title}" queries ${metric}, which no service exports`,
          );
        }
      }
    }
  });
});

/** Metric names of a PromQL expression: identifiers left once label matchers, ranges, `by (…)` and function calls are removed. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !/^(e|Inf|NaN)$/.test(name));
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(`${ROOT}${dir}`, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (entry.name.endsWith('.ts')) out.push(`${ROOT}${path}`);
  }
  return out;
}
