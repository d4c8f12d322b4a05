// The informer reads a watch stream however the network cuts it: an event
// split across chunks, several in one chunk, CRLF line ends, a last event
// without a newline, an ERROR event. Served by a raw node:http server that
// writes the bytes exactly as given, as kube-apiserver's chunked responses
// may arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { Informer, KubeHttp, kindRef, type Change } from '../../src/kube/index.ts';

const cm = (name: string, rv: number, v = name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', resourceVersion: String(rv) }, data: { v } });
const line = (type: string, object: unknown) => JSON.stringify({ type, object });

/** An API server whose first watch writes `pieces` one by one (a pause between each) and ends; later watches stay open. */
async function server(pieces: string[]) {
  const watches: string[] = [];
  const open: ServerResponse[] = [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    res.setHeader('Content-Type', 'application/json');
    if (url.searchParams.get('watch') !== 'true') {
      res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [cm('listed', 5)] }));
      return;
    }
    watches.push(url.searchParams.get('resourceVersion') ?? '');
    res.writeHead(200);
    if (watches.length > 1) {
      open.push(res);
      return;
    }
    void (async () => {
      for (const p of pieces) {
        res.write(p);
        await new Promise((r) => setTimeout(r, 15));
      }
      res.end();
    })();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    http: new KubeHttp(kc),
    watches,
    close: () => {
      for (const r of open) r.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

async function until(cond: () => boolean, what: string, ms = 5000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('events split across chunks, several per chunk, CRLF ends and a last line without a newline are each handled once, in order', { timeout: 30_000 }, async () => {
  const a = line('ADDED', cm('a', 11));
  const b = line('MODIFIED', cm('listed', 12, 'changed'));
  const c = line('ADDED', cm('c', 13));
  const d = line('DELETED', cm('a', 14));
  const e = line('ADDED', cm('e', 15));
  const pieces = [
    a.slice(0, 20), // an event cut mid-JSON…
    `${a.slice(20)}\n${b.slice(0, b.length - 1)}`, // …finished, with the next one cut before its last byte
    `${b.slice(-1)}\r\n\n${c}\n${d}\n`, // CRLF, a blank line, two whole events in one chunk
    e, // the last event, with no newline before the stream ends
  ];
  const s = await server(pieces);
  const seen: Change[] = [];
  const inf = new Informer(s.http, kindRef('ConfigMap')!, { onChange: (ch) => seen.push(ch), initialBackoffMs: 10 }).start();
  try {
    await inf.synced;
    await until(() => seen.length === 6, 'six changes');
    assert.deepEqual(seen.map((ch) => `${ch.type} ${ch.object.metadata.name} ${ch.object.metadata.resourceVersion}`), ['ADDED listed 5', 'ADDED a 11', 'MODIFIED listed 12', 'ADDED c 13', 'DELETED a 14', 'ADDED e 15']);
    assert.equal(seen[2].oldObject?.data?.v, 'listed', 'the split event found its old object');
    assert.ok(seen.slice(1).every((ch) => typeof ch.seenAt === 'number'), 'watch events carry when they arrived');
    assert.equal(seen[0].seenAt, undefined, 'what the LIST found did not arrive on the watch');
    // The stream ended: the informer resumes from the last event's resourceVersion.
    await until(() => s.watches.length === 2, 'the resumed watch');
    assert.deepEqual(s.watches, ['10', '15']);
    assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['c', 'e', 'listed']);
  } finally {
    inf.stop();
    await s.close();
  }
});

test('an ERROR event ends the watch like kube-apiserver means it: 410 Gone relists', { timeout: 30_000 }, async () => {
  const gone = line('ERROR', { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version: 10 (20)', reason: 'Expired', code: 410 });
  const s = await server([`${line('ADDED', cm('a', 11))}\n${gone}\n${line('ADDED', cm('never', 12))}\n`]);
  const seen: Change[] = [];
  const inf = new Informer(s.http, kindRef('ConfigMap')!, { onChange: (ch) => seen.push(ch), initialBackoffMs: 10 }).start();
  try {
    await inf.synced;
    await until(() => inf.stats.relistsAfterGone === 1 && s.watches.length === 2, 'a relist after 410 and a new watch');
    assert.ok(!seen.some((ch) => ch.object.metadata.name === 'never'), 'nothing after the ERROR event is handled');
    // The relist found "a" gone (the LIST holds only "listed") and said so.
    assert.deepEqual(seen.map((ch) => `${ch.type} ${ch.object.metadata.name}`), ['ADDED listed', 'ADDED a', 'DELETED a']);
  } finally {
    inf.stop();
    await s.close();
  }
});
