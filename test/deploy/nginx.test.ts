/**
 * The compose topology with processes instead of containers: Debian's nginx
 * runs deploy/nginx/nginx.conf.template (the file compose mounts, its
 * variables substituted as the nginx image's envsubst does) in front of two
 * gateway processes that share one real Redis, over the real test platform.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';
import { freePort } from '../helpers/ports';
import { startRedis, type TestRedis } from '../helpers/redis';
import { readText } from './manifests';
import { asUser } from '../helpers/tokens';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

/** envsubst as the nginx image runs it: only the listed variables are replaced (`$name` and `${name}`), nginx's own `$vars` stay. */
function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, bare: string | undefined) => vars[(braced ?? bare)!] ?? match,
  );
}

/**
 * The process that serves: the helper starts the gateway through the tsx CLI,
 * which runs it in a child node process; killing that child is a crash of
 * the gateway (the tsx wrapper then exits too).
 */
function serverPid(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return children.length === 1 ? children[0]! : pid;
}

interface Nginx {
  readonly url: string;
  stop(): Promise<void>;
}

async function startNginx(upstreams: string[]): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'nginx-'));
  // When the suite runs as root, nginx's workers drop to an unprivileged user that must reach the prefix.
  await chmod(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const vars: Record<string, string> = { NGINX_LISTEN: `127.0.0.1:${port}` };
  upstreams.forEach((address, i) => (vars[`GATEWAY_${i + 1}`] = address));
  await writeFile(conf, renderTemplate(readText('deploy/nginx/nginx.conf.template'), vars));
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', `${dir}/`, '-c', conf, '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = new Promise<void>((resolve, reject) =>
    child
      .once('spawn', resolve)
      .once('error', (e) => reject(new Error(`cannot run ${NGINX} (.ci/run installs nginx): ${e.message}`))),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await spawned;
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      'nginx to answer /nginx-health',
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
        return fetch(`${url}/nginx-health`).then(
          (r) => r.ok,
          () => false,
        );
      },
      10_000,
    );
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Answer {
  status: number;
  upstream: string;
  cache: string | null;
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-lb-debug': '1', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Answer['body'];
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    parsed = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return {
    status: res.status,
    upstream: res.headers.get('x-upstream') ?? '',
    cache: res.headers.get('x-cache'),
    body: parsed,
  };
}

/** Sends `body` through nginx until an upstream other than `not` answers (nginx alternates between idle replicas). */
async function viaOtherUpstream(
  url: string,
  not: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  for (let i = 0; i < 10; i++) {
    const answer = await post(url, body, headers);
    if (answer.upstream !== not) return answer;
  }
  throw new Error(`nginx sent 10 requests in a row to ${not}`);
}

describe('two gateway processes behind nginx (the compose load balancer), sharing one Redis', () => {
  let redis: TestRedis;
  let platform: TestPlatform;
  const gateways: GatewayProcess[] = [];
  let nginx: Nginx;
  const hostOf = (gateway: GatewayProcess) => new URL(gateway.url).host;

  before(async () => {
    redis = await startRedis();
    platform = await startTestPlatform({ REDIS_URL: redis.url });
    // Enforced budgets, small for two named test clients only; everyone else keeps the default.
    const env = {
      REDIS_URL: redis.url,
      COST_MODE: 'enforce',
      COST_MAX: '60',
      COST_BUDGET_OVERRIDES: 'user:usr_900001=60/0.001,user:usr_900002=60/0.001',
    };
    for (let i = 0; i < 2; i++) gateways.push(await startGatewayProcess(platform, env));
    nginx = await startNginx(gateways.map(hostOf));
  });
  after(async () => {
    await nginx?.stop();
    for (const gateway of gateways) await gateway.stop();
    await platform?.stop();
    await redis?.stop();
  });

  it('caches a response once: a MISS through one gateway is a HIT through the other', async (t) => {
    const body = { query: '{ products(first: 3) { edges { node { id name } } } }' };
    const client = new Redis(redis.url);
    t.after(() => client.quit());
    const entries = async () => (await client.keys('*:r:*')).length;
    const before = await entries();
    const first = await post(nginx.url, body);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'MISS');
    assert.ok(gateways.map(hostOf).includes(first.upstream), `x-upstream names a gateway: ${first.upstream}`);
    // The entry is written to Redis just after the answer: wait for it, so the other gateway's first lookup can find it.
    await waitFor('the response cache entry in Redis', async () => (await entries()) > before, 5_000);
    const second = await viaOtherUpstream(nginx.url, first.upstream, body);
    assert.equal(second.cache, 'HIT', `served by ${second.upstream} from the shared cache`);
    assert.deepEqual(second.body, first.body);
  });

  it('keeps one APQ store: a query registered through one gateway is known by hash through the other', async () => {
    const query = '{ products(first: 2) { edges { node { id price { formatted } } } } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
    const registered = await post(nginx.url, { query, extensions });
    assert.equal(registered.status, 200);
    assert.ok(registered.body.data, JSON.stringify(registered.body));
    const byHash = await viaOtherUpstream(nginx.url, registered.upstream, { extensions });
    assert.equal(byHash.status, 200);
    assert.deepEqual(byHash.body.data, registered.body.data, 'the other gateway found the query in Redis');
  });

  it('charges one budget per client across both gateways', async () => {
    // Every request a distinct document (an alias), so none is a cache hit; all cost the same.
    const request = (i: number) => ({ query: `{ n${i}: products(first: 5) { edges { node { id } } } }` });
    const [first, second] = [await asUser('usr_900002'), await asUser('usr_900001')];
    let solo = 0;
    for (let i = 0; i < 60 && solo === i; i++) {
      const answer = await post(`http://${hostOf(gateways[0]!)}`, request(i), first);
      if (answer.status === 200 && answer.body.data) solo++;
    }
    assert.ok(solo > 1 && solo < 60, `one gateway allows a few requests of this client: ${solo}`);
    const shared: Answer[] = [];
    for (let i = 0; i < 2 * solo + 4; i++) shared.push(await post(nginx.url, request(1000 + i), second));
    const allowed = shared.filter((a) => a.status === 200 && a.body.data);
    assert.equal(
      allowed.length,
      solo,
      `the same budget through two gateways as through one: ${JSON.stringify(shared.map((a) => a.status))}`,
    );
    assert.equal(new Set(allowed.map((a) => a.upstream)).size, 2, 'both gateways served this client');
    assert.ok(shared.every((a) => a.status === 200 || a.status === 429));
  });

  it('loses no request when a gateway is killed with SIGKILL under load', async (t) => {
    const victim = gateways[0]!;
    const victimPid = serverPid(victim.pid);
    const total = 400;
    const concurrency = 8;
    const deadline = Date.now() + 45_000;
    let sent = 0;
    let killedAt = -1;
    const failures: string[] = [];
    let retried = 0;
    const served = new Map<string, number>();
    const afterKill = new Map<string, number>();
    const worker = async () => {
      while (sent < total && Date.now() < deadline) {
        const i = sent++;
        if (i === 100) {
          process.kill(victimPid, 'SIGKILL');
          killedAt = i;
        }
        // Varied arguments: a mix of cache misses and hits, like real traffic.
        const answer = await post(nginx.url, {
          query: `{ products(first: ${1 + (i % 7)}) { edges { node { id name } } } }`,
        }).catch((e: Error): Answer => ({
          status: 0,
          upstream: '',
          cache: null,
          body: { errors: [{ message: e.message }] },
        }));
        if (answer.status !== 200 || answer.body.errors || !answer.body.data)
          failures.push(`#${i}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
        // `a, b` when nginx tried a, failed, and retried on b: b answered.
        const tried = answer.upstream.split(', ');
        if (tried.length > 1) retried++;
        const answeredBy = tried.at(-1)!;
        served.set(answeredBy, (served.get(answeredBy) ?? 0) + 1);
        if (killedAt >= 0 && i > killedAt + concurrency)
          afterKill.set(answeredBy, (afterKill.get(answeredBy) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    t.diagnostic(
      `requests ${sent}, failed ${failures.length}, retried on the other gateway ${retried}, answered by ${JSON.stringify(Object.fromEntries(served))}, after the kill ${JSON.stringify(Object.fromEntries(afterKill))}`,
    );
    assert.equal(sent, total, 'the bounded load ran to its count');
    assert.ok(killedAt >= 0);
    await waitFor(
      'the killed gateway to be gone',
      async () => {
        try {
          process.kill(victimPid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5_000,
    );
    assert.deepEqual(failures, [], 'no request failed');
    assert.deepEqual([...afterKill.keys()], [hostOf(gateways[1]!)], 'after the kill the survivor answered everything');
  });
});
