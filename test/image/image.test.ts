// The container image scripts/build-image.sh builds: it builds; its
// entrypoint is kubemend and prints the package's version; it runs as user
// 65532 with nothing but the listed Debian packages, Node and /app (no shell,
// no package manager); every module of the CLI loads from the pruned
// dependencies; and the Containerfile describes the same image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_FILES } from '../../scripts/image/stage.ts';
import { buildImage, imageConfig, PKG, REPO, runIn, skipImage, type BuiltImage } from './harness.ts';

const listed = readFileSync(join(REPO, 'scripts/image/packages'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const containerfile = readFileSync(join(REPO, 'Containerfile'), 'utf8');

/** Runs an ES module script with the image's Node, as the image's user; returns what it prints as JSON. */
async function nodeIn(image: string, script: string): Promise<any> {
  const r = await runIn(image, ['/usr/local/bin/node', '--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('the container image', { skip: skipImage, timeout: 600_000 }, () => {
  let image: BuiltImage;
  before(async () => {
    image = await buildImage('image');
  });
  after(async () => {
    await image?.remove();
  });

  it('builds, as user 65532 with kubemend as its entrypoint and the OCI labels', { timeout: 60_000 }, async (t) => {
    t.diagnostic(`${image.summary}; ${image.seconds.toFixed(1)} s in all`);
    const c = await imageConfig(image.tag);
    assert.equal(c.User, '65532:65532');
    assert.deepEqual(c.Entrypoint, ['/usr/local/bin/node', '/app/bin/kubemend.js']);
    assert.deepEqual(c.Cmd, ['--help']);
    assert.equal(c.WorkingDir, '/app');
    assert.deepEqual(c.Env, ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/home/nonroot', 'KUBEMEND_HOME=/var/lib/kubemend']);
    const head = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const { 'io.buildah.version': _, ...labels } = c.Labels;
    assert.deepEqual(Object.keys(labels).sort(), ['created', 'description', 'licenses', 'revision', 'title', 'version'].map((k) => `org.opencontainers.image.${k}`));
    assert.equal(labels['org.opencontainers.image.version'], PKG.version);
    assert.equal(labels['org.opencontainers.image.description'], PKG.description);
    assert.equal(labels['org.opencontainers.image.licenses'], PKG.license);
    assert.equal(labels['org.opencontainers.image.revision'], head);
    assert.match(labels['org.opencontainers.image.created'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // A slip that ships dev dependencies or the whole node_modules adds 100 MB or more.
    const mb = Number(/\((\w+), ([\d.]+) MB\)/.exec(image.summary)?.[2]);
    assert.ok(mb > 100 && mb < 230, `image size ${mb} MB`);
  });

  it('its entrypoint prints kubemend --version: the package\'s version', { timeout: 120_000 }, async (t) => {
    const c = await imageConfig(image.tag);
    const r = await runIn(image.tag, [...c.Entrypoint, '--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), PKG.version);
    t.diagnostic(`kubemend --version in ${r.seconds.toFixed(1)} s, buildah run's set-up included`);
  });

  it('has no shell and no package manager, only the listed Debian packages; it writes only its home and data directory', { timeout: 120_000 }, async () => {
    const seen = await nodeIn(image.tag, `
      import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
      const writable = (d) => { try { accessSync(d, constants.W_OK); writeFileSync(d + '/probe', 'x'); return true; } catch { return false; } };
      console.log(JSON.stringify({
        uid: process.getuid(), gid: process.getgid(),
        present: ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/apt', '/usr/bin/dpkg', '/usr/bin/env', '/usr/bin/perl'].filter((p) => existsSync(p)),
        packages: readFileSync('/var/lib/dpkg/status', 'utf8').split('\\n').filter((l) => l.startsWith('Package: ')).map((l) => l.slice(9)),
        os: /^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1],
        writable: ['/app', '/app/node_modules', '/usr/local/bin', '/etc', '/home/nonroot', '/var/lib/kubemend', '/tmp'].filter(writable),
      }));`);
    assert.deepEqual([seen.uid, seen.gid], [65532, 65532]);
    assert.deepEqual(seen.present, []);
    assert.deepEqual(seen.packages, [...listed].sort(), 'scripts/image/packages lists the whole closure (the Containerfile downloads exactly these)');
    assert.equal(seen.os, 'debian');
    assert.deepEqual(seen.writable, ['/home/nonroot', '/var/lib/kubemend', '/tmp']);
  });

  it('every module of the CLI loads from the pruned production dependencies', { timeout: 180_000 }, async () => {
    const r = await nodeIn(image.tag, `
      import { readdirSync } from 'node:fs';
      const files = readdirSync('/app/src', { recursive: true }).filter((f) => f.endsWith('.ts')).sort();
      const failed = [];
      for (const f of files) await import('/app/src/' + f).catch((e) => failed.push(f + ': ' + e.message.split('\\n')[0]));
      const dev = ['typescript', 'playwright-core', '@types/pg', 'node'].filter((p) => { try { readdirSync('/app/node_modules/' + p); return true; } catch { return false; } });
      console.log(JSON.stringify({ loaded: files.length - failed.length, failed, dev }));`);
    assert.deepEqual(r.failed, []);
    assert.ok(r.loaded > 200, `${r.loaded} modules`);
    assert.deepEqual(r.dev, [], 'no dev dependencies in the image');
  });

  it('the Containerfile describes the same image', { timeout: 60_000 }, async () => {
    const c = await imageConfig(image.tag);
    const final = containerfile.slice(containerfile.lastIndexOf('\nFROM '));
    assert.match(final, /^\nFROM scratch$/m);
    assert.match(final, new RegExp(`^USER ${c.User}$`, 'm'));
    assert.match(final, new RegExp(`^WORKDIR ${c.WorkingDir}$`, 'm'));
    assert.match(final, new RegExp(`^ENV ${c.Env.join(' ')}$`, 'm'));
    assert.match(final, new RegExp(`^ENTRYPOINT ${JSON.stringify(c.Entrypoint).replace(/[[\]]/g, '\\$&').replace(/,/g, ', ')}$`, 'm'));
    assert.match(final, new RegExp(`^CMD ${JSON.stringify(c.Cmd).replace(/[[\]]/g, '\\$&')}$`, 'm'));
    assert.match(final, new RegExp(`^ARG KUBEMEND_VERSION=${PKG.version.replace(/\./g, '\\.')}$`, 'm'));
    for (const k of ['title', 'description', 'licenses']) {
      assert.ok(final.includes(`org.opencontainers.image.${k}="${c.Labels[`org.opencontainers.image.${k}`]}"`), `label ${k}`);
    }
    // The same root filesystem (packages and finishing script) and the same stager, fed the same app files.
    assert.match(containerfile, /apt-get download .*\$\(grep -v '\^#' \/build\/packages\)/);
    assert.match(containerfile, /sh \/build\/rootfs\.sh \/rootfs/);
    assert.match(containerfile, /RUN node scripts\/image\/stage\.ts \/stage/);
    for (const f of APP_FILES.filter((f) => f !== 'package.json')) assert.match(containerfile, new RegExp(`^COPY ${f} ${f}$`, 'm'), `COPY ${f}`);
  });
});
