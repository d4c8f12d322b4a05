// The registry model: vendored published tags, catalogue lookups, pull errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCatalog, imageNameError, isImageReference, knowsRepository, lookupImage } from '../../src/sandbox/images.ts';
import { isPublished, pullFailure, trackedRepos } from '../../src/sandbox/registry.ts';

test('the vendored tag lists cover the widely used public images, with real tags only', () => {
  for (const repo of ['nginx', 'busybox', 'redis', 'postgres', 'alpine', 'python', 'node', 'httpd', 'mysql', 'registry.k8s.io/pause']) {
    assert.ok(trackedRepos().includes(repo), repo);
    assert.equal(isPublished(repo, 'no-such-tag'), false, repo);
  }
  for (const [repo, tag] of [['nginx', '1.27.3'], ['nginx', 'stable-alpine'], ['nginx', 'latest'], ['busybox', '1.36.1-musl'], ['postgres', '16.4-bookworm'], ['python', '3.12-slim'], ['node', '20-alpine'], ['mysql', '8.0'], ['registry.k8s.io/pause', '3.10'], ['prom/prometheus', 'v2.53.0']]) {
    assert.equal(isPublished(repo, tag), true, `${repo}:${tag}`);
  }
  assert.equal(isPublished('nginx', '1.999'), false);
  assert.equal(isPublished('docker.io/library/nginx', '1.27'), true, 'Docker Hub names are normalised');
  assert.equal(isPublished('shop/web', '1'), undefined, 'untracked repositories are not judged');
});

test('catalogue lookup: exact entries first; a whole-repository entry covers only published tags; * covers everything', () => {
  const catalog = createCatalog({ 'nginx:1.999': { readySeconds: 5 }, 'shop/web': { memoryMi: 64 } });
  assert.deepEqual(lookupImage(catalog, 'nginx:1.999'), { readySeconds: 5 }, 'a scenario may publish a tag');
  assert.ok(lookupImage(catalog, 'nginx:1.27'));
  assert.ok(lookupImage(catalog, 'docker.io/library/nginx'));
  assert.equal(lookupImage(catalog, 'nginx:1.998'), undefined);
  assert.equal(lookupImage(catalog, 'redis:0.0.1'), undefined);
  assert.deepEqual(lookupImage(catalog, 'shop/web:anything'), { memoryMi: 64 });
  assert.equal(lookupImage(catalog, 'shop/api:1'), undefined);
  catalog.set('*', {});
  assert.deepEqual(lookupImage(catalog, 'nginx:1.998'), {});
});

test('pull failures are worded by where the image would come from', () => {
  assert.match(pullFailure('docker.io/library/nginx:1.999', 'nginx'), /code = NotFound .*: docker\.io\/library\/nginx:1\.999: not found$/);
  assert.match(pullFailure('docker.io/acme/x:1', 'acme/x'), /code = Unknown .*pull access denied, repository does not exist or may require authorization/);
  assert.match(pullFailure('quay.io/acme/x:1', 'quay.io/acme/x'), /code = NotFound .*quay\.io\/acme\/x:1: not found$/);
  assert.match(pullFailure('registry.example.com/a/b:1', 'registry.example.com/a/b'), /Head "https:\/\/registry\.example\.com\/v2\/a\/b\/manifests\/1": dial tcp: lookup registry\.example\.com: no such host$/);
  assert.match(pullFailure('localhost:5000/a:1', 'localhost:5000/a'), /dial tcp 127\.0\.0\.1:5000: connect: connection refused$/);
  // A repository the registry has (a scenario declared other tags of it) only lacks the tag.
  assert.match(pullFailure('docker.io/shop/cart:2.0.l', 'shop/cart', true), /code = NotFound .*: docker\.io\/shop\/cart:2\.0\.l: not found$/);
  const catalog = createCatalog({ 'shop/cart:2.0.0': {}, 'registry.example.com/team/api:*': {} });
  assert.equal(knowsRepository(catalog, 'shop/cart:2.0.l'), true);
  assert.equal(knowsRepository(catalog, 'docker.io/shop/cart:9'), true);
  assert.equal(knowsRepository(catalog, 'registry.example.com/team/api:1'), true);
  assert.equal(knowsRepository(catalog, 'shop/carts:1'), false);
  assert.equal(knowsRepository(catalog, 'nginx:1.999'), true);
});

test('image references: distribution/reference grammar, lower-case repositories', () => {
  for (const ok of ['nginx', 'nginx:1.27', 'shop/web:1', 'registry.example.com:5000/team/api:2.0', `nginx@sha256:${'a'.repeat(64)}`, 'gemma/x:Q4_K_XL']) assert.equal(imageNameError(ok), undefined, ok);
  assert.equal(imageNameError('Nginx'), 'invalid reference format: repository name (library/Nginx) must be lowercase');
  assert.equal(imageNameError('acme/Web:1'), 'invalid reference format: repository name (acme/Web) must be lowercase');
  for (const bad of ['nginx:', 'a//b', 'x y', ':1', '']) assert.equal(imageNameError(bad), 'invalid reference format', bad);
  assert.equal(isImageReference('shop/web:*'), true, 'the catalogue takes every tag of a repository');
});
