import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { buildShardMap } from '@commerce/kit';
import { OVERLAYS, dockerfileStages, readText, renderOverlay, urlHostPort, type K8sObject } from './manifests';
import { checkServiceEnv } from './env-readers';
import { TEST_AUTH_KEYS } from '../helpers/tokens';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const stages = dockerfileStages();
const scratch = mkdtempSync(join(tmpdir(), 'k8s-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Secrets the prod overlay expects to exist in the namespace (README "Deploying" tells how to create them). */
const EXTERNAL_SECRETS = ['commerce-db-app', 'gateway-secrets', 'internal-identity'];

/**
 * A CRD's OpenAPI schema made as strict as the API server's field validation:
 * an object schema with `properties` accepts no other field, unless the CRD
 * says it preserves unknown fields.
 */
function strictCrdValidator(file: string): ValidateFunction {
  const crd = parse(readText(`test/deploy/schemas/${file}`)) as {
    spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: any } }> };
  };
  const schema = structuredClone(crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema);
  const strict = (node: any): void => {
    if (!node || typeof node !== 'object') return;
    if (node.properties && node.additionalProperties === undefined && !node['x-kubernetes-preserve-unknown-fields'])
      node.additionalProperties = false;
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(strict);
      else strict(value);
    }
  };
  strict(schema);
  schema.properties.metadata = {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string' },
      labels: { type: 'object' },
      annotations: { type: 'object' },
      namespace: { type: 'string' },
    },
  };
  return addFormats(new Ajv({ strict: false, allErrors: true })).compile(schema);
}
const crdValidators: Record<string, ValidateFunction> = {
  Cluster: strictCrdValidator('cnpg-cluster-crd.yaml'),
  Pooler: strictCrdValidator('cnpg-pooler-crd.yaml'),
};

async function validateCore(object: K8sObject): Promise<void> {
  const path = object.apiVersion.includes('/') ? object.apiVersion : `v1`;
  const module = (await import(`kubernetes-models/${path}`)) as Record<
    string,
    new (data: unknown) => { validate(): void }
  >;
  const Model = module[object.kind];
  assert.ok(Model, `kubernetes-models has no ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

/** A group of pods the render creates, with the labels they carry. */
interface PodGroup {
  name: string;
  labels: Record<string, string>;
  spec?: any;
}

function podGroups(objects: K8sObject[]): PodGroup[] {
  const groups: PodGroup[] = [];
  for (const o of objects) {
    if (['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
      groups.push({ name: o.metadata.name, labels: o.spec.template.metadata.labels, spec: o.spec.template.spec });
    // Labels CloudNativePG puts on the pods it creates.
    if (o.kind === 'Cluster') groups.push({ name: o.metadata.name, labels: { 'cnpg.io/cluster': o.metadata.name } });
    if (o.kind === 'Pooler') groups.push({ name: o.metadata.name, labels: { 'cnpg.io/poolerName': o.metadata.name } });
  }
  return groups;
}

function selects(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'Exists') return key in labels;
    if (operator === 'DoesNotExist') return !(key in labels);
    if (operator === 'In') return values.includes(labels[key]!);
    if (operator === 'NotIn') return !values.includes(labels[key]!);
    throw new Error(`unknown operator ${operator}`);
  });
  return byLabels && byExpressions;
}

/** Who may connect to each pod group: pod group names, `ns:<namespace>`, or `*` (anyone). */
function allowedSources(objects: K8sObject[]): Map<string, Set<string>> {
  const groups = podGroups(objects);
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const result = new Map<string, Set<string>>();
  for (const group of groups) {
    const applying = policies.filter(
      (p) =>
        p.spec.policyTypes.includes('Ingress') &&
        (Object.keys(p.spec.podSelector).length === 0 || selects(p.spec.podSelector, group.labels)),
    );
    assert.ok(
      applying.some((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress),
      'a default-deny ingress policy applies to every pod',
    );
    const sources = new Set<string>();
    for (const rule of applying.flatMap((p) => p.spec.ingress ?? [])) {
      if (!rule.from) sources.add('*');
      for (const peer of rule.from ?? []) {
        if (peer.namespaceSelector)
          sources.add(`ns:${peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}`);
        else for (const other of groups) if (selects(peer.podSelector, other.labels)) sources.add(other.name);
      }
    }
    result.set(group.name, sources);
  }
  return result;
}

/** A value for a Secret created in the namespace (prod): keys must be real keys for the parsers to accept them. */
function standIn(variable: string): string {
  if (variable === 'INTERNAL_IDENTITY_PRIVATE_KEY') return TEST_AUTH_KEYS.internalPrivateKey;
  if (variable === 'INTERNAL_IDENTITY_PUBLIC_KEY') return TEST_AUTH_KEYS.internalPublicKey;
  return 'a-secret-from-the-namespace';
}

/** The environment a container starts with: image ENV, envFrom ConfigMaps, env (Secret values from the render, or a stand-in). */
function containerEnv(
  objects: K8sObject[],
  container: any,
  volumes: any[],
): { target: string; env: Record<string, string> } {
  const target = /\/([a-z-]+)(?::[^/]*)?$/.exec(container.image)![1]!;
  assert.ok(stages.has(target), `image ${container.image} names no Dockerfile target`);
  const env: Record<string, string> = { ...stages.get(target)!.env };
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  for (const source of container.envFrom ?? []) Object.assign(env, find('ConfigMap', source.configMapRef.name)!.data);
  for (const variable of container.env ?? []) {
    const secretRef = variable.valueFrom?.secretKeyRef;
    const secret = secretRef && find('Secret', secretRef.name);
    env[variable.name] =
      variable.value ??
      (secret ? Buffer.from(secret.data![secretRef.key]!, 'base64').toString() : standIn(variable.name));
  }
  // Files of mounted ConfigMaps, written where the container would see them.
  const root = join(scratch, `${target}-${Math.random().toString(36).slice(2)}`);
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    if (!volume?.configMap) continue;
    for (const [key, value] of Object.entries(find('ConfigMap', volume.configMap.name)!.data ?? {})) {
      const file = join(root, mount.mountPath, key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, value);
    }
  }
  for (const [name, value] of Object.entries(env)) if (value.startsWith('/config/')) env[name] = join(root, value);
  return { target, env };
}

for (const overlay of OVERLAYS) {
  describe(`k8s overlay ${overlay}`, () => {
    const objects = renderOverlay(overlay);
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
    const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
    const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
    const ourWorkloads = workloads.filter((o) => o.metadata.name !== 'redis');

    it('renders with kubectl kustomize and every object is valid: core kinds by kubernetes-models, CloudNativePG kinds by their CRD schema', async (t) => {
      const counts: Record<string, number> = {};
      for (const object of objects) {
        counts[object.kind] = (counts[object.kind] ?? 0) + 1;
        const crd = object.apiVersion.startsWith('postgresql.cnpg.io/') ? crdValidators[object.kind] : undefined;
        if (crd)
          assert.ok(crd(object), `${object.kind}/${object.metadata.name}: ${JSON.stringify(crd.errors, null, 2)}`);
        else await validateCore(object);
      }
      t.diagnostic(`${overlay}: ${objects.length} objects ${JSON.stringify(counts)}`);
      assert.equal(byKind('Cluster').length >= 2, true);
    });

    it('the CRD check is strict: a misspelt Cluster field is refused', () => {
      const cluster = structuredClone(byKind('Cluster')[0]!);
      cluster.spec.instance = 3;
      assert.equal(crdValidators.Cluster!(cluster), false);
    });

    it('references only ConfigMaps, Secrets and Services that exist, ConfigMaps by their hashed names', () => {
      const secrets = new Set(byKind('Secret').map((o) => o.metadata.name));
      if (overlay === 'prod') {
        assert.equal(secrets.size, 0, 'prod generates no Secret');
        EXTERNAL_SECRETS.forEach((name) => secrets.add(name));
        for (const name of EXTERNAL_SECRETS)
          assert.match(
            readText('README.md'),
            new RegExp(`create secret generic ${name}`),
            `README tells how to create ${name}`,
          );
      } else {
        assert.deepEqual([...secrets].sort(), EXTERNAL_SECRETS, 'dev generates exactly the Secrets prod expects');
      }
      for (const cm of byKind('ConfigMap'))
        assert.match(cm.metadata.name, /-[a-z0-9]{10}$/, `${cm.metadata.name} has a content hash suffix`);
      for (const w of workloads) {
        const spec = w.spec.template.spec;
        for (const volume of spec.volumes ?? [])
          if (volume.configMap)
            assert.ok(
              find('ConfigMap', volume.configMap.name),
              `${w.metadata.name}: ConfigMap ${volume.configMap.name}`,
            );
        for (const c of spec.containers) {
          for (const from of c.envFrom ?? [])
            assert.ok(
              find('ConfigMap', from.configMapRef.name),
              `${w.metadata.name}: ConfigMap ${from.configMapRef.name}`,
            );
          for (const v of c.env ?? [])
            if (v.valueFrom?.secretKeyRef)
              assert.ok(
                secrets.has(v.valueFrom.secretKeyRef.name),
                `${w.metadata.name}: Secret ${v.valueFrom.secretKeyRef.name}`,
              );
          for (const m of c.volumeMounts ?? [])
            assert.ok(
              spec.volumes.some((v: any) => v.name === m.name),
              `${w.metadata.name}: volume ${m.name}`,
            );
        }
      }
      for (const cluster of byKind('Cluster'))
        assert.ok(secrets.has(cluster.spec.bootstrap.initdb.secret.name), `${cluster.metadata.name}: Secret`);
      const services = byKind('Service');
      for (const hpa of byKind('HorizontalPodAutoscaler'))
        assert.ok(find(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name));
      for (const pdb of byKind('PodDisruptionBudget'))
        assert.ok(
          podGroups(objects).some((g) => selects(pdb.spec.selector, g.labels)),
          `PDB ${pdb.metadata.name} selects pods`,
        );
      for (const service of services) {
        const pods = podGroups(objects).filter(
          (g) => g.spec && selects({ matchLabels: service.spec.selector }, g.labels),
        );
        assert.equal(pods.length, 1, `Service ${service.metadata.name} selects one workload`);
        const ports = pods[0]!.spec.containers.flatMap((c: any) => c.ports ?? []);
        for (const port of service.spec.ports) {
          assert.ok(
            ports.some((p: any) => p.name === port.targetPort || p.containerPort === port.targetPort),
            `Service ${service.metadata.name} → ${port.targetPort}`,
          );
        }
      }
    });

    it('sets for every container of ours only variables its config parser reads, values it accepts, and listens on its container port', () => {
      for (const w of ourWorkloads) {
        for (const c of w.spec.template.spec.containers) {
          const { target, env } = containerEnv(objects, c, w.spec.template.spec.volumes ?? []);
          const check = checkServiceEnv(target, env);
          assert.equal(check.error, undefined, `${w.metadata.name}: ${check.error?.message}`);
          assert.deepEqual(check.unread, [], `${w.metadata.name} sets variables nothing reads`);
          if (w.kind === 'Deployment') {
            assert.equal(check.config.host, '0.0.0.0', `${w.metadata.name} listens on all interfaces`);
            assert.deepEqual(
              c.ports.map((p: any) => p.containerPort),
              [check.config.port],
              `${w.metadata.name} listens on its container port`,
            );
            // Above the drain: delay + in-flight timeout + what closing pools may take (stopOnSignals gives 5 s).
            const drainMs = check.config.shutdown.delayMs + check.config.shutdown.timeoutMs + 5000;
            assert.ok(
              w.spec.template.spec.terminationGracePeriodSeconds * 1000 > drainMs,
              `${w.metadata.name}: grace period above the ${drainMs} ms drain`,
            );
          }
        }
      }
    });

    it('probes /ready for readiness and /health for liveness on the container port, and runs non-root on a read-only root filesystem', () => {
      for (const w of workloads) {
        const spec = w.spec.template.spec;
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${w.metadata.name} runs as non-root`);
        for (const c of spec.containers) {
          assert.equal(
            c.securityContext?.allowPrivilegeEscalation,
            false,
            `${w.metadata.name}: no privilege escalation`,
          );
          assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${w.metadata.name}: read-only root`);
          assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
          assert.ok(c.resources?.requests?.cpu && c.resources?.limits?.memory, `${w.metadata.name}: resources`);
          if (w.kind !== 'Deployment') continue;
          const portNames = c.ports.map((p: any) => p.name);
          assert.equal(c.readinessProbe.httpGet.path, '/ready', w.metadata.name);
          assert.equal(c.livenessProbe.httpGet.path, '/health', w.metadata.name);
          for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe])
            assert.ok(portNames.includes(probe.httpGet.port), `${w.metadata.name}: probe port ${probe.httpGet.port}`);
          const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
          assert.ok(
            tmp && spec.volumes.find((v: any) => v.name === tmp.name).emptyDir,
            `${w.metadata.name}: writable /tmp (tsx cache)`,
          );
          assert.ok(spec.topologySpreadConstraints?.length >= 2, `${w.metadata.name}: spread over zones and nodes`);
          assert.ok(
            byKind('PodDisruptionBudget').some((p) => selects(p.spec.selector, w.spec.template.metadata.labels)),
            `${w.metadata.name}: PDB`,
          );
        }
      }
      const hpa = find('HorizontalPodAutoscaler', 'gateway')!;
      assert.equal(hpa.spec.scaleTargetRef.name, 'gateway');
      assert.ok(hpa.spec.minReplicas >= 2);
      assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
    });

    it('lets clients reach the gateway, only the gateway reach the subgraphs, only the subgraphs Postgres, and gateway + subgraphs Redis', () => {
      const allowed = allowedSources(objects);
      const subgraphs = ['orders', 'products', 'users'];
      const clusters = byKind('Cluster').map((o) => o.metadata.name);
      const poolers = byKind('Pooler').map((o) => o.metadata.name);
      const sorted = (set: Set<string> | undefined) => [...(set ?? [])].sort();
      assert.deepEqual(sorted(allowed.get('gateway')), ['*']);
      for (const name of subgraphs)
        assert.deepEqual(
          sorted(allowed.get(name)),
          ['gateway', 'ns:monitoring'],
          `${name}: the gateway (and Prometheus scraping)`,
        );
      for (const name of clusters) {
        // Apart from the subgraphs and the migrate job: the shard's own instances (replication), poolers, the operator.
        assert.deepEqual(
          sorted(allowed.get(name)),
          [...clusters, 'db-bootstrap', ...subgraphs, 'ns:cnpg-system', ...poolers].sort(),
          name,
        );
      }
      for (const name of poolers)
        assert.deepEqual(sorted(allowed.get(name)), ['db-bootstrap', ...subgraphs].sort(), name);
      assert.deepEqual(sorted(allowed.get('redis')), ['gateway', ...subgraphs].sort());
      assert.deepEqual(sorted(allowed.get('db-bootstrap')), [], 'nothing connects to the job');
    });

    it('names in the shard map the -rw (or its rw Pooler) and -ro services of each CloudNativePG Cluster, which has 3 instances', () => {
      const configMap = byKind('ConfigMap').find((o) => o.metadata.name.startsWith('shard-map-'))!;
      const map = buildShardMap(JSON.parse(configMap.data!['shard-map.json']!));
      const clusters = byKind('Cluster');
      assert.deepEqual(map.shards.map((s) => s.name).sort(), clusters.map((c) => c.metadata.name).sort());
      for (const shard of map.shards) {
        const cluster = clusters.find((c) => c.metadata.name === shard.name)!;
        assert.equal(cluster.spec.instances, 3);
        const primaryHost = urlHostPort(shard.primary).host;
        const pooler = byKind('Pooler').find((p) => p.metadata.name === primaryHost);
        if (pooler)
          assert.deepEqual(
            [pooler.spec.cluster.name, pooler.spec.type],
            [shard.name, 'rw'],
            `${shard.name}: the pooler of its primary`,
          );
        else assert.equal(primaryHost, `${shard.name}-rw`);
        assert.deepEqual(
          shard.replicas.map((r) => urlHostPort(r).host),
          [`${shard.name}-ro`],
        );
        const user = new URL(shard.primary).username;
        assert.equal(user, cluster.spec.bootstrap.initdb.owner, `${shard.name}: connects as the database owner`);
        assert.equal(new URL(shard.primary).pathname, `/${cluster.spec.bootstrap.initdb.database}`);
      }
      if (overlay === 'prod')
        assert.equal(byKind('Pooler').length, clusters.length, 'prod puts PgBouncer before every primary');
    });

    it('points the gateway at the subgraph Services and everything at the Redis Service', () => {
      const gateway = find('Deployment', 'gateway')!;
      const { env } = containerEnv(
        objects,
        gateway.spec.template.spec.containers[0],
        gateway.spec.template.spec.volumes,
      );
      const config = checkServiceEnv('gateway', env).config;
      for (const [name, url] of Object.entries(config.subgraphUrls as Record<string, string>)) {
        const { host, port } = urlHostPort(url);
        const service = find('Service', host);
        assert.ok(service && service.spec.selector['app.kubernetes.io/name'] === name, `${name} → Service ${host}`);
        assert.ok(
          service.spec.ports.some((p: any) => p.port === port),
          `${name} → port ${port}`,
        );
      }
      assert.ok(find('Service', urlHostPort(config.redisUrl).host), 'gateway → Redis Service');
      assert.equal(config.supergraph.kind, 'file', 'the supergraph comes from its ConfigMap');
    });
  });
}
