import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ROOT, dockerfileStages, readText } from './manifests';
import { DEFAULT_PORTS } from './env-readers';

const dockerfile = readText('Dockerfile');
const pkg = JSON.parse(readText('package.json')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
  workspaces: string[];
};
/** The exec-form CMD of each stage. */
const commands = new Map<string, string[]>();
{
  let stage = '';
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stage = from[1] ?? '';
    const cmd = /^CMD\s+(\[.*\])\s*$/.exec(line);
    if (cmd) commands.set(stage, JSON.parse(cmd[1]!) as string[]);
  }
}

describe('Dockerfile', () => {
  it('has a target per service, each starting that service’s entry point with node', () => {
    const entries: Record<string, string> = {
      gateway: 'dist/gateway.mjs',
      users: 'subgraphs/users/src/index.ts',
      products: 'subgraphs/products/src/index.ts',
      orders: 'subgraphs/orders/src/index.ts',
      'db-bootstrap': 'deploy/db-bootstrap.ts',
    };
    for (const [target, entry] of Object.entries(entries)) {
      const cmd = commands.get(target);
      assert.ok(cmd, `target ${target} has a CMD`);
      assert.equal(cmd[0], 'node', `${target} runs node itself, so SIGTERM reaches the service`);
      assert.equal(cmd.at(-1), entry);
      // The gateway's bundle is built in the image from gateway/src/index.ts (scripts/build-gateway.ts).
      const source = entry === 'dist/gateway.mjs' ? 'gateway/src/index.ts' : entry;
      assert.ok(existsSync(`${ROOT}${source}`), `${source} exists`);
    }
  });

  it('runs the gateway with the runtime flags of `npm run gateway`', () => {
    assert.deepEqual(commands.get('gateway')!.join(' '), pkg.scripts.gateway);
  });

  it('keeps what the services import at run time: packages after --import are production dependencies', () => {
    for (const [target, cmd] of commands) {
      cmd.forEach((arg, i) => {
        if (arg !== '--import') return;
        assert.ok(
          pkg.dependencies[cmd[i + 1]!],
          `${target}: ${cmd[i + 1]} is loaded at run time but \`npm ci --omit=dev\` leaves it out (move it to "dependencies")`,
        );
      });
    }
    assert.match(dockerfile, /npm ci --omit=dev/);
    for (const workspace of pkg.workspaces)
      assert.match(
        dockerfile,
        new RegExp(`COPY ${workspace}/package\\.json ${workspace}/`),
        `the deps stage installs workspace ${workspace}`,
      );
  });

  it('runs as a non-root numeric user, stops on SIGTERM, and checks /health on the service port', () => {
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /^STOPSIGNAL SIGTERM$/m);
    const stages = dockerfileStages();
    for (const [target, port] of Object.entries(DEFAULT_PORTS)) {
      assert.equal(stages.get(target)?.healthcheck, true, `${target} has a HEALTHCHECK`);
      assert.equal(stages.get(target)?.env.PORT, String(port));
      assert.match(dockerfile, new RegExp(`FROM runtime AS ${target}\\nENV [^\\n]*\\nEXPOSE ${port}\\n`));
    }
  });

  it('copies only sources that exist and that .dockerignore lets into the build context', () => {
    const ignored = readText('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', '.git', '.env', '.data'])
      assert.ok(ignored.includes(pattern), `.dockerignore has ${pattern}`);
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(\S+) \S+$/gm)) {
      assert.ok(existsSync(`${ROOT}${source}`), `COPY ${source}: exists`);
      const top = source!.replace(/\/$/, '');
      assert.ok(
        !ignored.some((p) => p === top || top.startsWith(`${p}/`)),
        `COPY ${source} is not excluded by .dockerignore`,
      );
    }
  });
});
