/**
 * Loads the deployment files the way their tools do: `kubectl kustomize` for
 * k8s/ overlays, docker-compose.yml with `${…}` interpolated from
 * .env.example (what `cp .env.example .env` gives), the Dockerfile's ENV per
 * target, and the README's configuration tables.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const readText = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

/** Any rendered Kubernetes object (only what the checks touch is typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  type?: string;
}

export const OVERLAYS = ['dev', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** `kubectl kustomize` of one overlay (client side only), parsed. */
export function renderOverlay(overlay: Overlay): K8sObject[] {
  const text = execFileSync(
    'kubectl',
    ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', `k8s/overlays/${overlay}`],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const objects = parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject)
    .filter(Boolean);
  // kustomize wraps long base64 values (a PEM key) over lines; the API server's decoder skips the newlines.
  for (const object of objects) {
    const data = object.kind === 'Secret' ? (object as { data?: Record<string, string> }).data : undefined;
    for (const key of Object.keys(data ?? {})) data![key] = data![key]!.replace(/\s+/g, '');
  }
  return objects;
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

/**
 * Compose interpolation: `$$`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
 * `${NAME:?error}`, `${NAME?error}` in every string of `value`. Records each
 * NAME in `used`; a missing required variable throws, as compose does.
 */
export function interpolate(value: unknown, vars: Record<string, string>, used: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
      (match, name: string | undefined, op: string | undefined, arg: string | undefined) => {
        if (match === '$$') return '$';
        used.add(name!);
        const raw = vars[name!];
        const missing = op?.startsWith(':') ? raw === undefined || raw === '' : raw === undefined;
        if (op?.endsWith('?') && missing) throw new Error(`compose would refuse to start: ${name} — ${arg}`);
        if (op?.endsWith('-') && missing) return arg ?? '';
        return raw ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, vars, used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, vars, used)]));
  }
  return value;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  restart?: string;
  volumes?: string[];
  read_only?: boolean;
  [key: string]: unknown;
}

/** docker-compose.yml with YAML merge keys resolved, before and after interpolation. */
export function loadCompose(): {
  raw: any;
  file: { services: Record<string, ComposeService>; [key: string]: unknown };
  variables: Set<string>;
  envExample: Record<string, string>;
} {
  const raw = parse(readText('docker-compose.yml'), { merge: true });
  const envExample = parseEnvFile(readText('.env.example'));
  const variables = new Set<string>();
  const file = interpolate(raw, envExample, variables) as { services: Record<string, ComposeService> };
  return { raw, file, variables, envExample };
}

/** A Dockerfile stage: its ENV and whether it has a HEALTHCHECK, both inherited through `FROM <stage>`. */
export interface DockerStage {
  env: Record<string, string>;
  healthcheck: boolean;
}

export function dockerfileStages(): Map<string, DockerStage> {
  const stages = new Map<string, DockerStage>();
  let current: DockerStage | undefined;
  const lines = readText('Dockerfile').replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      const parent = stages.get(from[1]!);
      current = { env: { ...parent?.env }, healthcheck: parent?.healthcheck ?? false };
      if (from[2]) stages.set(from[2], current);
      continue;
    }
    if (!current) continue;
    const healthcheck = /^HEALTHCHECK\s+(\S+)/i.exec(line);
    if (healthcheck) current.healthcheck = healthcheck[1]!.toUpperCase() !== 'NONE';
    const env = /^ENV\s+(.*)$/i.exec(line);
    if (env) {
      for (const pair of env[1]!.trim().split(/\s+/)) {
        const at = pair.indexOf('=');
        if (at > 0) current.env[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"(.*)"$/, '$1');
      }
    }
  }
  return stages;
}

/**
 * The variable names in the first column of the README's configuration
 * table under `### <heading>` (a cell may name several: `A`, `B`).
 */
export function readmeTableVariables(headingStart: string): Set<string> {
  const readme = readText('README.md');
  const start = readme.indexOf(`\n### ${headingStart}`);
  if (start === -1) throw new Error(`README has no "### ${headingStart}" section`);
  const end = readme.indexOf('\n##', start + 5);
  const names = new Set<string>();
  for (const line of readme.slice(start, end === -1 ? undefined : end).split('\n')) {
    if (!line.startsWith('|')) continue;
    const firstCell = line.split('|')[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(match[1]!);
  }
  return names;
}

/** Host and port of each `postgres://` or `http://` URL in a string. */
export function urlHostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const port = parsed.port
    ? Number(parsed.port)
    : parsed.protocol === 'http:'
      ? 80
      : parsed.protocol.startsWith('postgres')
        ? 5432
        : 6379;
  return { host: parsed.hostname, port };
}
