// Continue tokens in the storage layer's format, and each way a token can be
// refused, worded as storage.DecodeContinue and the etcd3 store word it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeContinue, encodeContinue, reencode } from '../../src/sandbox/server/continue-token.ts';
import { ApiError } from '../../src/sandbox/status.ts';

const token = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const refusal = (s: string) => {
  try {
    decodeContinue(s);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail('accepted');
};

describe('continue tokens', () => {
  it('encode the list resourceVersion and the key after the last item, base64url without padding', () => {
    const t = encodeContinue(42, 'web-1');
    assert.doesNotMatch(t, /=/);
    assert.deepEqual(JSON.parse(Buffer.from(t, 'base64url').toString()), { v: 'meta.k8s.io/v1', rv: 42, start: 'web-1\u0000' });
    assert.deepEqual(decodeContinue(t), { rv: 42, start: 'web-1\u0000' });
  });

  it('an expired token is answered with one for the same place at rv -1', () => {
    const t = reencode(decodeContinue(encodeContinue(7, 'ns/a')), -1);
    assert.deepEqual(decodeContinue(t), { rv: -1, start: 'ns/a\u0000' });
  });

  it('refuses what the API server refuses, in its words', () => {
    assert.equal(refusal('abc!'), 'invalid continue token: continue key is not valid: illegal base64 data at input byte 3');
    assert.equal(refusal('abcde'), 'invalid continue token: continue key is not valid: illegal base64 data at input byte 4');
    assert.equal(refusal(token('{')), 'invalid continue token: continue key is not valid: unexpected end of JSON input');
    assert.equal(refusal(token('x')), "invalid continue token: continue key is not valid: invalid character 'x' looking for beginning of value");
    assert.equal(refusal(token({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' })), 'invalid continue token: continue key is not valid: server does not recognize this encoded version meta.k8s.io/v2');
    assert.equal(refusal(token({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' })), 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    assert.equal(refusal(token({ v: 'meta.k8s.io/v1', rv: 3, start: '' })), 'invalid continue token: continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
    assert.equal(refusal(token({ v: 'meta.k8s.io/v1', rv: '3', start: 'a' })), 'invalid continue token: continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64');
  });

  it('refuses a start key that climbs out of the listed prefix', () => {
    assert.equal(refusal(token({ v: 'meta.k8s.io/v1', rv: 3, start: '../kube-system/x' })), 'invalid continue token: continue key is not valid: ../kube-system/x');
    assert.equal(refusal(token({ v: 'meta.k8s.io/v1', rv: 3, start: 'a//b' })), 'invalid continue token: continue key is not valid: a//b');
    assert.deepEqual(decodeContinue(token({ v: 'meta.k8s.io/v1', rv: 3, start: 'a..b' })), { rv: 3, start: 'a..b' });
  });
});
